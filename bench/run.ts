// `npm run bench`: ingest throughput through the local API, the same writes straight to the stores (the
// floor), the use case's own CPU cost, and the ingest handler's bundle size and import time.
//
// Settings (environment): BENCH_EVENTS (20000 per mode), BENCH_CONCURRENCY (4,8), BENCH_PROBE_EVENTS
// (2000 per concurrency in the sweep), BENCH_ROUNDS (4), BENCH_SWEEP=full (the full run at every
// concurrency instead of a sweep), BENCH_PORT (3900: the first of three free ports), BENCH_IMPORT_RUNS (20).
// BENCH_ONLY=ingest|traces|kpi|cost runs one part (default: all, in that order); the OTLP part is
// bench/traces.ts, the KPI part bench/kpi.ts, the ledger's own running cost bench/cost.ts.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { makeDocumentClient, makeDynamoDbClient, makeS3Client } from '#lib/adapters/aws-clients.ts';
import type { Documents } from '#lib/adapters/documents.ts';
import { PUT_CONCURRENCY } from '#lib/adapters/dynamodb-event-index.ts';
import { LOCAL_ARCHIVE_BUCKET, LOCAL_TABLE_NAME } from '#local-stack/settings.ts';
import { type ApiRunResult, runApiLoad } from './api-load.ts';
import { bundleHandler, measureImports } from './bundle.ts';
import { measureUseCaseCpu } from './cpu.ts';
import { averageEventBytes, BATCH_SIZE, type BenchBatch, generateBatches } from './events.ts';
import { type FloorRunResult, prepareBatches, runFloor } from './floor.ts';
import { intSetting } from './settings.ts';
import {
  findFreePortTriple,
  type StackHandle,
  type StackProcess,
  startStackProcess,
} from './stack-process.ts';
import { fixed, kib, percentile, perSecond, table } from './stats.ts';
import { assertIndexed, countArchiveObjects } from './verify.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const EVENTS = intSetting('BENCH_EVENTS', 20_000, BATCH_SIZE, 100_000);
const CONCURRENCIES = [
  ...new Set(
    (process.env.BENCH_CONCURRENCY ?? '4,8').split(',').map((value) => {
      const n = Number(value.trim());
      if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`BENCH_CONCURRENCY: bad value '${value}'`);
      return n;
    }),
  ),
];
const PROBE_EVENTS = intSetting('BENCH_PROBE_EVENTS', 2_000, BATCH_SIZE, 100_000);
const ROUNDS = intSetting('BENCH_ROUNDS', 4, 1, 20);
const FULL_SWEEP = process.env.BENCH_SWEEP === 'full';
const BASE_PORT = intSetting('BENCH_PORT', 3900, 1024, 65_000);
const IMPORT_RUNS = intSetting('BENCH_IMPORT_RUNS', 20, 1, 50);
const WARMUP_EVENTS = 2_000;
/** Issue 12, item 5: the ingest bundle's goal, and what the issue measured before. */
const INGEST_BUNDLE_GOAL_KIB = 300;
const INGEST_BUNDLE_BASELINE_KIB = 794;
const INGEST_IMPORT_GOAL_MS = 60;
const INGEST_IMPORT_BASELINE_MS = 123;

const log = (line = '') => console.log(line);
const section = (title: string) => log(`\n=== ${title} ===`);
const rate = (run: { events: number; wallMs: number }) => perSecond(run.events, run.wallMs);
const seconds = (ms: number) => `${fixed(ms / 1000, 1)} s`;

// ---------------------------------------------------------------------------------------------------
// Cleanup: the stack child and the temp dir go, whatever happens.

/** Set as soon as the stack is spawned, so an interrupt during start-up stops it too. */
let stack: StackHandle | undefined;
let workDir: string | undefined;
let cleaning: Promise<void> | undefined;
let stackStopped = false;
let dirRemoved = false;
let interrupted = false;

/** Stops the stack and removes the temp dir; every caller waits for the same single attempt. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    try {
      await stack?.stop();
      stackStopped = true;
    } finally {
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      dirRemoved = true;
    }
  })();
  return cleaning;
}

process.on('exit', () => {
  // Last resort if the process exits before cleanup() finished.
  if (stack && !stackStopped) stack.killNow();
  if (workDir && !dirRemoved) rmSync(workDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the local stack and removing ${workDir ?? 'the temp dir'}…`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------
// One API slice and one floor slice, each checked off the clock.

interface Ctx {
  readonly running: StackProcess;
  readonly documents: Documents;
  readonly s3: S3Client;
  readonly actorHashKey: Buffer;
  readonly putConcurrency: number;
}

/** The SDK's "socket usage at capacity" warnings from the bench's own clients, counted instead of printed. */
let floorSocketWarnings = 0;

