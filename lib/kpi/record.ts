import type { AuditField } from '#lib/kpi/audit.ts';

/** One workflow's KPIs for one ISO week (SPEC "KPIs"). Equal events always give an equal record. */
export interface KpiRecord {
  readonly workflowId: string;
  readonly week: string;
  readonly weekStart: string;
  readonly weekEnd: string;
  readonly throughput: number;
  readonly cycleTimeMedianSeconds: number | null;
  readonly cycleTimeP90Seconds: number | null;
  readonly reviewedUnits: number;
  readonly defectiveUnits: number;
  readonly defectRate: number | null;
  readonly escapedUnits: number;
  readonly escapeRate: number | null;
  readonly escalatedUnits: number;
  readonly escalationRate: number | null;
  readonly cost: { modelUsd: number; toolUsd: number; humanReviewUsd: number; totalUsd: number };
  readonly costPerUnitUsd: number | null;
  /** Models (`provider/name`) and tools used in the week that no price table prices; their cost is not in `cost`. */
  readonly unpriced: { models: string[]; tools: string[]; humanReview: boolean };
  readonly actions: number;
  readonly replayableActions: number;
  readonly auditCoverage: number | null;
  readonly missingFields: Record<AuditField, number>;
  readonly killSwitchViolations: number;
  /** Actions in the week that broke an autonomy-boundary rule (CANNOT, or a missing approval). */
  readonly boundaryViolations: number;
}
