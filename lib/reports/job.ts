import type { EvalRun } from '#lib/evals/schema.ts';
import type { EvalSetSummary, EvalStore } from '#lib/evals/store.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import type { DrillStore } from '#lib/kill-switch/drills.ts';
import { KILL_SWITCH_UNIT } from '#lib/kill-switch/flips.ts';
import type { FlagReader } from '#lib/kill-switch/ports.ts';
import type { KpiStore, ReportStore } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { lastCompleteWeek, weekBounds } from '#lib/kpi/weeks.ts';
import type { EventIndex, StoredEvent } from '#lib/ports.ts';
import { PriceBook, type PriceStore } from '#lib/pricing/price-table.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import {
  type AgentOpsReview,
  buildAgentOpsReview,
  RECORD_WEEKS,
  renderAgentOpsReview,
  WeekActivity,
} from '#lib/reports/agent-ops-review.ts';
import {
  type AutonomyRiskReview,
  buildAutonomyRiskReview,
  type EvalSummary,
  renderAutonomyRiskReview,
  summariseEvals,
} from '#lib/reports/autonomy-risk-review.ts';
import { type DrillRow, drillRow, readKillSwitchState } from '#lib/reports/governance.ts';
import { monthOfWeek, quarterOfWeek, toDate, weeksEndingWith } from '#lib/reports/periods.ts';
import { buildRunbook, type Runbook, renderRunbook } from '#lib/reports/runbook.ts';
import {
  buildVendorModelStrategyReview,
  renderVendorModelStrategyReview,
  UsageMix,
  type VendorModelStrategyReview,
} from '#lib/reports/vendor-model-strategy.ts';
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
  readonly kpis: KpiStore;
  readonly prices: PriceStore;
  readonly drills: DrillStore;
  /** Without it, the monthly review says "no eval runs recorded (no eval store connected)". */
  readonly evals?: EvalStore;
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
  // and tool mix, and the week's failures and boundary violations.
  const mix = new UsageMix(new PriceBook(prices));
  // The mix sums integers and prices them once, in key order, so reads may interleave in any order.
  const activity = await mapWithConcurrency(ids, CONCURRENCY, async (workflowId) => {
    const tally = new WeekActivity(workflowId);
    await deps.index.forEachInRange(
      { workflowId, fromMs: quarter.startMs, toMs: weekEndMs, nowSeconds },
      (stored) => {
        if (stored.occurredAtMs < quarter.asOfMs) mix.add(stored.event, stored.occurredAtMs);
        if (stored.occurredAtMs >= weekStartMs) tally.add(stored);
      },
    );
    return tally;
  });

  const [rollbacks, drills, evals] = await Promise.all([
    mapWithConcurrency(ids, CONCURRENCY, (workflowId) =>
      readRollbacks(deps.index, workflowId, month.startMs, month.asOfMs, nowSeconds),
    ),
    mapWithConcurrency(ids, CONCURRENCY, async (workflowId) =>
      (await deps.drills.listDrills(workflowId, DRILLS_READ)).map(drillRow),
    ),
    mapWithConcurrency(ids, CONCURRENCY, (workflowId) => readEvals(deps.evals, workflowId, month)),
  ]);
  const drillsOf = new Map(ids.map((id, i) => [id, drills[i] ?? []]));
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
  });
  const monthly = buildAutonomyRiskReview({
    month,
    week,
    generatedAt,
    workflows,
    killSwitch,
    records,
    rollbacks: rollbacks.flat(),
    drills: new Map(ids.map((id) => [id, (drillsOf.get(id) ?? []).filter(inMonth)])),
    evals: new Map(ids.map((id, i) => [id, evals[i] as EvalSummary])),
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

async function readRollbacks(
  index: EventIndex,
  workflowId: string,
  fromMs: number,
  toMs: number,
  nowSeconds: number,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let after: string | undefined;
  do {
    const page = await index.query({
      workflowId,
      unitId: KILL_SWITCH_UNIT,
      type: 'rollback',
      fromMs,
      toMs,
      limit: 1000,
      nowSeconds,
      ...(after ? { after } : {}),
    });
    events.push(...page.items.filter((stored) => stored.event.type === 'rollback'));
    after = page.after;
  } while (after);
  return events;
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
