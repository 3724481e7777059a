import type { EvalRun } from '#lib/evals/schema.ts';
import type { EvalSetSummary, EvalStore } from '#lib/evals/store.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import { deriveIncidents } from '#lib/incidents/incidents.ts';
import type { Postmortem, PostmortemStore } from '#lib/incidents/postmortem.ts';
import type { DrillStore } from '#lib/kill-switch/drills.ts';
import { KILL_SWITCH_UNIT } from '#lib/kill-switch/flips.ts';
import type { FlagReader } from '#lib/kill-switch/ports.ts';
import type { KpiStore, ReportStore } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { isoWeekOf, lastCompleteWeek, weekBounds } from '#lib/kpi/weeks.ts';
import type { EventIndex, StoredEvent } from '#lib/ports.ts';
import { PriceBook, type PriceStore } from '#lib/pricing/price-table.ts';
import { type ArchiveTier, overTiers, tieredEventsInRange } from '#lib/read/tiered-events.ts';
import { ROLLOUT_GATES_UNIT } from '#lib/registry/rollout-gates.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import {
  type AgentOpsReview,
  buildAgentOpsReview,
  RECORD_WEEKS,
  type ShadowReviewSummary,
  type ShadowUnit,
  summariseShadowReviews,
} from '#lib/reports/agent-ops-review/model.ts';
import { renderAgentOpsReview } from '#lib/reports/agent-ops-review/render.ts';
import { ShadowUnitFinder, WeekActivity } from '#lib/reports/agent-ops-review/tally.ts';
import {
  type AutonomyRiskReview,
  buildAutonomyRiskReview,
  weeksOfMonth,
} from '#lib/reports/autonomy-risk-review/model.ts';
import { renderAutonomyRiskReview } from '#lib/reports/autonomy-risk-review/render.ts';
import { type EvalSummary, summariseEvals } from '#lib/reports/autonomy-risk-review/tally.ts';
import { type DrillRow, drillRow, readKillSwitchState } from '#lib/reports/governance/model.ts';
import { monthOfWeek, quarterOfWeek, toDate, weeksEndingWith } from '#lib/reports/periods.ts';
import { buildRunbook, type Runbook } from '#lib/reports/runbook/model.ts';
import { renderRunbook } from '#lib/reports/runbook/render.ts';
import {
  buildVendorModelStrategyReview,
  type VendorModelStrategyReview,
} from '#lib/reports/vendor-model-strategy/model.ts';
import { renderVendorModelStrategyReview } from '#lib/reports/vendor-model-strategy/render.ts';
import { UsageMix } from '#lib/reports/vendor-model-strategy/tally.ts';
import { UnitLane } from '#lib/reviews/lane.ts';
import { isSampledForReview } from '#lib/reviews/sampling.ts';
import { mapWithConcurrency } from '#lib/util/concurrency.ts';

/**
 * The governance reports job (locally `agent-ledger jobs reports`, in the cloud a scheduled Lambda): for
 * one ISO week it writes, as JSON and self-contained HTML, to the reports bucket
 *
 *   governance/weekly/<YYYY-Www>/agent-ops-review.{json,html}
 *   governance/monthly/<YYYY-MM>/autonomy-risk-review.{json,html}      the month of the week's Monday
 *   governance/quarterly/<YYYY-Qn>/vendor-model-strategy.{json,html}   the quarter of the week's Monday
 *   governance/runbooks/<workflowId>.{json,html}
 *   governance/index.json                                              the latest of each, for dashboards
 *
 * Monthly and quarterly reports cover their period up to the end of the week, so each weekly run refreshes
 * them and the run for the period's last week completes them. Everything is read through ports; the
 * reports themselves are pure functions of what was read (and the clock, for `generatedAt`).
 */

export const GOVERNANCE_PREFIX = 'governance/';
export const GOVERNANCE_INDEX_KEY = `${GOVERNANCE_PREFIX}index.json`;
const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const CONCURRENCY = 8;
/** Drill records read per workflow: the month's drills and the runbook's last 10 come from these. */
const DRILLS_READ = 100;
/** Runs read per eval set: the latest up to the month's as-of, the one before it, and the month's count. */
const EVAL_RUNS_READ = 50;

