import { evalDue, latestEvalRun } from '#lib/evals/due.ts';
import type { EvalStore } from '#lib/evals/store.ts';
import { costPerUnitKey, costPerUnitParquet } from '#lib/finance/cost-per-unit.ts';
import { type KpiEvent, WeeklyKpis } from '#lib/kpi/compute.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { lastCompleteWeek, shiftWeek, weekBounds } from '#lib/kpi/weeks.ts';
import type { EventIndex, StoredEvent } from '#lib/ports.ts';
import { PriceBook, type PriceStore } from '#lib/pricing/price-table.ts';
import { type ArchiveTier, overTiers, tieredEventsInRange } from '#lib/read/tiered-events.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { hotFloorMs } from '#lib/storage/ledger-table.ts';
import { mapWithConcurrency } from '#lib/util/concurrency.ts';

export interface KpiStore {
  putRecord(record: KpiRecord, computedAt: string): Promise<void>;
  getRecord(workflowId: string, week: string): Promise<KpiRecord | undefined>;
}

/** The reports bucket (finance Parquet, governance reports). */
export interface ReportStore {
  putObject(key: string, body: Uint8Array, contentType: string): Promise<void>;
}

export interface KpiJobDependencies {
  readonly index: EventIndex;
  readonly prices: PriceStore;
  readonly kpis: KpiStore;
  readonly reports: ReportStore;
  readonly clock: () => Date;
  /** Where eval runs are kept: with it, each record says whether an eval is due; without, `evalDue` is null. */
  readonly evals?: EvalStore;
  /**
   * The archive read as events, and the index's hot window: a cohort unit that started before the window
   * (a lead worked for two months) has its start, and whatever else came before the window, in the archive
   * only, and so has a whole week recomputed after it left the window. Without it (the benchmark, tests of
   * the math), only the index is read.
   */
  readonly archive?: ArchiveTier;
}

const HISTORY_CONCURRENCY = 16;
/** Archive reads at once for cohort units the index lacks the beginning of (each is one Athena query). */
const ARCHIVE_HISTORY_CONCURRENCY = 4;
/** Up to this many such units are read one query each; more, with one read of the workflow's archive. */
const ARCHIVE_UNIT_QUERIES = 8;
/** Events per archive page of that history. */
const ARCHIVE_HISTORY_PAGE = 1000;

/**
 * Computes one workflow's KPIs for one week, stores the record and writes the finance Parquet. It reads
 * only what the week needs: the events that occurred in the week (the time index), then the history of
 * the units completed in the week (the per-unit index), so its cost grows with the week's events and
 * units, not with the ledger. Running it again over the same events gives the same record.
 */
export async function runKpiJob(
  workflowId: string,
  week: string,
  deps: KpiJobDependencies,
): Promise<KpiRecord> {
  const { startMs, endMs } = weekBounds(week);
  const nowSeconds = Math.floor(deps.clock().getTime() / 1000);
  const kpis = new WeeklyKpis(workflowId, week, new PriceBook(await deps.prices.listTables()));

  const weekRange = { workflowId, fromMs: startMs, toMs: endMs, nowSeconds };
  // A week before the hot window (a recompute after a price import) is read from the archive too.
  const weekEvents = deps.archive
    ? tieredEventsInRange(weekRange, nowSeconds * 1000, overTiers(deps.index, deps.archive))
    : deps.index.eventsInRange(weekRange);
  for await (const stored of weekEvents) kpis.addWeekEvent(toKpiEvent(stored));
  // A cohort unit's events in the week were counted above: its history is what came before and after.
  // Two range reads, so the index fetches no body twice (issue 12: the job's read cost per event).
  await mapWithConcurrency(kpis.cohortUnitIds(), HISTORY_CONCURRENCY, async (unitId) => {
    const unit = { workflowId, unitId, nowSeconds };
    for (const range of [{ toMs: startMs }, { fromMs: endMs }]) {
      for await (const stored of deps.index.events({ ...unit, ...range })) {
        kpis.addUnitHistory(toKpiEvent(stored));
      }
    }
  });
  if (deps.archive) await addEarlyHistory(kpis, workflowId, endMs, nowSeconds, deps.archive);

  let record = kpis.finish();
  if (deps.evals) {
    const { run, hasEvalSet } = await latestEvalRun(deps.evals, workflowId);
    record = { ...record, evalDue: evalDue(kpis.versionsSeen(), run, hasEvalSet, deps.clock().getTime()) };
  }
  await deps.kpis.putRecord(record, deps.clock().toISOString());
  await deps.reports.putObject(
    costPerUnitKey(week, workflowId),
    costPerUnitParquet([record]),
    'application/vnd.apache.parquet',
  );
  return record;
}

