// `BENCH_ONLY=cost npm run bench`: what the ledger itself costs per million events kept for their
// retention (issue 12). The demo's traffic (4 weeks of both workflows: unit starts, actions, escalations,
// completions, reviews) goes through the local API in requests of BENCH_COST_BATCH events of one workflow;
// then, measured: every event item the stack wrote (Scan), re-put into an empty second table of the same
// design with ReturnConsumedCapacity INDEXES (after the same consistent BatchGet the ingest use case does,
// ReturnConsumedCapacity TOTAL), every item's and index entry's size by DynamoDB's rules, every archive
// object's size and retention class, and each request's latency. Priced with config/aws-prices-us-east-1.json.
//
// Settings (environment): BENCH_COST_WEEKS (4), BENCH_COST_BATCH (100), BENCH_PORT (3900).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, type DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { makeDocumentClient, makeDynamoDbClient, makeS3Client } from '#lib/adapters/aws-clients.ts';
import type { Documents } from '#lib/adapters/documents.ts';
import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { DynamoDbEventIndex, type ReadUnitMeter } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { scanItems } from '#lib/adapters/dynamodb-pages.ts';
import { S3ReportStore } from '#lib/adapters/s3-report-store.ts';
import {
  type ArchiveLifecycle,
  archiveObjectCost,
  type CostPart,
  dynamoStorageUsd,
  footprintWriteUnits,
  GIB,
  type IndexShape,
  type ItemFootprint,
  itemFootprint,
  KIB,
  lambdaUsd,
  logsUsd,
  perMillion,
  pitrUsd,
  pricesFromFile,
  S3_MIN_BILLABLE_BYTES,
  totalPerMillion,
} from '#lib/finance/ledger-cost.ts';
import { runKpiJob } from '#lib/kpi/job.ts';
import { isoWeekOf, shiftWeek } from '#lib/kpi/weeks.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { RETENTION_MONTHS, type RetentionMonths } from '#lib/registry/workflows.ts';
import {
  ARCHIVE_PREFIX,
  ARCHIVE_TRANSITIONS,
  expirationDaysFor,
  NONCURRENT_VERSION_EXPIRY_DAYS,
} from '#lib/storage/archive-bucket.ts';
import { ledgerTableDesign } from '#lib/storage/ledger-table.ts';
import { createTableInput } from '#local-stack/provision.ts';
import { LOCAL_ARCHIVE_BUCKET, LOCAL_REPORTS_BUCKET, LOCAL_TABLE_NAME } from '#local-stack/settings.ts';
import { RECOMPUTE_WEEKS } from '../infra/constructs/scheduled-jobs.ts';
import { type Answer, runLoad } from './api-load.ts';
import { intSetting } from './settings.ts';
import { findFreePortTriple, type StackProcess, startStackProcess } from './stack-process.ts';
import { fixed, median, percentile, table } from './stats.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PRICE_FILE = join(REPO_ROOT, 'config', 'aws-prices-us-east-1.json');
const WEEKS = intSetting('BENCH_COST_WEEKS', 4, 2, 12);
const BATCH = intSetting('BENCH_COST_BATCH', 100, 1, 500);
const BASE_PORT = intSetting('BENCH_PORT', 3900, 1024, 65_000);
const GOAL_USD_PER_MILLION = 5;

/** The ingest function's memory (infra/constructs/ingest-api.ts) and its log group's retention (1 year). */
const INGEST_MEMORY_MB = 1024;
const LOG_RETENTION_MONTHS = 12;
/** The indexes as designed (local-stack/provision.ts and infra/constructs/event-store.ts build the same). */
const INDEXES: readonly IndexShape[] = ledgerTableDesign.globalIndexes.map((index) => ({
  indexName: index.indexName,
  partitionKey: index.partitionKey.name,
  sortKey: index.sortKey.name,
  projection:
    index.projection.type === 'INCLUDE' ? { include: index.projection.attributes } : index.projection.type,
}));
const projectionLabel = (shape: IndexShape) =>
  typeof shape.projection === 'string' ? shape.projection : 'INCLUDE';