export interface ReportsJobDependencies {
  readonly index: EventIndex;
  /**
   * The archive read as events, and the index's hot window: the quarterly review reads the quarter so far,
   * up to 13 weeks, longer than the index keeps events (issue 12), so what came before the window is read
   * from the archive (lib/read/tiered-events.ts). Every other read of the job stays within the window.
   */
  readonly archive: ArchiveTier;
  readonly kpis: KpiStore;
  readonly prices: PriceStore;
  readonly drills: DrillStore;
  /** Without it, the monthly review says "no eval runs recorded (no eval store connected)". */
  readonly evals?: EvalStore;
  /** The incidents' postmortems; without it, the monthly review says none could be read. */
  readonly postmortems?: PostmortemStore;
  readonly registry: WorkflowRegistry;
  /** The deployed kill-switch flags (AppConfigData): the state the reports and runbooks show. */
  readonly flags: FlagReader;
  readonly reports: ReportStore;
  readonly clock: () => Date;
  /** The deployed stage, for the runbooks' `--stage` commands; absent for the local stack. */
  readonly stage?: string;
  /** The kill switch's AppConfig environment name, shown in the runbooks when known. */
  readonly killSwitchEnvironment?: string;
}

export interface ReportsJobRequest {
  /** `YYYY-Www`; the last complete week when absent. */
  readonly week?: string;
}

export interface ReportKeys {
  readonly json: string;
  readonly html: string;
}

export type GovernanceReportKind =
  | 'agent-ops-review'
  | 'autonomy-risk-review'
  | 'vendor-model-strategy'
  | 'runbook';

/** One report the index links to: its files, what it is and the period it covers. */
export interface GovernanceIndexEntry extends ReportKeys {
  readonly kind: GovernanceReportKind;
  readonly title: string;
  /** `YYYY-Www`, `YYYY-MM` or `YYYY-Qn`; null for a runbook, which shows the current state. */
  readonly period: string | null;
  /** false while a monthly or quarterly report covers its period only to date. */
  readonly complete: boolean;
  /** The week whose run wrote it. */
  readonly week: string;
  readonly workflowId?: string;
  readonly generatedAt: string;
}

/** `governance/index.json`: the latest report of each kind, and every workflow's runbook. */
export interface GovernanceIndex {
  readonly generatedAt: string;
  readonly week: string;
  readonly reports: GovernanceIndexEntry[];
}

export interface ReportsJobResult {
  readonly week: string;
  readonly month: string;
  readonly quarter: string;
  /** Every object written, index last. */
  readonly keys: string[];
  /**
   * Whether `governance/index.json` now points at these reports: only a run for the last complete week
   * (or a later one) moves it, so re-running an old week never makes the dashboard link to stale reports.
   */
  readonly indexUpdated: boolean;
  readonly weekly: AgentOpsReview;
  readonly monthly: AutonomyRiskReview;
  readonly quarterly: VendorModelStrategyReview;
  readonly runbooks: Runbook[];
}

export const reportKeys = {
  weekly: (week: string) => keysOf(`${GOVERNANCE_PREFIX}weekly/${week}/agent-ops-review`),
  monthly: (month: string) => keysOf(`${GOVERNANCE_PREFIX}monthly/${month}/autonomy-risk-review`),
  quarterly: (quarter: string) => keysOf(`${GOVERNANCE_PREFIX}quarterly/${quarter}/vendor-model-strategy`),
  runbook: (workflowId: string) => keysOf(`${GOVERNANCE_PREFIX}runbooks/${workflowId}`),
};

function keysOf(base: string): ReportKeys {
  return { json: `${base}.json`, html: `${base}.html` };
}