/**
 * What the index no longer has of the cohort's history, from the archive: everything before the hot floor
 * of each cohort unit whose start the index did not have (it started before the window) or, for a week that
 * ended before the floor, of every cohort unit (its reviews came before the floor too). A few units are read
 * one query each; more, as one read of the workflow's archive before the floor, kept to those units. Facts
 * are idempotent (a start is the earliest one, a review sets a flag), so an event the index also gave counts
 * once. For a recent week, a unit whose start the index has, as almost every one's is, reads nothing more.
 */
async function addEarlyHistory(
  kpis: WeeklyKpis,
  workflowId: string,
  weekEndMs: number,
  nowSeconds: number,
  archive: ArchiveTier,
): Promise<void> {
  const toMs = hotFloorMs(nowSeconds * 1000, archive.hotIndexDays);
  const unitIds = weekEndMs <= toMs ? kpis.cohortUnitIds() : kpis.cohortUnitIdsWithoutStart();
  const readAll = async (selection: { unitId?: string }, keep: (stored: StoredEvent) => boolean) => {
    let after: string | undefined;
    do {
      const page = await archive.events.query({
        workflowId,
        ...selection,
        toMs,
        nowSeconds,
        limit: ARCHIVE_HISTORY_PAGE,
        ...(after ? { after } : {}),
      });
      for (const stored of page.items) if (keep(stored)) kpis.addUnitHistory(toKpiEvent(stored));
      after = page.after;
    } while (after);
  };
  if (unitIds.length > ARCHIVE_UNIT_QUERIES) {
    const cohort = new Set(unitIds);
    await readAll({}, (stored) => cohort.has(stored.event.unitId));
    return;
  }
  await mapWithConcurrency(unitIds, ARCHIVE_HISTORY_CONCURRENCY, (unitId) => readAll({ unitId }, () => true));
}

function toKpiEvent(stored: StoredEvent): KpiEvent {
  return {
    event: stored.event,
    occurredAtMs: stored.occurredAtMs,
    ...(stored.killSwitchViolation ? { killSwitchViolation: true } : {}),
    ...(stored.boundaryViolations?.length ? { boundaryViolation: true } : {}),
    ...(stored.unlistedTools?.length ? { unlistedTools: stored.unlistedTools } : {}),
  };
}

/**
 * What a scheduled run asks for: one week, the last complete week, or a recompute of the last n; for
 * every registered workflow, or only `workflowId` (a fanned-out part, or `agent-ledger jobs kpi --workflow`).
 */
export interface KpiJobRequest {
  readonly week?: string;
  readonly recomputeWeeks?: number;
  readonly workflowId?: string;
}

/** One workflow's week: what `runKpiJob` computes, and what a fanned-out run hands each invocation. */
export interface KpiJobPart {
  readonly workflowId: string;
  readonly week: string;
}

/**
 * The weeks a run computes. The weekly schedule computes the week that just ended; the daily one
 * recomputes the last 4, so reviews that arrive late reach the weeks their units completed in.
 */
export function weeksToCompute(request: KpiJobRequest, nowMs: number): string[] {
  if (request.week) {
    weekBounds(request.week);
    return [request.week];
  }
  const last = lastCompleteWeek(nowMs);
  const count = Math.max(1, Math.min(request.recomputeWeeks ?? 1, 12));
  return Array.from({ length: count }, (_, i) => shiftWeek(last, -(count - 1 - i)));
}

/** The parts of a run, week after week (oldest first), each week's workflows in the registry's order. */
export async function planKpiJobs(
  request: KpiJobRequest,
  deps: { readonly registry: RegistrySource; readonly clock: () => Date },
): Promise<KpiJobPart[]> {
  const weeks = weeksToCompute(request, deps.clock().getTime());
  const workflowIds = request.workflowId ? [request.workflowId] : (await deps.registry.current()).ids();
  return weeks.flatMap((week) => workflowIds.map((workflowId) => ({ workflowId, week })));
}

/**
 * A run of the KPI job, as `agent-ledger jobs kpi` makes it: `runKpiParts` over the request's plan.
 * `onRecord` hears each record as soon as it is stored.
 */
export async function runKpiJobs(
  request: KpiJobRequest,
  deps: KpiJobDependencies & { readonly registry: RegistrySource },
  onRecord: (record: KpiRecord) => void = () => {},
): Promise<KpiRecord[]> {
  return runKpiParts(await planKpiJobs(request, deps), deps, onRecord);
}

/** `runKpiJob` for each part, in order. */
export async function runKpiParts(
  parts: readonly KpiJobPart[],
  deps: KpiJobDependencies,
  onRecord: (record: KpiRecord) => void = () => {},
): Promise<KpiRecord[]> {
  const records: KpiRecord[] = [];
  for (const { workflowId, week } of parts) {
    const record = await runKpiJob(workflowId, week, deps);
    records.push(record);
    onRecord(record);
  }
  return records;
}
