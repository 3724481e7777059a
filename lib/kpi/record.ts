import { z } from 'zod';
import { AUDIT_FIELDS } from '#lib/kpi/audit.ts';

const count = z.number().int().nonnegative();
const rate = z.number().nullable();

/**
 * One workflow's KPIs for one ISO week (SPEC "KPIs"). Equal events always give an equal record. The
 * schema is the type, and it reads stored records: records are kept as JSON, some computed by an older
 * version of the job.
 */
export const kpiRecordSchema = z
  .object({
    workflowId: z.string(),
    week: z.string(),
    weekStart: z.string(),
    weekEnd: z.string(),
    throughput: count,
    cycleTimeMedianSeconds: z.number().nullable(),
    cycleTimeP90Seconds: z.number().nullable(),
    reviewedUnits: count,
    defectiveUnits: count,
    defectRate: rate,
    escapedUnits: count,
    escapeRate: rate,
    escalatedUnits: count,
    escalationRate: rate,
    cost: z.object({
      modelUsd: z.number(),
      toolUsd: z.number(),
      humanReviewUsd: z.number(),
      totalUsd: z.number(),
    }),
    costPerUnitUsd: z.number().nullable(),
    /** Models (`provider/name`) and tools used in the week that no price table prices; their cost is not in `cost`. */
    unpriced: z.object({ models: z.array(z.string()), tools: z.array(z.string()), humanReview: z.boolean() }),
    actions: count,
    replayableActions: count,
    auditCoverage: rate,
    missingFields: z.record(z.enum(AUDIT_FIELDS), count),
    killSwitchViolations: count,
    /**
     * Actions in the week that broke an autonomy-boundary rule (CANNOT, or a missing approval). null: the
     * record was computed before boundary checks existed, so the week's actions were never checked — not
     * "none broke a rule" (0), which a record that old cannot know.
     */
    boundaryViolations: count.nullable().default(null),
    // Issue 10 fields. Older records lack them: they read as 0, {}, [] and null (not judged).
    /** Units completed in the week with a defect found in review that did not escape (seed §8 "catches"). */
    catches: count.default(0),
    /** Catches per reviewer pseudonym; a unit two reviewers found a defect in counts for both. */
    catchesByReviewer: z.record(z.string(), count).default({}),
    /** Actions in the week calling a tool the workflow's boundary neither allows nor forbids. */
    unlistedToolActions: count.default(0),
    /** Those tools' names, sorted. */
    unlistedTools: z.array(z.string()).default([]),
    /**
     * Whether an eval is due (lib/evals/due.ts), as of when the record was computed: it reads the eval
     * runs recorded by then, so a run on the new versions clears it at the next KPI run. null: not judged.
     */
    evalDue: z
      .object({ due: z.boolean(), reasons: z.array(z.string()), lastRunAt: z.string().nullable() })
      .nullable()
      .default(null),
  })
  .readonly();
export type KpiRecord = z.infer<typeof kpiRecordSchema>;
