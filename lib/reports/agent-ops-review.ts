import type { KpiRecord } from '#lib/kpi/record.ts';
import { shiftWeek, weekBounds } from '#lib/kpi/weeks.ts';
import type { RecordedBoundaryViolation, StoredEvent } from '#lib/ports.ts';
import type { Lane, Workflow } from '#lib/registry/workflows.ts';
import { byString, median, round6, summariseWorkflow, type WorkflowSummary } from '#lib/reports/common.ts';
import {
  badge,
  type ChartPoint,
  formatCount,
  formatRate,
  formatSeconds,
  formatUsd,
  type Html,
  html,
  lineChart,
  note,
  page,
  table,
} from '#lib/reports/html.ts';
import { weeksEndingWith } from '#lib/reports/periods.ts';
import { moreTrustedLane } from '#lib/reviews/lane.ts';

/**
 * The weekly Agent Ops Review: each workflow's KPIs with their change on the week before, cost per unit
 * and defect rate over the last 12 weeks, the week's five most frequent failures, cost spikes,
 * kill-switch, boundary and rollout-phase violations, the shadow-lane (onboarding) reviews, with room for
 * the action items the review agrees on.
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

// ---- the week's failures and boundary violations, tallied from its events ----

export type FailureKind = 'defect' | 'tool';

export interface FailureCount {
  readonly workflowId: string;
  readonly kind: FailureKind;
  /** `review.verdict` defects: the verdict's category; null when the reviewer gave none. */
  readonly category: string | null;
  /** Failing tool calls: the tool's name and the call's errorCode (null when it gave none). */
  readonly tool: string | null;
  readonly errorCode: string | null;
  readonly count: number;
}

export interface BoundaryRuleCount {
  readonly workflowId: string;
  readonly kind: RecordedBoundaryViolation['kind'];
  readonly ruleId: string;
  readonly tool: string;
  /** Tool calls that broke the rule. */
  readonly count: number;
}

export interface RolloutPhaseCount {
  readonly workflowId: string;
  /** The workflow's phase when the action was ingested. */
  readonly phase: string;
  /** The lane the action ran in, which that phase had not opened. */
  readonly lane: string;
  readonly count: number;
}

/**
 * Tallies one workflow's events that occurred in the week: defect verdicts by category, failing tool
 * calls by tool and error code, the boundary rules actions broke and the actions in a lane their rollout
 * phase had not opened (both as recorded at ingest). Pure.
 */
export class WeekActivity {
  readonly #failures = new Map<string, FailureCount & { count: number }>();
  readonly #boundary = new Map<string, BoundaryRuleCount & { count: number }>();
  readonly #rolloutPhase = new Map<string, RolloutPhaseCount & { count: number }>();

  constructor(readonly workflowId: string) {}