/**
 * KPI runs that read each event's week (infra/constructs/scheduled-jobs.ts): the weekly run computes the
 * last RECOMPUTE_WEEKS weeks, and the daily run the last complete week on each of the 7 days after it.
 */
const KPI_PASSES_PER_WEEK = RECOMPUTE_WEEKS + 7;
const TABLE_KEYS = [ledgerTableDesign.partitionKey.name, ledgerTableDesign.sortKey.name];
const LIFECYCLE: ArchiveLifecycle = {
  ...ARCHIVE_TRANSITIONS,
  noncurrentVersionExpiryDays: NONCURRENT_VERSION_EXPIRY_DAYS,
  // S3's default for new lifecycle rules since September 2024; the archive's rules set no size filter.
  transitionMinimumBytes: S3_MIN_BILLABLE_BYTES,
};

const log = (line = '') => console.log(line);

/**
 * The log lines one ingest request writes in CloudWatch, as samples of realistic length: the handler's
 * Powertools `ingested` line (counts only), Lambda's START/END/REPORT lines (with X-Ray, active tracing),
 * and the API's JSON access log line (infra/constructs/ingest-api.ts ACCESS_LOG_FORMAT). Modelled, not
 * captured: the local stack does not run Lambda's or API Gateway's logging.
 */
function logBytesPerRequest(): number {
  const requestId = 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef';
  const ingested = JSON.stringify({
    level: 'INFO',
    message: 'ingested',
    timestamp: '2026-12-01T12:00:00.000Z',
    service: 'agent-ledger-ingest',
    cold_start: false,
    function_arn:
      'arn:aws:lambda:us-east-1:123456789012:function:agent-ledger-prod-IngestFunction1A2B3C4D-AbCdEfGhIjKl',
    function_memory_size: '1024',
    function_name: 'agent-ledger-prod-IngestFunction1A2B3C4D-AbCdEfGhIjKl',
    function_request_id: requestId,
    sampling_rate: 0,
    xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
    caller: 'token:5f2b9c1e-support-triage',
    accepted: 100,
    duplicates: 0,
    conflicts: 0,
  });
  const platform = [
    `START RequestId: ${requestId} Version: $LATEST`,
    `END RequestId: ${requestId}`,
    `REPORT RequestId: ${requestId}\tDuration: 84.21 ms\tBilled Duration: 85 ms\tMemory Size: 1024 MB\tMax Memory Used: 142 MB\t\nXRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 6a0b9d8e3f2c1b4a\tSampled: true\t`,
  ];
  const access = JSON.stringify({
    requestId,
    extendedRequestId: 'KtbGeFEvIAMF5wQ=',
    requestTime: '01/Dec/2026:12:00:00 +0000',
    httpMethod: 'POST',
    resourcePath: '/v1/events',
    path: '/prod/v1/events',
    status: '202',
    protocol: 'HTTP/1.1',
    responseLength: '52',
    responseLatency: '96',
    integrationLatency: '90',
    integrationStatus: '200',
    errorType: '-',
    errorMessage: '-',
    authorizerError: '-',
    authorizerLatency: '-',
    principalId: '-',
    userArn: '-',
    sourceIp: '203.0.113.17',
    userAgent: 'agent-ledger-client/1.0 node/22',
    xrayTraceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
  });
  // Each line in CloudWatch Logs also carries a timestamp and is counted with a 26-byte event overhead.
  return [ingested, ...platform, access].reduce((sum, line) => sum + Buffer.byteLength(line) + 26, 0);
}

interface Consumed {
  table: number;
  indexes: Record<string, number>;
  batchGetRru: number;
}

/**
 * The event items the stack wrote, re-put in order into an empty table of the same design: the BatchGet
 * the use case does first (consistent, the keys of one request), then the conditional put the adapter
 * does, each with its consumed capacity.
 */