export async function runReportsJob(
  request: ReportsJobRequest,
  deps: ReportsJobDependencies,
): Promise<ReportsJobResult> {
  const now = deps.clock();
  const nowMs = now.getTime();
  const generatedAt = now.toISOString();
  const nowSeconds = Math.floor(nowMs / 1000);
  const week = request.week ?? lastCompleteWeek(nowMs);
  const { startMs: weekStartMs, endMs: weekEndMs } = weekBounds(week);
  const month = toDate(monthOfWeek(week), week);
  const quarter = toDate(quarterOfWeek(week), week);
  const workflows = deps.registry.all();
  const ids = workflows.map((workflow) => workflow.workflowId);

  const [records, killSwitch, prices] = await Promise.all([
    readRecords(deps.kpis, ids, weeksEndingWith(week, RECORD_WEEKS)),
    readKillSwitchState(deps.flags, generatedAt),
    deps.prices.listTables(),
  ]);

  // One pass over each workflow's events from the quarter's start to the week's end: the quarter's model
  // and tool mix, the week's failures and boundary violations, the month's rollout-phase violations by
  // week, and the lanes of the week's completed units.
  const mix = new UsageMix(new PriceBook(prices));
  const monthWeeks = new Set(weeksOfMonth(month, week));
  // The mix sums integers and prices them once, in key order, so reads may interleave in any order.
  const passes = await mapWithConcurrency(ids, CONCURRENCY, async (workflowId) => {
    const tally = new WeekActivity(workflowId);
    const shadow = new ShadowUnitFinder(workflowId, { startMs: weekStartMs, endMs: weekEndMs });
    const phaseViolationsByWeek = new Map<string, number>();
    const range = { workflowId, fromMs: quarter.startMs, toMs: weekEndMs, nowSeconds };
    for await (const stored of tieredEventsInRange(range, nowMs, overTiers(deps.index, deps.archive))) {
      if (stored.occurredAtMs < quarter.asOfMs) mix.add(stored.event, stored.occurredAtMs);
      if (stored.occurredAtMs >= weekStartMs) tally.add(stored);
      shadow.add(stored);
      if (stored.rolloutPhaseViolation && stored.occurredAtMs >= month.startMs) {
        const eventWeek = isoWeekOf(stored.occurredAtMs);
        if (monthWeeks.has(eventWeek))
          phaseViolationsByWeek.set(eventWeek, (phaseViolationsByWeek.get(eventWeek) ?? 0) + 1);
      }
    }
    return { tally, shadow, phaseViolationsByWeek };
  });
  const activity = passes.map((pass) => pass.tally);
  const shadowReviews = await mapWithConcurrency(passes, CONCURRENCY, ({ shadow }) =>
    readShadowReviews(deps.index, deps.registry, shadow, nowSeconds),
  );

  const [rollbacks, drills, evals, gateOverrides] = await Promise.all([
    mapWithConcurrency(ids, CONCURRENCY, (workflowId) =>
      readRollbacks(deps.index, workflowId, month.startMs, month.asOfMs, nowSeconds),
    ),
    mapWithConcurrency(ids, CONCURRENCY, async (workflowId) =>
      (await deps.drills.listDrills(workflowId, DRILLS_READ)).map(drillRow),
    ),
    mapWithConcurrency(ids, CONCURRENCY, (workflowId) => readEvals(deps.evals, workflowId, month)),
    // Rollout gate overrides: the same read, under their own unit.
    mapWithConcurrency(ids, CONCURRENCY, (workflowId) =>
      readRollbacks(deps.index, workflowId, month.startMs, month.asOfMs, nowSeconds, ROLLOUT_GATES_UNIT),
    ),
  ]);
  const drillsOf = new Map(ids.map((id, i) => [id, drills[i] ?? []]));
  const postmortems = await readPostmortems(deps.postmortems, rollbacks.flat());
  const inMonth = (drill: DrillRow) => {
    const startedMs = parseRfc3339(drill.startedAt) ?? Date.parse(drill.startedAt);
    return startedMs >= month.startMs && startedMs < month.asOfMs;
  };

  const weekly = buildAgentOpsReview({
    week,
    generatedAt,
    workflows,
    records,
    activity,
    shadowReviews,
  });
  const monthly = buildAutonomyRiskReview({
    month,
    week,
    generatedAt,
    workflows,
    killSwitch,
    records,
    rollbacks: rollbacks.flat(),
    ...(postmortems ? { postmortems } : {}),
    drills: new Map(ids.map((id) => [id, (drillsOf.get(id) ?? []).filter(inMonth)])),
    evals: new Map(ids.map((id, i) => [id, evals[i] as EvalSummary])),
    rolloutPhaseViolations: new Map(
      ids.map((id, i) => [id, passes[i]?.phaseViolationsByWeek ?? new Map<string, number>()]),
    ),
    gateOverrides: gateOverrides.flat(),
  });
  const quarterly = buildVendorModelStrategyReview({ quarter, week, generatedAt, workflows, mix });
  const runbooks = workflows.map((workflow) =>
    buildRunbook({
      workflow,
      generatedAt,
      killSwitch,
      drills: drillsOf.get(workflow.workflowId) ?? [],
      ...(deps.stage ? { stage: deps.stage } : {}),
      ...(deps.killSwitchEnvironment ? { environment: deps.killSwitchEnvironment } : {}),
    }),
  );

  const written: string[] = [];
  const put = async (keys: ReportKeys, model: unknown, rendered: string) => {
    await deps.reports.putObject(keys.json, encode(`${JSON.stringify(model, null, 2)}\n`), JSON_TYPE);
    await deps.reports.putObject(keys.html, encode(rendered), HTML_TYPE);
    written.push(keys.json, keys.html);
  };
  await put(reportKeys.weekly(week), weekly, renderAgentOpsReview(weekly));
  await put(reportKeys.monthly(month.name), monthly, renderAutonomyRiskReview(monthly));
  await put(reportKeys.quarterly(quarter.name), quarterly, renderVendorModelStrategyReview(quarterly));
  for (const runbook of runbooks)
    await put(reportKeys.runbook(runbook.workflowId), runbook, renderRunbook(runbook));

  const indexUpdated = week >= lastCompleteWeek(nowMs);
  if (indexUpdated) {
    const entry = (kind: GovernanceReportKind, title: string, period: string | null, complete: boolean) => ({
      kind,
      title,
      period,
      complete,
      week,
      generatedAt,
    });
    const index: GovernanceIndex = {
      generatedAt,
      week,
      reports: [
        { ...entry('agent-ops-review', `Agent Ops Review ${week}`, week, true), ...reportKeys.weekly(week) },
        {
          ...entry(
            'autonomy-risk-review',
            `Autonomy + Risk Review ${month.name}${toDateLabel(month.complete)}`,
            month.name,
            month.complete,
          ),
          ...reportKeys.monthly(month.name),
        },
        {
          ...entry(
            'vendor-model-strategy',
            `Vendor/Model Strategy Review ${quarter.name}${toDateLabel(quarter.complete)}`,
            quarter.name,
            quarter.complete,
          ),
          ...reportKeys.quarterly(quarter.name),
        },
        ...ids.map((workflowId) => ({
          ...entry('runbook', `Runbook: ${workflowId} kill switch`, null, true),
          workflowId,
          ...reportKeys.runbook(workflowId),
        })),
      ],
    };
    await deps.reports.putObject(
      GOVERNANCE_INDEX_KEY,
      encode(`${JSON.stringify(index, null, 2)}\n`),
      JSON_TYPE,
    );
    written.push(GOVERNANCE_INDEX_KEY);
  }
  return {
    week,
    month: month.name,
    quarter: quarter.name,
    keys: written,
    indexUpdated,
    weekly,
    monthly,
    quarterly,
    runbooks,
  };
}