  add(stored: Pick<StoredEvent, 'event' | 'boundaryViolations' | 'rolloutPhaseViolation'>): void {
    const { event } = stored;
    if (event.type === 'review.verdict' && event.verdict === 'defect') {
      this.#countFailure({ kind: 'defect', category: event.category ?? null, tool: null, errorCode: null });
    } else if (event.type === 'action') {
      for (const call of event.toolCalls ?? []) {
        if (call.outcome !== 'failure') continue;
        this.#countFailure({
          kind: 'tool',
          category: null,
          tool: call.name,
          errorCode: call.errorCode ?? null,
        });
      }
      for (const violation of stored.boundaryViolations ?? []) {
        const key = JSON.stringify([violation.kind, violation.ruleId, violation.tool]);
        const entry = this.#boundary.get(key) ?? { workflowId: this.workflowId, ...violation, count: 0 };
        entry.count++;
        this.#boundary.set(key, entry);
      }
      const early = stored.rolloutPhaseViolation;
      if (early) {
        const key = JSON.stringify([early.phase, early.lane]);
        const entry = this.#rolloutPhase.get(key) ?? {
          workflowId: this.workflowId,
          phase: early.phase,
          lane: early.lane,
          count: 0,
        };
        entry.count++;
        this.#rolloutPhase.set(key, entry);
      }
    }
  }

  failures(): FailureCount[] {
    return [...this.#failures.values()].map((entry) => ({ ...entry }));
  }

  boundaryViolations(): BoundaryRuleCount[] {
    return [...this.#boundary.values()].map((entry) => ({ ...entry }));
  }

  rolloutPhaseViolations(): RolloutPhaseCount[] {
    return [...this.#rolloutPhase.values()].map((entry) => ({ ...entry }));
  }

  #countFailure(failure: Omit<FailureCount, 'workflowId' | 'count'>): void {
    const key = JSON.stringify([failure.kind, failure.category, failure.tool, failure.errorCode]);
    const entry = this.#failures.get(key) ?? { workflowId: this.workflowId, ...failure, count: 0 };
    entry.count++;
    this.#failures.set(key, entry);
  }
}

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

/**
 * Finds one workflow's shadow-lane units completed in the week, from the events the reports job reads in
 * its one pass (the quarter up to the week's end): units completed in the week whose actions all ran in
 * the shadow lane, as far as the pass saw them. The job then reads each candidate's whole history to
 * confirm its lane and find its verdicts, however late they came. Lanes as the review queue judges them
 * (lib/reviews/lane.ts): a mixed unit goes by its most trusted lane, so it is not a shadow unit.
 */
export class ShadowUnitFinder {
  /** Per unit with an action naming a lane: the most trusted lane so far (a constant: small per unit). */
  readonly #lanes = new Map<string, Lane>();
  readonly #completed = new Set<string>();

  constructor(
    readonly workflowId: string,
    private readonly week: { readonly startMs: number; readonly endMs: number },
  ) {}

  add(stored: Pick<StoredEvent, 'event' | 'occurredAtMs'>): void {
    const { event } = stored;
    if (event.type === 'action') {
      const lane = moreTrustedLane(this.#lanes.get(event.unitId), event.lane);
      if (lane !== undefined) this.#lanes.set(event.unitId, lane);
    } else if (
      event.type === 'unit.completed' &&
      stored.occurredAtMs >= this.week.startMs &&
      stored.occurredAtMs < this.week.endMs
    ) {
      this.#completed.add(event.unitId);
    }
  }

  /** The units completed in the week whose actions seen so far all ran in the shadow lane, sorted. */
  candidates(): string[] {
    return [...this.#completed].filter((unitId) => this.#lanes.get(unitId) === 'shadow').sort(byString);
  }
}

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

const METRICS: readonly MetricDefinition[] = [
  {
    metric: 'throughput',
    label: 'Throughput (units completed)',
    format: 'count',
    better: 'higher',
    value: (r) => r.throughput,
  },
  {
    metric: 'cycleTimeMedianSeconds',
    label: 'Cycle time, median',
    format: 'seconds',
    better: 'lower',
    value: (r) => r.cycleTimeMedianSeconds,
  },
  {
    metric: 'cycleTimeP90Seconds',
    label: 'Cycle time, p90',
    format: 'seconds',
    better: 'lower',
    value: (r) => r.cycleTimeP90Seconds,
  },
  {
    metric: 'reviewedUnits',
    label: 'Units reviewed',
    format: 'count',
    better: null,
    value: (r) => r.reviewedUnits,
  },
  { metric: 'defectRate', label: 'Defect rate', format: 'rate', better: 'lower', value: (r) => r.defectRate },
  {
    metric: 'escapeRate',
    label: 'Escape rate (defects that reached a customer)',
    format: 'rate',
    better: 'lower',
    value: (r) => r.escapeRate,
  },
  {
    metric: 'escalationRate',
    label: 'Escalation rate',
    format: 'rate',
    better: 'lower',
    value: (r) => r.escalationRate,
  },
  {
    metric: 'costTotalUsd',
    label: 'Cost, total',
    format: 'usd',
    better: null,
    value: (r) => r.cost.totalUsd,
  },
  {
    metric: 'costPerUnitUsd',
    label: 'Cost per unit',
    format: 'usd',
    better: 'lower',
    value: (r) => r.costPerUnitUsd,
  },
  {
    metric: 'auditCoverage',
    label: 'Audit coverage (replayable actions)',
    format: 'rate',
    better: 'higher',
    value: (r) => r.auditCoverage,
  },
  {
    metric: 'killSwitchViolations',
    label: 'Kill-switch violations',
    format: 'count',
    better: 'lower',
    value: (r) => r.killSwitchViolations,
  },
  {
    metric: 'boundaryViolations',
    label: 'Boundary violations',
    format: 'count',
    better: 'lower',
    value: boundaryViolationsOf,
  },
];

/** A record computed before boundary checks existed has no count: undefined, shown as "not tracked". */
export function boundaryViolationsOf(record: KpiRecord): number | undefined {
  const value = (record as Partial<KpiRecord>).boundaryViolations;
  return typeof value === 'number' ? value : undefined;
}

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

// ---- the model ----

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
    actionItems: [],
  };
}

// ---- the HTML ----

export function formatMetric(format: MetricFormat, value: number | null): string {
  switch (format) {
    case 'count':
      return formatCount(value);
    case 'rate':
      return formatRate(value);
    case 'usd':
      return formatUsd(value);
    case 'seconds':
      return formatSeconds(value);
  }
}

function formatChange(kpi: KpiChange): Html | string {
  if (!kpi.tracked) return 'not tracked';
  if (kpi.change === null) return '—';
  const sign = kpi.change > 0 ? '+' : kpi.change < 0 ? '−' : '±';
  const magnitude = Math.abs(kpi.change);
  let text: string;
  if (kpi.format === 'rate') text = `${sign}${(magnitude * 100).toFixed(1)} pp`;
  else {
    const absolute =
      kpi.format === 'seconds'
        ? formatSeconds(magnitude)
        : kpi.format === 'usd'
          ? formatUsd(magnitude)
          : formatCount(magnitude);
    const relative =
      kpi.relativeChange === null ? '' : ` (${sign}${Math.abs(kpi.relativeChange * 100).toFixed(1)}%)`;
    text = `${sign}${absolute}${relative}`;
  }
  return kpi.trend === 'better' || kpi.trend === 'worse'
    ? html`<span class="${kpi.trend}">${text}</span>`
    : text;
}

const shortWeek = (week: string) => week.slice(5);

function chartPoints(series: readonly SeriesPoint[], what: string): ChartPoint[] {
  return series.map((point) => ({
    label: point.week,
    axisLabel: shortWeek(point.week),
    value: point.value,
    gapReason: point.recorded ? `no ${what} (no units)` : 'no KPI record for this week',
  }));
}

function workflowSection(workflow: WorkflowWeek, model: AgentOpsReview): Html {
  const missing =
    !workflow.recorded &&
    note(
      html`No KPI record for ${model.week}: run <code>agent-ledger jobs kpi --week ${model.week}</code>, then these reports again.`,
      'bad',
    );
  const unpriced = workflow.unpriced;
  const unpricedList = unpriced
    ? [...unpriced.models, ...unpriced.tools, ...(unpriced.humanReview ? ['human review'] : [])]
    : [];
  return html`<section>
<h2>${workflow.workflowId} <span class="muted">· unit: ${workflow.unitOfValue} · owner: ${workflow.owner} · phase: ${workflow.rolloutPhase}</span></h2>
${missing}
${unpricedList.length > 0 && note(html`Unpriced this week (their cost is not in the figures): ${unpricedList.join(', ')}. Import a price table with <code>agent-ledger prices import</code>.`, 'bad')}
${table(
  ['KPI', model.previousWeek, model.week, 'Change'],
  workflow.kpis.map((kpi) => [
    kpi.label,
    formatMetric(kpi.format, kpi.previous),
    kpi.tracked ? formatMetric(kpi.format, kpi.current) : 'not tracked',
    formatChange(kpi),
  ]),
  [1, 2, 3],
)}
<div class="charts">
<figure><figcaption>Cost per unit, last ${model.chartWeeks.length} weeks</figcaption>
${lineChart({ title: `${workflow.workflowId}: cost per unit`, points: chartPoints(workflow.charts.costPerUnitUsd, 'cost per unit'), format: (v) => formatUsd(v) })}
</figure>
<figure><figcaption>Defect rate, last ${model.chartWeeks.length} weeks</figcaption>
${lineChart({ title: `${workflow.workflowId}: defect rate`, points: chartPoints(workflow.charts.defectRate, 'defect rate'), format: (v) => formatRate(v), maxValue: niceRateTop(workflow.charts.defectRate) })}
</figure>
</div>
<p class="muted">Dashed rules mark weeks without a value: no KPI record, or no units to divide by. They are gaps, not zeros.</p>
</section>`;
}

/** Defect rates read best on an axis a little above their maximum, never above 100%. */
function niceRateTop(series: readonly SeriesPoint[]): number {
  const max = Math.max(0, ...series.map((point) => point.value ?? 0));
  if (max === 0) return 0.1;
  return Math.min(1, Math.ceil((max * 1.1) / 0.05) * 0.05);
}

export function renderAgentOpsReview(model: AgentOpsReview): string {
  const failures =
    model.topFailures.length === 0
      ? note('No defect verdicts and no failing tool calls occurred this week.')
      : table(
          ['#', 'Workflow', 'Failure', 'Kind', 'Count'],
          model.topFailures.map((failure) => [
            failure.rank,
            failure.workflowId,
            failure.label,
            failure.kind === 'defect' ? 'review verdict' : 'tool call',
            failure.count,
          ]),
          [0, 4],
        );
  const spikes =
    model.costSpikes.length === 0
      ? note(
          `No cost spikes in the last ${model.chartWeeks.length} weeks (none above ${SPIKE_FACTOR}× the median of the ${SPIKE_BASELINE_WEEKS} weeks before).`,
        )
      : table(
          [
            'Workflow',
            'Week',
            'Cost per unit',
            `Median of the ${SPIKE_BASELINE_WEEKS} weeks before`,
            'Ratio',
            '',
          ],
          model.costSpikes.map((spike) => [
            spike.workflowId,
            spike.week,
            formatUsd(spike.costPerUnitUsd),
            `${formatUsd(spike.baselineMedianUsd)} (${spike.baselineWeeks.length} weeks)`,
            spike.ratio === null ? 'from $0' : `${spike.ratio.toFixed(2)}×`,
            spike.thisWeek ? badge('this week', 'bad') : '',
          ]),
          [2, 3, 4],
        );
  const violations = table(
    [
      'Workflow',
      'Kill-switch violations',
      'Boundary violations',
      'Rules broken (tool calls)',
      'Rollout-phase violations',
    ],
    model.violations.map((row) => [
      row.workflowId,
      row.killSwitchViolations === null ? 'no KPI record' : violationCell(row.killSwitchViolations),
      row.boundaryTracked ? violationCell(row.boundaryViolations ?? 0) : 'not tracked',
      row.byRule.length === 0
        ? '—'
        : html`${row.byRule.map(
            (rule, i) =>
              html`${i > 0 && ', '}<code>${rule.ruleId}</code> (${BOUNDARY_KIND_LABEL[rule.kind] ?? rule.kind}, ${rule.tool}) × ${rule.count}`,
          )}`,
      row.rolloutPhaseViolations === 0
        ? '0'
        : html`${violationCell(row.rolloutPhaseViolations)}: ${row.byPhase.map(
            (entry, i) => html`${i > 0 && ', '}${entry.lane} lane in phase ${entry.phase} × ${entry.count}`,
          )}`,
    ]),
    [1, 2],
  );
  const shadowed = model.shadowReviews.filter((row) => row.units > 0);
  const shadow =
    shadowed.length === 0
      ? note('No shadow-lane units completed this week.')
      : table(
          [
            'Workflow',
            'Shadow-lane units completed',
            'In the review sample',
            'Reviewed',
            'Defects',
            'Defect rate',
            'Awaiting review',
          ],
          shadowed.map((row) => [
            row.workflowId,
            row.units,
            row.sampled,
            row.reviewed,
            row.defective,
            formatRate(row.defectRate),
            row.pending > 0 ? badge(String(row.pending), 'warn') : '0',
          ]),
          [1, 2, 3, 4, 5, 6],
        );
  const body = html`${note(
    html`Week ${model.week}: ${model.weekStart} to ${model.weekEnd} (UTC). Changes are against ${model.previousWeek}; rates change in percentage points (pp). Green is better, red is worse.`,
  )}
${model.workflows.map((workflow) => workflowSection(workflow, model))}
<section>
<h2>Top ${TOP_FAILURES} failures this week</h2>
<p class="muted">Defect verdicts by category and failing tool calls by tool and error code, among events that occurred in the week.</p>
${failures}
</section>
<section>
<h2>Cost spikes</h2>
<p class="muted">Workflow-weeks whose cost per unit is more than ${SPIKE_FACTOR}× the median of the ${SPIKE_BASELINE_WEEKS} weeks before (at least ${SPIKE_MIN_BASELINE_WEEKS} of them with a value).</p>
${spikes}
</section>
<section>
<h2>Kill-switch, boundary and rollout-phase violations</h2>
<p class="muted">Kill-switch violations: autonomous actions taken while the lane was off. Boundary violations: actions that broke a CANNOT rule, lacked a required approval, or were approved by someone not listed for the approver role. Rollout-phase violations: actions in a lane the workflow's rollout phase had not opened (baseline opens only shadow; hitl and evals add hitl; autonomous opens all three).</p>
${violations}
</section>
<section>
<h2>Shadow-lane reviews (onboarding)</h2>
<p class="muted">Units completed this week whose actions all ran in the shadow lane (output not shipped), reviewed the same way as shipped work; apart from the KPIs above, which count every unit. A unit with any hitl or autonomous action counts in its shipped lane instead. Awaiting review: sampled and without a verdict yet (<code>GET /v1/workflows/{id}/reviews?status=pending&amp;lane=shadow</code>).</p>
${shadow}
</section>
<section>
<h2>Action items</h2>
<p class="muted">Agreed in the review: what, who, by when.</p>
${
  model.actionItems.length > 0
    ? table(
        ['Action', 'Owner', 'Due'],
        model.actionItems.map((item) => [item.action, item.owner, item.due]),
      )
    : html`<table>
<thead><tr><th>Action</th><th>Owner</th><th>Due</th></tr></thead>
<tbody>${Array.from({ length: 5 }, () => html`<tr><td class="blank"></td><td></td><td></td></tr>`)}</tbody>
</table>`
}
</section>`;
  return page({
    title: `Agent Ops Review — ${model.week}`,
    subtitle: `Weekly review of every workflow's KPIs, failures, costs and violations`,
    generatedAt: model.generatedAt,
    body,
  });
}

const BOUNDARY_KIND_LABEL: Record<string, string> = {
  cannot: 'CANNOT',
  approval: 'missing approval',
  approver: 'approver not in role',
};

function violationCell(count: number): Html | string {
  return count > 0 ? badge(String(count), 'bad') : '0';
}
