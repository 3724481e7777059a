// One measured side of the KPI bench, in its own process so its time and peak memory are its own.
// Started by bench/kpi.ts as `node --import tsx bench/kpi-child.ts <mode> '<json args>'`; prints one JSON
// line with the result on stdout. Modes:
//   parse   read + JSON.parse the week file and the history file, nothing else (the baseline of `stream`)
//   stream  the same reads feeding WeeklyKpis as the KPI job does: week events, then cohort unit history
//   memory  both files parsed into memory first (off the clock), then only the WeeklyKpis work is timed
//   duckdb  DuckDB computing the same KPIs with SQL from a Parquet file of the same events
import { createReadStream, readFileSync } from 'node:fs';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { type KpiEvent, WeeklyKpis } from '#lib/kpi/compute.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { PriceBook, type PriceTable } from '#lib/pricing/price-table.ts';
import { parseEventLine } from '../test/support/kpi-sql.ts';

interface Args {
  readonly weekPath: string;
  readonly historyPath: string;
  readonly parquetPath: string;
  readonly pricesPath: string;
  readonly week: string;
  readonly fromMs: number;
  readonly toMs: number;
}

const startRssKiB = Math.round(process.memoryUsage().rss / 1024);
const peakRssKiB = () => process.resourceUsage().maxRSS;

/** Calls `visit` with each line of a UTF-8 file, 1 MiB reads, no readline overhead. */
async function forEachLine(path: string, visit: (line: string) => void): Promise<void> {
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      if (nl > start) visit(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest) visit(rest);
}

function readPrices(path: string): PriceBook {
  return new PriceBook(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as PriceTable),
  );
}

class Workflows {
  readonly #kpis = new Map<string, WeeklyKpis>();
  #cohorts?: Map<string, Set<string>>;
  constructor(
    readonly week: string,
    readonly prices: PriceBook,
  ) {}
  get(workflowId: string): WeeklyKpis {
    const existing = this.#kpis.get(workflowId);
    if (existing) return existing;
    const kpis = new WeeklyKpis(workflowId, this.week, this.prices);
    this.#kpis.set(workflowId, kpis);
    return kpis;
  }
  /** After the week's events: each workflow's cohort, as the job asks for it. */
  cohorts(): Map<string, Set<string>> {
    this.#cohorts ??= new Map([...this.#kpis].map(([id, kpis]) => [id, new Set(kpis.cohortUnitIds())]));
    return this.#cohorts;
  }
  inCohort(event: LedgerEvent): boolean {
    return this.cohorts().get(event.workflowId)?.has(event.unitId) ?? false;
  }
  units(): number {
    let total = 0;
    for (const set of this.cohorts().values()) total += set.size;
    return total;
  }
  finish(): KpiRecord[] {
    return [...this.#kpis.values()]
      .map((kpis) => kpis.finish())
      .sort((a, b) => (a.workflowId < b.workflowId ? -1 : 1));
  }
}

async function parseOnly(args: Args) {
  let events = 0;
  let checksum = 0;
  const t0 = performance.now();
  await forEachLine(args.weekPath, (text) => {
    const row = parseEventLine(text);
    events++;
    checksum += row.occurredAtMs % 7;
  });
  const t1 = performance.now();
  await forEachLine(args.historyPath, (text) => {
    checksum += parseEventLine(text).occurredAtMs % 7;
  });
  const t2 = performance.now();
  return { weekMs: t1 - t0, historyMs: t2 - t1, totalMs: t2 - t0, events, checksum };
}

async function stream(args: Args) {
  const workflows = new Workflows(args.week, readPrices(args.pricesPath));
  let events = 0;
  let history = 0;
  const t0 = performance.now();
  await forEachLine(args.weekPath, (text) => {
    const row = parseEventLine(text);
    workflows.get(row.event.workflowId).addWeekEvent(row);
    events++;
  });
  const t1 = performance.now();
  await forEachLine(args.historyPath, (text) => {
    const row = parseEventLine(text);
    if (!workflows.inCohort(row.event)) return;
    workflows.get(row.event.workflowId).addUnitHistory(row);
    history++;
  });
  const t2 = performance.now();
  const records = workflows.finish();
  const t3 = performance.now();
  return {
    weekMs: t1 - t0,
    historyMs: t2 - t1,
    finishMs: t3 - t2,
    totalMs: t3 - t0,
    events,
    history,
    cohortUnits: workflows.units(),
    records,
  };
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();
const heapUsedKiB = () => Math.round(process.memoryUsage().heapUsed / 1024);

async function memory(args: Args) {
  const weekEvents: KpiEvent[] = [];
  const historyEvents: KpiEvent[] = [];
  await forEachLine(args.weekPath, (text) => weekEvents.push(parseEventLine(text)));
  await forEachLine(args.historyPath, (text) => historyEvents.push(parseEventLine(text)));
  gc();
  const loadedRssKiB = Math.round(process.memoryUsage().rss / 1024);
  const loadedHeapKiB = heapUsedKiB();

  const workflows = new Workflows(args.week, readPrices(args.pricesPath));
  const t0 = performance.now();
  for (const item of weekEvents) workflows.get(item.event.workflowId).addWeekEvent(item);
  const t1 = performance.now();
  for (const item of historyEvents) {
    if (workflows.inCohort(item.event)) workflows.get(item.event.workflowId).addUnitHistory(item);
  }
  const t2 = performance.now();
  // What WeeklyKpis holds just before finish(): the heap it added over the loaded events (after a GC).
  gc();
  const kpiStateKiB = heapUsedKiB() - loadedHeapKiB;
  const t3 = performance.now();
  const records = workflows.finish();
  const t4 = performance.now();
  return {
    weekMs: t1 - t0,
    historyMs: t2 - t1,
    finishMs: t4 - t3,
    totalMs: t2 - t0 + (t4 - t3),
    events: weekEvents.length,
    loadedRssKiB,
    kpiStateKiB,
    records,
  };
}

async function duckdb(args: Args) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const { kpiSql, priceTablesSql, toSqlKpis } = await import('../test/support/kpi-sql.ts');
  const afterImportRssKiB = Math.round(process.memoryUsage().rss / 1024);
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(priceTablesSql(args.pricesPath));
  const t1 = performance.now();
  const reader = await connection.runAndReadAll(
    kpiSql(`read_parquet('${args.parquetPath}')`, args.fromMs, args.toMs),
  );
  const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
  const t2 = performance.now();
  const threads = (
    await connection.runAndReadAll(`SELECT current_setting('threads') AS t`)
  ).getRowObjectsJson()[0]?.t;
  connection.closeSync();
  instance.closeSync();
  return {
    setupMs: t1 - t0,
    queryMs: t2 - t1,
    totalMs: t2 - t1,
    threads: Number(threads),
    afterImportRssKiB,
    kpis: rows.map(toSqlKpis),
  };
}

const [mode, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}') as Args;
const run = { parse: parseOnly, stream, memory, duckdb }[mode as 'parse'];
if (!run) {
  console.error(`kpi-child: unknown mode '${mode}' (parse | stream | memory | duckdb)`);
  process.exit(2);
}
const result = await run(args);
process.stdout.write(`${JSON.stringify({ mode, startRssKiB, peakRssKiB: peakRssKiB(), ...result })}\n`);