async function replay(
  dynamodb: DynamoDBClient,
  documents: Documents,
  items: readonly Record<string, unknown>[],
): Promise<Consumed> {
  const tableName = `${LOCAL_TABLE_NAME}-cost-replay`;
  await dynamodb.send(new CreateTableCommand(createTableInput(ledgerTableDesign, tableName)));
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName: tableName });
  const consumed: Consumed = { table: 0, indexes: {}, batchGetRru: 0 };
  for (let start = 0; start < items.length; start += BATCH) {
    const group = items.slice(start, start + BATCH);
    const got = await documents.batchGet({
      RequestItems: {
        [tableName]: {
          Keys: group.map((item) => ({ pk: item.pk, sk: item.sk })),
          ProjectionExpression: 'pk, contentHash',
          ConsistentRead: true,
        },
      },
      ReturnConsumedCapacity: 'TOTAL',
    });
    for (const entry of got.ConsumedCapacity ?? []) consumed.batchGetRru += entry.CapacityUnits ?? 0;
    for (const item of group) {
      const put = await documents.put({
        TableName: tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnConsumedCapacity: 'INDEXES',
      });
      const capacity = put.ConsumedCapacity;
      consumed.table += capacity?.Table?.CapacityUnits ?? 0;
      for (const [name, units] of Object.entries(capacity?.GlobalSecondaryIndexes ?? {})) {
        consumed.indexes[name] = (consumed.indexes[name] ?? 0) + (units.CapacityUnits ?? 0);
      }
    }
  }
  return consumed;
}

/**
 * One KPI run of every week and workflow of the traffic, as the scheduled job runs it, through an index
 * that meters what its Queries and BatchGets consumed.
 */
async function kpiReadUnits(
  documents: Documents,
  s3: S3Client,
  lastWeek: string,
): Promise<ReadUnitMeter & { runs: number; ms: number }> {
  const meter: ReadUnitMeter = { readUnits: 0 };
  const index = new DynamoDbEventIndex(documents, LOCAL_TABLE_NAME, { meter });
  const store = new DynamoDbKpiStore(documents, LOCAL_TABLE_NAME);
  const deps = {
    index,
    prices: store,
    kpis: store,
    reports: new S3ReportStore(s3, LOCAL_REPORTS_BUCKET),
    clock: () => new Date(),
    evals: new DynamoDbEvalStore(documents, LOCAL_TABLE_NAME),
  };
  const started = Date.now();
  let runs = 0;
  for (const workflowId of defaultRegistry.ids()) {
    for (let back = WEEKS; back >= 0; back--) {
      await runKpiJob(workflowId, shiftWeek(lastWeek, -back), deps);
      runs++;
    }
  }
  return { ...meter, runs, ms: Date.now() - started };
}

async function eventItems(documents: Documents): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const item of scanItems(documents, {
    TableName: LOCAL_TABLE_NAME,
    FilterExpression: 'sk = :evt',
    ExpressionAttributeValues: { ':evt': 'EVT' },
  })) {
    items.push(item);
  }
  return items;
}

async function archiveObjects(s3: S3Client): Promise<{ key: string; bytes: number }[]> {
  const objects: { key: string; bytes: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: LOCAL_ARCHIVE_BUCKET,
        Prefix: ARCHIVE_PREFIX,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? [])
      objects.push({ key: object.Key ?? '', bytes: object.Size ?? 0 });
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}

