import type { KpiRecord } from '#lib/kpi/record.ts';
import { shiftWeek, weekBounds } from '#lib/kpi/weeks.ts';
import type { Lane, Workflow } from '#lib/registry/workflows.ts';
import type {
  BoundaryRuleCount,
  FailureCount,
  RolloutPhaseCount,
  WeekActivity,
} from '#lib/reports/agent-ops-review/tally.ts';
import {
  boundaryViolationsOf,
  byString,
  median,
  round6,
  summariseWorkflow,
  type WorkflowSummary,
} from '#lib/reports/common.ts';
import { weeksEndingWith } from '#lib/reports/periods.ts';

/**
 * The weekly Agent Ops Review: each workflow's KPIs with their change on the week before, cost per unit
 * and defect rate over the last 12 weeks, the week's five most frequent failures, cost spikes,
 * kill-switch, boundary and rollout-phase violations, the shadow-lane (onboarding) reviews, with room for
 * the action items the review agrees on. The model, from the KPI records and the tallies of ./tally.ts;
 * rendered by ./render.ts.
 */

export const CHART_WEEKS = 12;
export const TOP_FAILURES = 5;
/** A workflow-week is a cost spike when its cost per unit is more than this × the median of the weeks before. */
export const SPIKE_FACTOR = 1.5;
export const SPIKE_BASELINE_WEEKS = 4;
/** Of those weeks, at least this many need a cost per unit, or there is no baseline to compare with. */
export const SPIKE_MIN_BASELINE_WEEKS = 2;
/** The KPI records the report needs: the chart's weeks and the baseline weeks before the first of them. */
export const RECORD_WEEKS = CHART_WEEKS + SPIKE_BASELINE_WEEKS;

// ---- failures ----

export interface RankedFailure extends FailureCount {
  readonly rank: number;
  /** How the review names it: `review defect: wrong-priority`, `refund failed (TIMEOUT)`. */
  readonly label: string;
}

export function failureLabel(failure: Omit<FailureCount, 'count' | 'workflowId'>): string {
  return failure.kind === 'defect'
    ? `review defect: ${failure.category ?? '(no category given)'}`
    : `${failure.tool ?? '(unnamed tool)'} failed (${failure.errorCode ?? 'no error code'})`;
}

/** The most frequent failures, most first; ties by workflow, then defects before tool failures, then label. */
export function topFailures(failures: readonly FailureCount[], limit = TOP_FAILURES): RankedFailure[] {
  return failures
    .filter((failure) => failure.count > 0)
    .map((failure) => ({ ...failure, label: failureLabel(failure) }))
    .sort(
      (a, b) =>
        b.count - a.count ||
        byString(a.workflowId, b.workflowId) ||
        byString(a.kind, b.kind) ||
        byString(a.label, b.label),
    )
    .slice(0, limit)
    .map((failure, i) => ({ rank: i + 1, ...failure }));
}

// ---- shadow-lane (onboarding) reviews ----

/** A shadow-lane candidate as its whole history shows it. */
export interface ShadowUnit {
  readonly unitId: string;
  /** From all its actions: only `shadow` units are counted. */
  readonly lane: Lane | null;
  /** In the workflow's review sample (lib/reviews/sampling.ts): queued for review when it completed. */
  readonly sampled: boolean;
  readonly verdicts: readonly ('pass' | 'defect')[];
}

export interface ShadowReviewSummary {
  readonly workflowId: string;
  /** Shadow-lane units completed in the week. */
  readonly units: number;
  /** Of them, in the review sample. */
  readonly sampled: number;
  /** Of them, with at least one review verdict (sampled or not). */
  readonly reviewed: number;
  /** Of the reviewed, with at least one `defect` verdict. */
  readonly defective: number;
  /** defective ÷ reviewed; null when none was reviewed. */
  readonly defectRate: number | null;
  /** Sampled and not reviewed yet: what `GET …/reviews?status=pending&lane=shadow` lists of them. */
  readonly pending: number;
}

export function summariseShadowReviews(
  workflowId: string,
  units: readonly ShadowUnit[],
): ShadowReviewSummary {
  const shadow = units.filter((unit) => unit.lane === 'shadow');
  const reviewed = shadow.filter((unit) => unit.verdicts.length > 0);
  const defective = reviewed.filter((unit) => unit.verdicts.includes('defect')).length;
  return {
    workflowId,
    units: shadow.length,
    sampled: shadow.filter((unit) => unit.sampled).length,
    reviewed: reviewed.length,
    defective,
    defectRate: reviewed.length === 0 ? null : round6(defective / reviewed.length),
    pending: shadow.filter((unit) => unit.sampled && unit.verdicts.length === 0).length,
  };
}

// ---- series and spikes ----