const toDateLabel = (complete: boolean) => (complete ? '' : ' (to date)');

const encoder = new TextEncoder();
const encode = (text: string) => encoder.encode(text);

async function readRecords(
  kpis: KpiStore,
  workflowIds: readonly string[],
  weeks: readonly string[],
): Promise<KpiRecord[]> {
  const pairs = workflowIds.flatMap((workflowId) => weeks.map((week) => ({ workflowId, week })));
  const records = await mapWithConcurrency(pairs, 16, ({ workflowId, week }) =>
    kpis.getRecord(workflowId, week),
  );
  return records.filter((record): record is KpiRecord => record !== undefined);
}

/** The postmortems of the incidents the rollbacks open, by incident ID; undefined without a store. */
async function readPostmortems(
  store: PostmortemStore | undefined,
  rollbacks: readonly StoredEvent[],
): Promise<Map<string, Postmortem> | undefined> {
  if (!store) return undefined;
  const ids = deriveIncidents(rollbacks).map((incident) => incident.incidentId);
  const found = await mapWithConcurrency(ids, CONCURRENCY, (id) => store.getPostmortem(id));
  return new Map(
    found
      .filter((postmortem): postmortem is Postmortem => postmortem !== undefined)
      .map((p) => [p.incidentId, p]),
  );
}

async function readRollbacks(
  index: EventIndex,
  workflowId: string,
  fromMs: number,
  toMs: number,
  nowSeconds: number,
  unitId: string = KILL_SWITCH_UNIT,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  const selection = {
    workflowId,
    unitId,
    type: 'rollback' as const,
    fromMs,
    toMs,
    nowSeconds,
  };
  for await (const stored of index.events(selection)) events.push(stored);
  return events;
}

/**
 * The week's shadow-lane units of one workflow and their reviews: each candidate's whole history (its
 * lane from every action, its verdicts however late), as the KPI job reads its cohort's.
 */
async function readShadowReviews(
  index: EventIndex,
  registry: WorkflowRegistry,
  finder: ShadowUnitFinder,
  nowSeconds: number,
): Promise<ShadowReviewSummary> {
  const { workflowId } = finder;
  const rate = registry.get(workflowId)?.reviewSampleRate ?? 0;
  const units = await mapWithConcurrency(finder.candidates(), 16, async (unitId): Promise<ShadowUnit> => {
    const lane = new UnitLane();
    const verdicts: ('pass' | 'defect')[] = [];
    for await (const { event } of index.events({ workflowId, unitId, nowSeconds })) {
      if (event.type === 'action') lane.add(event.lane);
      else if (event.type === 'review.verdict') verdicts.push(event.verdict);
    }
    return { unitId, lane: lane.lane, sampled: isSampledForReview(workflowId, unitId, rate), verdicts };
  });
  return summariseShadowReviews(workflowId, units);
}

async function readEvals(
  store: EvalStore | undefined,
  workflowId: string,
  month: { startMs: number; asOfMs: number },
): Promise<EvalSummary> {
  if (!store) return summariseEvals(undefined, month);
  const sets = await store.listSets(workflowId);
  const withRuns: { set: EvalSetSummary; runs: EvalRun[] }[] = await Promise.all(
    sets.map(async (set) => ({ set, runs: await store.listRuns(workflowId, set.name, EVAL_RUNS_READ) })),
  );
  return summariseEvals(withRuns, month);
}