function retentionOfKey(key: string): RetentionMonths {
  const months = Number(/retention=(\d+)m\//.exec(key)?.[1]);
  const known = RETENTION_MONTHS.find((m) => m === months);
  if (known === undefined) throw new Error(`archive key without a known retention class: ${key}`);
  return known;
}

const money = (usd: number) => fixed(usd, 2);

export async function runCostBench(): Promise<void> {
  log('\n=== What the ledger costs to run, per million events kept for their retention ===');
  const priceFile = JSON.parse(readFileSync(PRICE_FILE, 'utf8')) as { asOf?: string };
  const prices = pricesFromFile(priceFile);
  const { demoTraffic } = await import('../cli/commands/demo.ts');
  const traffic = demoTraffic(WEEKS, Date.now());
  // One workflow per request, as a client batches them (and as the archive writes one object per workflow).
  const bodies: Buffer[] = [];
  const counts: number[] = [];
  for (const { events } of traffic) {
    for (const workflowId of new Set(events.map((event) => String(event.workflowId)))) {
      const mine = events.filter((event) => event.workflowId === workflowId);
      for (let i = 0; i < mine.length; i += BATCH) {
        const slice = mine.slice(i, i + BATCH);
        bodies.push(Buffer.from(JSON.stringify({ events: slice })));
        counts.push(slice.length);
      }
    }
  }
  const events = counts.reduce((a, b) => a + b, 0);
  log(
    `  the demo's traffic: ${events} events over ${WEEKS} weeks in ${bodies.length} requests of ≤ ${BATCH} events of one workflow; prices as of ${priceFile.asOf}`,
  );

  const workDir = mkdtempSync(join(tmpdir(), 'agent-ledger-bench-cost-'));
  let running: StackProcess | undefined;
  try {
    running = await startStackProcess({
      repoRoot: REPO_ROOT,
      dataDir: join(workDir, 'data'),
      port: await findFreePortTriple(BASE_PORT),
    });
    for (const name of ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      const value = running.awsEnv[name];
      if (value !== undefined) process.env[name] = value;
    }
    const dynamodb = makeDynamoDbClient(running.endpoints.dynamodb);
    const documents = makeDocumentClient(dynamodb);
    const s3 = makeS3Client(running.endpoints.s3);

    const check = (answer: Answer, index: number) => {
      const body = JSON.parse(answer.body) as { accepted?: number };
      if (answer.status !== 202 || body.accepted !== counts[index]) {
        throw new Error(`cost traffic, request ${index}: ${answer.status} ${answer.body.slice(0, 300)}`);
      }
    };
    // One request at a time, so each latency is one handler's work without queueing behind another.
    const load = await runLoad({
      url: new URL('/v1/events', running.endpoints.api),
      token: running.token,
      contentType: 'application/json',
      bodies,
      concurrency: 1,
      check,
    });

    const items = await eventItems(documents);
    if (items.length !== events) throw new Error(`expected ${events} event items, scanned ${items.length}`);
    const objects = await archiveObjects(s3);
    const consumed = await replay(dynamodb, documents, items);
    const kpiReads = await kpiReadUnits(documents, s3, traffic.at(-1)?.week ?? isoWeekOf(Date.now()));

    // Sizes and retention of what was written.
    const footprints: ItemFootprint[] = items.map((item) =>
      itemFootprint(
        item,
        TABLE_KEYS,
        INDEXES,
        (Number(item.expiresAt) - Date.parse(String(item.receivedAt)) / 1000) / 86_400,
      ),
    );
    const sumOf = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
    const tableBytes = sumOf(footprints.map((f) => f.tableBytes));
    const indexBytes = Object.fromEntries(
      INDEXES.map((index) => [
        index.indexName,
        sumOf(footprints.map((f) => f.indexBytes[index.indexName] ?? 0)),
      ]),
    );
    const modelledWru = sumOf(footprints.map(footprintWriteUnits));
    const measuredWru = consumed.table + sumOf(Object.values(consumed.indexes));
    const wruMeasuredOk = consumed.table > 0;
    const wru = wruMeasuredOk ? measuredWru : modelledWru;
    // DynamoDB bills a strongly consistent read of an absent item one RRU (items here are < 4 KB); DynamoDB
    // Local reports 0 for absent keys, so the model's figure stands in when it does.
    const readUnitsMeasured = consumed.batchGetRru >= events;
    const readUnits = readUnitsMeasured ? consumed.batchGetRru : events;
    const meanRetentionMonths = sumOf(footprints.map((f) => f.retentionDays)) / footprints.length / 30.4375;
    const kpiRruPerPass = kpiReads.readUnits / events;

    const archive = objects.map((object) =>
      archiveObjectCost(object.bytes, expirationDaysFor(retentionOfKey(object.key)), LIFECYCLE, prices),
    );
    const archiveBytes = sumOf(objects.map((o) => o.bytes));
    const transitioned = archive.filter((a) => a.transitioned).length;
    const largest = Math.max(...objects.map((o) => o.bytes));

    const requests = bodies.length;
    const durationMs = median(load.latenciesMs);
    const logBytes = logBytesPerRequest();

    log('\n  measured:');
    log(
      `    event item: ${fixed(tableBytes / events)} bytes on average (DynamoDB's sizing), in ${INDEXES.map((i) => `${i.indexName} ${fixed((indexBytes[i.indexName] ?? 0) / events)} (${projectionLabel(i)})`).join(', ')} bytes, +100 bytes overhead each`,
    );
    log(
      `    WRU per event, ReturnConsumedCapacity INDEXES on a replay: table ${fixed(consumed.table / events, 2)}, ${Object.entries(
        consumed.indexes,
      )
        .map(([name, units]) => `${name} ${fixed(units / events, 2)}`)
        .join(
          ', ',
        )} = ${fixed(measuredWru / events, 2)} (from the sizes: ${fixed(modelledWru / events, 2)}); the BatchGet before the puts: DynamoDB Local reported ${fixed(consumed.batchGetRru / events, 2)} RRU per event`,
    );
    if (!wruMeasuredOk)
      log('    (DynamoDB Local reported no consumed capacity: the WRU figure below is from the sizes)');
    const overOneKib = footprints.filter((f) => f.tableBytes > KIB).length;
    log(
      `    ${fixed((100 * overOneKib) / events, 1)}% of event items are over 1 KiB (2 WRU or more each, in the table and in gsi1): the actions with long outputs or tool parameters`,
    );
    log(
      `    kept ${fixed(meanRetentionMonths, 2)} months in the index on average (until their TTL: the hot window, rollback events for their retention)`,
    );
    log(
      `    the KPI job's reads (its week by time, then each cohort unit's history), ReturnConsumedCapacity TOTAL: ${fixed(kpiRruPerPass, 2)} RRU per event per run (${kpiReads.runs} runs over ${fixed(kpiReads.ms / 1000, 1)} s); ${KPI_PASSES_PER_WEEK} runs read each week`,
    );
    log(
      `    archive: ${objects.length} objects for ${requests} requests, ${fixed(archiveBytes / events)} bytes per event, median object ${fixed(median(objects.map((o) => o.bytes)) / KIB, 1)} KiB, largest ${fixed(largest / KIB, 1)} KiB; ${transitioned} of ${objects.length} large enough (> 128 KiB) to be transitioned`,
    );
    log(
      `    request latency through the local API (one at a time): median ${fixed(durationMs)} ms, p95 ${fixed(percentile(load.latenciesMs, 95))} ms`,
    );

    const parts: CostPart[] = [
      {
        part: 'DynamoDB storage',
        usdPerMillion: perMillion(sumOf(footprints.map((f) => dynamoStorageUsd(f, prices))), events),
        why: `${fixed(tableBytes / events + 100)} B per event in the table + ${fixed(sumOf(Object.values(indexBytes)) / events + 100 * INDEXES.length)} B in ${INDEXES.length} GSIs (${INDEXES.map(projectionLabel).join(', ')}), ${fixed(meanRetentionMonths, 2)} months until TTL`,
      },
      {
        part: 'point-in-time recovery',
        usdPerMillion: perMillion(sumOf(footprints.map((f) => pitrUsd(f, prices))), events),
        why: 'on the table (not its GSIs), while the items are in it',
      },
      {
        part: 'DynamoDB writes',
        usdPerMillion: perMillion((wru / 1e6) * prices.dynamodbWritePerMillionWru, events),
        why: `${fixed(wru / events, 2)} WRU per event (${wruMeasuredOk ? 'measured' : 'from sizes'}: the item and one per index entry)`,
      },
      {
        part: 'DynamoDB reads at ingest',
        usdPerMillion: perMillion((readUnits / 1e6) * prices.dynamodbReadPerMillionRru, events),
        why: `${fixed(readUnits / events, 2)} RRU per event: the consistent BatchGet for duplicates (${readUnitsMeasured ? 'measured' : 'modelled: 1 per key, absent or not'})`,
      },
      {
        part: 'DynamoDB reads by the KPI job',
        usdPerMillion: perMillion(
          ((kpiReads.readUnits * KPI_PASSES_PER_WEEK) / 1e6) * prices.dynamodbReadPerMillionRru,
          events,
        ),
        why: `${fixed(kpiRruPerPass, 2)} RRU per event per run (measured) × ${KPI_PASSES_PER_WEEK} runs per week (weekly over ${RECOMPUTE_WEEKS} weeks, daily over the last one)`,
      },
      {
        part: 'S3 archive storage',
        usdPerMillion: perMillion(sumOf(archive.map((a) => a.storageUsd)), events),
        why: `gzip NDJSON, ${fixed(archiveBytes / events)} B per event; ${transitioned}/${objects.length} objects over 128 KiB (the rest stay in Standard)`,
      },
      {
        part: 'S3 requests and transitions',
        usdPerMillion: perMillion(sumOf(archive.map((a) => a.requestsUsd)), events),
        why: `${fixed(objects.length / events, 3)} PUTs per event (one object per request), transitions for objects > 128 KiB`,
      },
      {
        part: 'API Gateway',
        usdPerMillion: perMillion((requests / 1e6) * prices.apiGatewayRestPerMillion, events),
        why: `REST API, ${fixed(events / requests)} events per request`,
      },
      {
        part: 'Lambda',
        usdPerMillion: perMillion(lambdaUsd(requests, INGEST_MEMORY_MB, durationMs, prices), events),
        why: `arm64 ${INGEST_MEMORY_MB} MB × ${fixed(durationMs)} ms per request (the local API's median latency, taken as the handler's duration)`,
      },
      {
        part: 'CloudWatch Logs',
        usdPerMillion: perMillion(logsUsd(requests * logBytes, LOG_RETENTION_MONTHS, prices), events),
        why: `~${fixed(logBytes)} B per request (handler info line, Lambda START/END/REPORT, API access log), kept ${LOG_RETENTION_MONTHS} months`,
      },
      {
        part: 'KMS',
        usdPerMillion: 0,
        why: 'not per event: DynamoDB caches its table key (~1 request per 5 min, ≈ $0.03/month) + $1/month for the key',
      },
    ];
    const total = totalPerMillion(parts);
    log('');
    log(
      table(
        ['part', '$ per 1M events', 'why'],
        [
          ...parts.map((part) => [part.part, money(part.usdPerMillion), part.why]),
          [
            'total',
            money(total),
            `${fixed(total / GOAL_USD_PER_MILLION, 1)}× the goal of $${GOAL_USD_PER_MILLION}`,
          ],
        ],
      ),
    );
    log(`  (GB = ${GIB} bytes; list prices of ${priceFile.asOf}, config/aws-prices-us-east-1.json)`);
    // The demo's boundary violations are logged as warnings by design; anything else is shown.
    const stderr = running.stderrSinceReady();
    const lines = stderr.split('\n');
    // The stack keeps the last 8,000 characters: the first line may be the tail of a longer one.
    if (stderr.length >= 8000) lines.shift();
    const unexpected = lines.filter(
      (line) => line.trim() !== '' && !line.includes('"message":"autonomy violations stored"'),
    );
    if (unexpected.length > 0) {
      log(`\n  note: the local stack wrote to stderr:\n${unexpected.join('\n').slice(-2000)}`);
    }
  } finally {
    await running?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