export interface SeriesPoint {
  readonly week: string;
  /** null when the week has no KPI record, or the record has no value (no units, none reviewed). */
  readonly value: number | null;
  /** Whether a KPI record exists for the week: a gap with `recorded: false` was never computed. */
  readonly recorded: boolean;
}

export function seriesOf(
  weeks: readonly string[],
  records: ReadonlyMap<string, KpiRecord>,
  value: (record: KpiRecord) => number | null,
): SeriesPoint[] {
  return weeks.map((week) => {
    const record = records.get(week);
    return { week, value: record ? value(record) : null, recorded: record !== undefined };
  });
}

export interface CostSpike {
  readonly workflowId: string;
  readonly week: string;
  readonly costPerUnitUsd: number;
  /** The median cost per unit of the baseline weeks. */
  readonly baselineMedianUsd: number;
  /** The weeks (of the 4 before) that had a cost per unit. */
  readonly baselineWeeks: string[];
  /** costPerUnit ÷ median; null when the median is 0 (any cost is then a spike). */
  readonly ratio: number | null;
  /** The spike is in the reviewed week itself. */
  readonly thisWeek: boolean;
}

/**
 * Workflow-weeks of `weeks` whose cost per unit is more than 1.5× the median cost per unit of the 4 weeks
 * before; weeks without a cost per unit are left out of the median, and at least 2 of the 4 must have one.
 * `series` runs oldest first and must include the 4 weeks before the first of `weeks`.
 */
export function detectCostSpikes(
  workflowId: string,
  series: readonly SeriesPoint[],
  weeks: readonly string[],
  reviewedWeek: string,
): CostSpike[] {
  const spikes: CostSpike[] = [];
  series.forEach((point, i) => {
    if (point.value === null || !weeks.includes(point.week)) return;
    const baseline = series
      .slice(Math.max(0, i - SPIKE_BASELINE_WEEKS), i)
      .filter((p): p is SeriesPoint & { value: number } => p.value !== null);
    if (baseline.length < SPIKE_MIN_BASELINE_WEEKS) return;
    const middle = median(baseline.map((p) => p.value)) as number;
    if (!(point.value > SPIKE_FACTOR * middle)) return;
    spikes.push({
      workflowId,
      week: point.week,
      costPerUnitUsd: point.value,
      baselineMedianUsd: round6(middle),
      baselineWeeks: baseline.map((p) => p.week),
      ratio: middle === 0 ? null : round6(point.value / middle),
      thisWeek: point.week === reviewedWeek,
    });
  });
  return spikes;
}

// ---- KPIs with week-over-week change ----

export type MetricFormat = 'count' | 'rate' | 'usd' | 'seconds';

interface MetricDefinition {
  readonly metric: string;
  readonly label: string;
  readonly format: MetricFormat;
  /** Which way is good; null when neither is (total cost grows with volume). */
  readonly better: 'higher' | 'lower' | null;
  /** null when the record has no value; undefined when the record does not track it at all. */
  readonly value: (record: KpiRecord) => number | null | undefined;
}

/** The record's own figures, by name. */
type RecordFigure = {
  [K in keyof KpiRecord]: KpiRecord[K] extends number | null ? K : never;
}[keyof KpiRecord];

/** A KPI as the record holds it, under its own name. */
function recorded(
  metric: RecordFigure,
  label: string,
  format: MetricFormat,
  better: MetricDefinition['better'],
): MetricDefinition {
  return { metric, label, format, better, value: (record) => record[metric] };
}

/** The KPIs the review compares, in its order. */
const METRICS: readonly MetricDefinition[] = [
  recorded('throughput', 'Throughput (units completed)', 'count', 'higher'),
  recorded('cycleTimeMedianSeconds', 'Cycle time, median', 'seconds', 'lower'),
  recorded('cycleTimeP90Seconds', 'Cycle time, p90', 'seconds', 'lower'),
  recorded('reviewedUnits', 'Units reviewed', 'count', null),
  recorded('defectRate', 'Defect rate', 'rate', 'lower'),
  recorded('escapeRate', 'Escape rate (defects that reached a customer)', 'rate', 'lower'),
  recorded('escalationRate', 'Escalation rate', 'rate', 'lower'),
  {
    metric: 'costTotalUsd',
    label: 'Cost, total',
    format: 'usd',
    better: null,
    value: (r) => r.cost.totalUsd,
  },
  recorded('costPerUnitUsd', 'Cost per unit', 'usd', 'lower'),
  recorded('auditCoverage', 'Audit coverage (replayable actions)', 'rate', 'higher'),
  recorded('killSwitchViolations', 'Kill-switch violations', 'count', 'lower'),
  // Not tracked by a record computed before boundary checks existed.
  { ...recorded('boundaryViolations', 'Boundary violations', 'count', 'lower'), value: boundaryViolationsOf },
];