async function apiSlice(
  ctx: Ctx,
  batches: readonly BenchBatch[],
  concurrency: number,
): Promise<ApiRunResult> {
  const before = await countArchiveObjects(ctx.s3, LOCAL_ARCHIVE_BUCKET);
  const run = await runApiLoad({
    api: ctx.running.endpoints.api,
    token: ctx.running.token,
    batches,
    concurrency,
  });
  const after = await countArchiveObjects(ctx.s3, LOCAL_ARCHIVE_BUCKET);
  if (after - before !== batches.length) {
    throw new Error(`API: expected ${batches.length} new archive objects, found ${after - before}`);
  }
  await assertIndexed(ctx.documents, LOCAL_TABLE_NAME, batches);
  return run;
}

async function floorSlice(
  ctx: Ctx,
  batches: readonly BenchBatch[],
  concurrency: number,
): Promise<FloorRunResult> {
  const prepared = prepareBatches(batches, ctx.actorHashKey, new Date());
  const before = await countArchiveObjects(ctx.s3, LOCAL_ARCHIVE_BUCKET);
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (String(args[0]).includes('socket usage at capacity')) floorSocketWarnings++;
    else warn(...args);
  };
  const run = await runFloor({
    documents: ctx.documents,
    s3: ctx.s3,
    tableName: LOCAL_TABLE_NAME,
    bucketName: LOCAL_ARCHIVE_BUCKET,
    prepared,
    concurrency,
    putConcurrency: ctx.putConcurrency,
  }).finally(() => {
    console.warn = warn;
  });
  const after = await countArchiveObjects(ctx.s3, LOCAL_ARCHIVE_BUCKET);
  if (after - before !== batches.length) {
    throw new Error(`floor: expected ${batches.length} new archive objects, found ${after - before}`);
  }
  await assertIndexed(ctx.documents, LOCAL_TABLE_NAME, batches);
  return run;
}

// ---------------------------------------------------------------------------------------------------
// The full run: API and floor interleaved in rounds, so slow drifts (other load on the machine, the
// table growing) hit both alike. Each mode writes `events` fresh events in total.

interface Totals {
  readonly events: number;
  readonly requests: number;
  readonly wallMs: number;
  readonly latenciesMs: number[];
}

interface FullRun {
  readonly concurrency: number;
  readonly api: Totals;
  readonly floor: Totals;
  readonly roundRatios: number[];
}

function sum(runs: readonly ApiRunResult[] | readonly FloorRunResult[]): Totals {
  const totals = { events: 0, requests: 0, wallMs: 0, latenciesMs: [] as number[] };
  for (const run of runs) {
    totals.events += run.events;
    totals.wallMs += run.wallMs;
    if ('requests' in run) {
      totals.requests += run.requests;
      totals.latenciesMs.push(...run.latenciesMs);
    } else {
      totals.requests += run.batches;
      totals.latenciesMs.push(...run.batchLatenciesMs);
    }
  }
  return totals;
}

async function fullRun(ctx: Ctx, events: number, concurrency: number): Promise<FullRun> {
  const apiRuns: ApiRunResult[] = [];
  const floorRuns: FloorRunResult[] = [];
  const roundRatios: number[] = [];
  const perRound = Math.ceil(events / BATCH_SIZE / ROUNDS) * BATCH_SIZE;
  for (let round = 0, done = 0; done < events; round++, done += perRound) {
    const count = Math.min(perRound, events - done);
    const now = Date.now();
    const apiBatches = generateBatches(count, `api-c${concurrency}-r${round}`, now, 1000 + round);
    const floorBatches = generateBatches(count, `floor-c${concurrency}-r${round}`, now, 1000 + round);
    // Alternate which goes first, so neither always runs right after the other's burst.
    let api: ApiRunResult;
    let floor: FloorRunResult;
    if (round % 2 === 0) {
      api = await apiSlice(ctx, apiBatches, concurrency);
      floor = await floorSlice(ctx, floorBatches, concurrency);
    } else {
      floor = await floorSlice(ctx, floorBatches, concurrency);
      api = await apiSlice(ctx, apiBatches, concurrency);
    }
    apiRuns.push(api);
    floorRuns.push(floor);
    roundRatios.push(rate(api) / rate(floor));
    log(
      `  round ${round + 1}: API ${fixed(rate(api))} events/s, floor ${fixed(rate(floor))} events/s (${fixed(rate(api) / rate(floor), 2)}×)`,
    );
  }
  return { concurrency, api: sum(apiRuns), floor: sum(floorRuns), roundRatios };
}