export interface KpiChange {
  readonly metric: string;
  readonly label: string;
  readonly format: MetricFormat;
  readonly better: 'higher' | 'lower' | null;
  readonly current: number | null;
  readonly previous: number | null;
  /** current − previous (for rates, a fraction: 0.05 is 5 percentage points); null without both. */
  readonly change: number | null;
  /** change ÷ previous; null without both or when previous is 0. Not given for rates. */
  readonly relativeChange: number | null;
  readonly trend: 'better' | 'worse' | 'unchanged' | null;
  /** false when the record does not track this KPI (computed before it existed). */
  readonly tracked: boolean;
}

export function kpiChanges(current: KpiRecord | undefined, previous: KpiRecord | undefined): KpiChange[] {
  return METRICS.map((definition) => {
    const now = current ? definition.value(current) : null;
    const before = previous ? definition.value(previous) : null;
    const cur = now ?? null;
    const prev = before ?? null;
    const change = cur !== null && prev !== null ? round6(cur - prev) : null;
    const relativeChange =
      change !== null && prev !== null && prev !== 0 && definition.format !== 'rate'
        ? round6(change / prev)
        : null;
    let trend: KpiChange['trend'] = null;
    if (change !== null && definition.better !== null) {
      trend =
        change === 0 ? 'unchanged' : change > 0 === (definition.better === 'higher') ? 'better' : 'worse';
    }
    return {
      metric: definition.metric,
      label: definition.label,
      format: definition.format,
      better: definition.better,
      current: cur,
      previous: prev,
      change,
      relativeChange,
      trend,
      tracked: current === undefined || now !== undefined,
    };
  });
}

// ---- the review ----

export interface WorkflowWeek extends WorkflowSummary {
  /** Whether the week (and the week before) has a KPI record: if not, run the KPI job for it. */
  readonly recorded: boolean;
  readonly previousRecorded: boolean;
  readonly kpis: KpiChange[];
  /** Models and tools the week used that no price table prices: their cost is missing from the figures. */
  readonly unpriced: KpiRecord['unpriced'] | null;
  readonly charts: { readonly costPerUnitUsd: SeriesPoint[]; readonly defectRate: SeriesPoint[] };
}

export interface ViolationSummary {
  readonly workflowId: string;
  /** null when the week has no KPI record. */
  readonly killSwitchViolations: number | null;
  /** null when not tracked: no record, or a record computed before boundary checks existed. */
  readonly boundaryViolations: number | null;
  readonly boundaryTracked: boolean;
  /** The rules broken in the week, most broken first (from the events' recorded violations). */
  readonly byRule: BoundaryRuleCount[];
  /** Actions in the week in a lane their workflow's rollout phase had not opened (from the events). */
  readonly rolloutPhaseViolations: number;
  /** Those by phase and lane, most first. */
  readonly byPhase: RolloutPhaseCount[];
}

// --- operating model (issue 10): evals due, catches, unlisted tools ---

/** One workflow's week as the operating model asks: is an eval due, what was caught, what policy is unwritten. */
export interface OperatingModelSummary {
  readonly workflowId: string;
  /** null when the week has no KPI record (run the KPI job for it). */
  readonly evalDue: KpiRecord['evalDue'];
  readonly catches: number | null;
  readonly escapedUnits: number | null;
  /** Catches by reviewer pseudonym, most first. */
  readonly catchesByReviewer: { readonly reviewer: string; readonly catches: number }[];
  readonly unlistedToolActions: number | null;
  readonly unlistedTools: string[];
}

export function summariseOperatingModel(
  workflowId: string,
  record: KpiRecord | undefined,
): OperatingModelSummary {
  return {
    workflowId,
    evalDue: record?.evalDue ?? null,
    catches: record ? record.catches : null,
    escapedUnits: record ? record.escapedUnits : null,
    catchesByReviewer: Object.entries(record?.catchesByReviewer ?? {})
      .map(([reviewer, catches]) => ({ reviewer, catches }))
      .sort((a, b) => b.catches - a.catches || byString(a.reviewer, b.reviewer)),
    unlistedToolActions: record ? record.unlistedToolActions : null,
    unlistedTools: record ? [...record.unlistedTools] : [],
  };
}

export interface ActionItem {
  readonly action: string;
  readonly owner: string;
  readonly due: string;
}

export interface AgentOpsReview {
  readonly report: 'agent-ops-review';
  readonly schemaVersion: 1;
  readonly week: string;
  readonly weekStart: string;
  readonly weekEnd: string;
  readonly previousWeek: string;
  readonly generatedAt: string;
  /** The weeks the charts cover, oldest first, ending with `week`. */
  readonly chartWeeks: string[];
  readonly workflows: WorkflowWeek[];
  readonly topFailures: RankedFailure[];
  readonly costSpikes: CostSpike[];
  readonly violations: ViolationSummary[];
  /** Per workflow: the week's shadow-lane units and their reviews (onboarding), apart from the KPIs. */
  readonly shadowReviews: ShadowReviewSummary[];
  readonly operatingModel: OperatingModelSummary[];
  /** Empty when written: the review fills them in (the HTML leaves blank rows for them). */
  readonly actionItems: ActionItem[];
}

export interface AgentOpsReviewInput {
  readonly week: string;
  readonly generatedAt: string;
  readonly workflows: readonly Workflow[];
  /** KPI records of the workflows, for the 16 weeks ending with `week` (missing weeks simply absent). */
  readonly records: readonly KpiRecord[];
  /** The week's tallies, one per workflow. */
  readonly activity: readonly WeekActivity[];
  /** The week's shadow-lane reviews per workflow; a workflow left out had no shadow-lane units. */
  readonly shadowReviews?: readonly ShadowReviewSummary[];
}

export function buildAgentOpsReview(input: AgentOpsReviewInput): AgentOpsReview {
  const { week } = input;
  const { startMs, endMs } = weekBounds(week);
  const allWeeks = weeksEndingWith(week, RECORD_WEEKS);
  const chartWeeks = allWeeks.slice(-CHART_WEEKS);
  const previousWeek = shiftWeek(week, -1);
  const byWorkflow = new Map<string, Map<string, KpiRecord>>();
  for (const record of input.records) {
    const weeks = byWorkflow.get(record.workflowId) ?? new Map<string, KpiRecord>();
    weeks.set(record.week, record);
    byWorkflow.set(record.workflowId, weeks);
  }
  const activity = new Map(input.activity.map((tally) => [tally.workflowId, tally]));

  const workflows: WorkflowWeek[] = [];
  const costSpikes: CostSpike[] = [];
  const violations: ViolationSummary[] = [];
  const shadowReviews: ShadowReviewSummary[] = [];
  const operatingModel: OperatingModelSummary[] = [];
  const failures: FailureCount[] = [];
  for (const workflow of input.workflows) {
    const records = byWorkflow.get(workflow.workflowId) ?? new Map<string, KpiRecord>();
    const current = records.get(week);
    const previous = records.get(previousWeek);
    const costSeries = seriesOf(allWeeks, records, (r) => r.costPerUnitUsd);
    workflows.push({
      ...summariseWorkflow(workflow),
      recorded: current !== undefined,
      previousRecorded: previous !== undefined,
      kpis: kpiChanges(current, previous),
      unpriced: current ? current.unpriced : null,
      charts: {
        costPerUnitUsd: costSeries.slice(-CHART_WEEKS),
        defectRate: seriesOf(chartWeeks, records, (r) => r.defectRate),
      },
    });
    costSpikes.push(...detectCostSpikes(workflow.workflowId, costSeries, chartWeeks, week));
    const tally = activity.get(workflow.workflowId);
    failures.push(...(tally?.failures() ?? []));
    const boundary = current ? boundaryViolationsOf(current) : undefined;
    violations.push({
      workflowId: workflow.workflowId,
      killSwitchViolations: current ? current.killSwitchViolations : null,
      boundaryViolations: boundary ?? null,
      boundaryTracked: boundary !== undefined,
      byRule: (tally?.boundaryViolations() ?? []).sort(
        (a, b) =>
          b.count - a.count ||
          byString(a.ruleId, b.ruleId) ||
          byString(a.kind, b.kind) ||
          byString(a.tool, b.tool),
      ),
      rolloutPhaseViolations: (tally?.rolloutPhaseViolations() ?? []).reduce((sum, c) => sum + c.count, 0),
      byPhase: (tally?.rolloutPhaseViolations() ?? []).sort(
        (a, b) => b.count - a.count || byString(a.phase, b.phase) || byString(a.lane, b.lane),
      ),
    });
    operatingModel.push(summariseOperatingModel(workflow.workflowId, current));
    shadowReviews.push(
      input.shadowReviews?.find((summary) => summary.workflowId === workflow.workflowId) ??
        summariseShadowReviews(workflow.workflowId, []),
    );
  }
  costSpikes.sort(
    (a, b) =>
      byString(b.week, a.week) ||
      (b.ratio ?? Infinity) - (a.ratio ?? Infinity) ||
      byString(a.workflowId, b.workflowId),
  );
  return {
    report: 'agent-ops-review',
    schemaVersion: 1,
    week,
    weekStart: new Date(startMs).toISOString(),
    weekEnd: new Date(endMs).toISOString(),
    previousWeek,
    generatedAt: input.generatedAt,
    chartWeeks,
    workflows,
    topFailures: topFailures(failures),
    costSpikes,
    violations,
    shadowReviews,
    operatingModel,
    actionItems: [],
  };
}