function describeFull(run: FullRun, putConcurrency: number): void {
  const { api, floor } = run;
  section(`1. Ingest through the local API (POST /v1/events), concurrency ${run.concurrency}`);
  log(
    `  ${api.requests} requests × ${BATCH_SIZE} events = ${fixed(api.events)} events in ${seconds(api.wallMs)}`,
  );
  log(`  ${fixed(rate(api))} events/s, ${fixed(perSecond(api.requests, api.wallMs), 1)} requests/s`);
  log(
    `  request latency p50 ${fixed(percentile(api.latenciesMs, 50))} ms, p95 ${fixed(percentile(api.latenciesMs, 95))} ms, max ${fixed(Math.max(...api.latenciesMs))} ms`,
  );
  log(
    `  every response was 202 with accepted=${BATCH_SIZE}; one archive object per request; samples read back`,
  );
  section(`2. The floor: the same writes straight to DynamoDB Local + S3, concurrency ${run.concurrency}`);
  log(
    `  ${floor.requests} batches: BatchGetItem(${BATCH_SIZE} keys) → gzip NDJSON PutObject → ${BATCH_SIZE} conditional PutItems, ${putConcurrency} in flight`,
  );
  log(`  ${fixed(floor.events)} events in ${seconds(floor.wallMs)}: ${fixed(rate(floor))} events/s`);
  log(
    `  batch latency p50 ${fixed(percentile(floor.latenciesMs, 50))} ms, p95 ${fixed(percentile(floor.latenciesMs, 95))} ms`,
  );
  log(
    `  API reaches ${fixed(rate(api) / rate(floor), 2)}× the floor (per round: ${run.roundRatios.map((r) => `${fixed(r, 2)}×`).join(', ')})`,
  );
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const benchStarted = performance.now();
  workDir = mkdtempSync(join(tmpdir(), 'agent-ledger-bench-'));
  const dataDir = join(workDir, 'data');
  const bundleDir = join(workDir, 'bundle');
  mkdirSync(bundleDir, { recursive: true });
  const sweeping = !FULL_SWEEP && CONCURRENCIES.length > 1;

  log('Agent Ledger benchmark');
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  log(`  node ${process.version}, ${availableParallelism()} CPUs, load average at start ${load}`);
  log(
    `  plan: ${
      sweeping
        ? `API sweep of ${PROBE_EVENTS} events at concurrency ${CONCURRENCIES.join(', ')}, then ${EVENTS} events via the API and ${EVENTS} direct at the best`
        : `${EVENTS} events via the API and ${EVENTS} direct at concurrency ${CONCURRENCIES.join(', ')}`
    }, in ${ROUNDS} interleaved rounds`,
  );
  log(
    `  events: batches of ${BATCH_SIZE} 'action' events (support-triage / code-review), ${fixed(averageEventBytes(generateBatches(1_000, 'sample', Date.now())))} bytes of JSON each on average`,
  );

  section('Local stack');
  const port = await findFreePortTriple(BASE_PORT);
  const running = await startStackProcess({
    repoRoot: REPO_ROOT,
    dataDir,
    port,
    onSpawn: (handle) => {
      stack = handle;
    },
  });
  log(`  started in ${seconds(running.startupMs)} on 127.0.0.1:${port}–${port + 2} (data in ${dataDir})`);

  // The bench's own SDK clients (floor, checks): the stack's region, keys and checksum settings.
  for (const name of [
    'AWS_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_REQUEST_CHECKSUM_CALCULATION',
    'AWS_RESPONSE_CHECKSUM_VALIDATION',
  ]) {
    const value = running.awsEnv[name];
    if (value !== undefined) process.env[name] = value;
  }
  const ctx: Ctx = {
    running,
    documents: makeDocumentClient(makeDynamoDbClient(running.endpoints.dynamodb)),
    s3: makeS3Client(running.endpoints.s3),
    actorHashKey: Buffer.from(running.actorHashKeyHex, 'hex'),
    putConcurrency: PUT_CONCURRENCY,
  };

  // Untimed warm-up: JIT in the API and in DynamoDB Local's JVM, SDK clients, sockets.
  const warmupStarted = performance.now();
  await apiSlice(ctx, generateBatches(WARMUP_EVENTS, 'warm-api', Date.now(), 7), 4);
  await floorSlice(ctx, generateBatches(WARMUP_EVENTS / 2, 'warm-floor', Date.now(), 8), 4);
  log(
    `  warm-up: ${WARMUP_EVENTS} events via the API, ${WARMUP_EVENTS / 2} direct, ${seconds(performance.now() - warmupStarted)} (not counted)`,
  );

  // Two passes, the second in reverse order, so no concurrency always gets the colder or warmer turn.
  const sweep: (Totals & { concurrency: number })[] = [];
  let fullConcurrencies = CONCURRENCIES;
  if (sweeping) {
    section(`Concurrency sweep through the API: ${PROBE_EVENTS} events each, in two passes`);
    const half = Math.max(BATCH_SIZE, Math.round(PROBE_EVENTS / 2 / BATCH_SIZE) * BATCH_SIZE);
    const slices = new Map<number, ApiRunResult[]>(CONCURRENCIES.map((c) => [c, []]));
    for (const [pass, order] of [CONCURRENCIES, [...CONCURRENCIES].reverse()].entries()) {
      for (const concurrency of order) {
        const batches = generateBatches(half, `sweep-c${concurrency}-p${pass}`, Date.now(), 9 + pass);
        slices.get(concurrency)?.push(await apiSlice(ctx, batches, concurrency));
      }
    }
    for (const [concurrency, runs] of slices) {
      const run = { concurrency, ...sum(runs) };
      sweep.push(run);
      log(
        `  concurrency ${concurrency}: ${fixed(rate(run))} events/s, ${fixed(perSecond(run.requests, run.wallMs), 1)} requests/s, p50 ${fixed(percentile(run.latenciesMs, 50))} ms, p95 ${fixed(percentile(run.latenciesMs, 95))} ms`,
      );
    }
    const best = sweep.reduce((a, b) => (rate(b) > rate(a) ? b : a));
    fullConcurrencies = [best.concurrency];
    log(`  → the full run uses concurrency ${best.concurrency}`);
  }

  const full: FullRun[] = [];
  for (const concurrency of fullConcurrencies) {
    section(`Full run at concurrency ${concurrency}: ${EVENTS} events via the API and ${EVENTS} direct`);
    const run = await fullRun(ctx, EVENTS, concurrency);
    full.push(run);
    describeFull(run, ctx.putConcurrency);
  }
  if (floorSocketWarnings > 0) {
    log(
      `  note: in the floor runs the SDK warned ${floorSocketWarnings}× that its socket pool (50 per client) was full and requests queued`,
    );
  }

  const stderr = running.stderrSinceReady().trim();
  await running.stop();
  if (stderr) log(`\n  note: the local stack wrote to stderr during the runs:\n${stderr.slice(-2000)}`);

  section("2b. The use case's own CPU per request (no I/O, in this process, stack stopped)");
  const cpu = await measureUseCaseCpu(generateBatches(6_000, 'cpu', Date.now(), 11));
  log(
    `  parse + validate + hash actors + content hashes + build items + gzip, ${BATCH_SIZE} events: median ${fixed(cpu.medianMs, 1)} ms, p95 ${fixed(cpu.p95Ms, 1)} ms (n=${cpu.requests})`,
  );
  log(`  ≈ ${fixed(cpu.eventsPerCoreSecond)} events/s per core before any store is involved`);

  section('3. The ingest handler bundle (esbuild, as the CDK builds it)');
  const bundle = await bundleHandler(REPO_ROOT, bundleDir, 'functions/ingest/handler.ts');
  log(
    `  index.mjs ${kib(bundle.bytes)} (${kib(bundle.gzipBytes)} gzipped), source map ${kib(bundle.mapBytes)}, built in ${fixed(bundle.buildMs)} ms`,
  );
  log(
    `  ${fixed(bundle.bytes / 1024 / INGEST_BUNDLE_GOAL_KIB, 2)}× the goal of ${INGEST_BUNDLE_GOAL_KIB} KiB (issue 12; ${INGEST_BUNDLE_BASELINE_KIB} KiB before: ${fixed(bundle.bytes / 1024 / INGEST_BUNDLE_BASELINE_KIB, 2)}×)`,
  );
  log('  largest parts:');
  for (const part of bundle.topPackages.slice(0, 8)) {
    log(
      `    ${part.name.padEnd(34)} ${kib(part.bytes).padStart(11)}  ${fixed((100 * part.bytes) / bundle.bytes, 1).padStart(4)}%`,
    );
  }
  const imports = await measureImports(bundle.file, bundleDir, IMPORT_RUNS);
  log(
    `  import time in ${imports.runs} fresh node ${process.version} processes: median ${fixed(imports.medianMs, 1)} ms, p90 ${fixed(imports.p90Ms, 1)} ms`,
  );
  log(
    `    samples (ms): ${imports.importMs.map((ms) => fixed(ms, 1)).join(', ')}; whole process median ${fixed(imports.medianProcessMs)} ms`,
  );
  log(
    `  ${fixed(imports.medianMs / INGEST_IMPORT_GOAL_MS, 2)}× the goal of ${INGEST_IMPORT_GOAL_MS} ms (issue 12; ${INGEST_IMPORT_BASELINE_MS} ms before: ${fixed(imports.medianMs / INGEST_IMPORT_BASELINE_MS, 2)}×), at a load average of ${fixed(loadavg()[0] ?? 0, 2)}`,
  );

  await cleanup();

  section('Summary');
  const rows: string[][] = [];
  // One summary row per load run: name, events, events/s, requests/s, latency p50 and p95, vs the floor.
  const summaryRow = (name: string, run: Totals, vsFloor: string) => [
    name,
    fixed(run.events),
    fixed(rate(run)),
    fixed(perSecond(run.requests, run.wallMs), 1),
    fixed(percentile(run.latenciesMs, 50)),
    fixed(percentile(run.latenciesMs, 95)),
    vsFloor,
  ];
  for (const run of sweep) rows.push(summaryRow(`sweep API  c=${run.concurrency}`, run, ''));
  for (const run of full) {
    const ratio = rate(run.api) / rate(run.floor);
    rows.push(summaryRow(`API        c=${run.concurrency}`, run.api, `${fixed(ratio, 2)}×`));
    rows.push(summaryRow(`floor      c=${run.concurrency}`, run.floor, '1.00×'));
  }
  log(table(['run', 'events', 'events/s', 'req/s', 'p50 ms', 'p95 ms', 'vs floor'], rows));
  const headline = full.reduce((a, b) => (rate(b.api) > rate(a.api) ? b : a));
  log('');
  log(
    table(
      ['figure', 'value'],
      [
        ['API ingest', `${fixed(rate(headline.api))} events/s at concurrency ${headline.concurrency}`],
        [
          'API latency p50 / p95',
          `${fixed(percentile(headline.api.latenciesMs, 50))} / ${fixed(percentile(headline.api.latenciesMs, 95))} ms per 100-event request`,
        ],
        ['floor (stores only)', `${fixed(rate(headline.floor))} events/s`],
        ['API ÷ floor', `${fixed(rate(headline.api) / rate(headline.floor), 2)}×`],
        [
          'use-case CPU',
          `${fixed(cpu.medianMs, 1)} ms per 100 events (≈ ${fixed(cpu.eventsPerCoreSecond)} events/s/core)`,
        ],
        [
          'ingest bundle',
          `${kib(bundle.bytes)} (${kib(bundle.gzipBytes)} gzipped), ${fixed(bundle.bytes / 1024 / INGEST_BUNDLE_GOAL_KIB, 2)}× the ${INGEST_BUNDLE_GOAL_KIB} KiB goal`,
        ],
        [
          'ingest import median / p90',
          `${fixed(imports.medianMs, 1)} / ${fixed(imports.p90Ms, 1)} ms, ${fixed(imports.medianMs / INGEST_IMPORT_GOAL_MS, 2)}× the ${INGEST_IMPORT_GOAL_MS} ms goal`,
        ],
        ['bench wall time', seconds(performance.now() - benchStarted)],
      ],
    ),
  );
}

const BENCH_ONLY = process.env.BENCH_ONLY ?? '';
if (!['', 'ingest', 'kpi', 'traces', 'cost'].includes(BENCH_ONLY)) {
  console.error(
    `BENCH_ONLY must be 'ingest', 'kpi', 'traces' or 'cost' (or unset for all), not '${BENCH_ONLY}'`,
  );
  process.exit(2);
}

async function runParts(): Promise<void> {
  if (BENCH_ONLY === '' || BENCH_ONLY === 'ingest') await main();
  if (BENCH_ONLY === '' || BENCH_ONLY === 'traces') await (await import('./traces.ts')).runTracesBench();
  // Imported only when wanted: it loads DuckDB.
  if (BENCH_ONLY === '' || BENCH_ONLY === 'kpi') await (await import('./kpi.ts')).runKpiBench();
  if (BENCH_ONLY === '' || BENCH_ONLY === 'cost') await (await import('./cost.ts')).runCostBench();
}

runParts().then(
  () => process.exit(0),
  async (error: unknown) => {
    if (!interrupted) {
      console.error('\nbench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
    }
    await cleanup().catch((cleanupError: unknown) => console.error('cleanup failed too:', cleanupError));
    process.exit(interrupted ? 130 : 1);
  },
);
