import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { makeDocumentClient, sdkObjects } from '#lib/adapters/aws-clients.ts';
import { DuckDbArchivedEvents } from '#lib/adapters/duckdb-archived-events.ts';
import { DynamoDbEventIndex, eventPartitionKey } from '#lib/adapters/dynamodb-event-index.ts';
import { S3EventArchive } from '#lib/adapters/s3-event-archive.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { type IngestDependencies, ingestEvents } from '#lib/ingest/ingest-events.ts';
import type { EventIndex } from '#lib/ports.ts';
import { readEvents } from '#lib/read/read-events.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { DEFAULT_HOT_INDEX_DAYS, hotFloorMs } from '#lib/storage/ledger-table.ts';
import { LOCAL_ARCHIVE_BUCKET, LOCAL_TABLE_NAME } from '#local-stack/settings.ts';
import { apiClient } from '../support/api.ts';
import { localClients } from '../support/clients.ts';
import { actionEvent, unitEvent } from '../support/events.ts';

// Issue 12: reads past the index's hot window come from the archive (DuckDB locally), with the same items,
// filters, order and paging; a retry of an event the index dropped long ago still answers duplicate.
const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const stores = localClients(stack);
const index = new DynamoDbEventIndex(makeDocumentClient(stores.dynamodb), LOCAL_TABLE_NAME);
const archivedEvents = new DuckDbArchivedEvents(stores.s3, LOCAL_ARCHIVE_BUCKET);
const everyWorkflow = { principal: 'test', workflows: '*' as const };

const DAY_MS = 86_400_000;
const TODAY = new Date();
const LONG_AGO = new Date(TODAY.getTime() - 400 * DAY_MS);
const at = (base: Date, minutes: number) => new Date(base.getTime() + minutes * 60_000).toISOString();
const unitId = `ticket-cold-${TODAY.getTime()}`;

/** The stack's own key, so that what the use case stores here hashes as the stack's handlers do. */
const hasher = new ActorHasher(
  Buffer.from(readFileSync(join(stack.dataDir, 'actor-hash-key'), 'utf8').trim(), 'hex'),
);
const ingestAt = (clock: Date, overrides: Partial<IngestDependencies> = {}) => ({
  index,
  archive: new S3EventArchive(sdkObjects(stores.s3), LOCAL_ARCHIVE_BUCKET),
  archivedEvents,
  registry: defaultRegistry,
  hasher,
  clock: () => clock,
  ...overrides,
});
const readAt = (clock: Date, params: Record<string, string | undefined>) =>
  readEvents({ workflowId: 'support-triage', params: { unitId, ...params } }, everyWorkflow, {
    index,
    archive: archivedEvents,
    hotIndexDays: DEFAULT_HOT_INDEX_DAYS,
    registry: defaultRegistry,
    clock: () => clock,
  });
const noApproval = { approval: undefined, flag: undefined, unitId };

const first = actionEvent({ ...noApproval, occurredAt: at(LONG_AGO, -30) });
const second = actionEvent({ ...noApproval, occurredAt: at(LONG_AGO, -20) });
const unlisted = actionEvent({
  ...noApproval,
  occurredAt: at(LONG_AGO, -10),
  toolCalls: [{ name: 'mystery_tool', endpoint: 'x.y', parameters: {}, outcome: 'success', durationMs: 3 }],
});
const completed = unitEvent('unit.completed', unitId, { occurredAt: at(LONG_AGO, -5), outcome: 'resolved' });
/** Occurred 399 days ago, sent today: in the index (received recently) and in the archive. */
const backfill = actionEvent({ ...noApproval, occurredAt: at(TODAY, -399 * 24 * 60) });
const recent = actionEvent({ ...noApproval, occurredAt: at(TODAY, -60) });
const ids = (items: Record<string, unknown>[]) => items.map((item) => item.eventId);

/** The items the index answered with while the old events were still in it. */
let servedByTheIndex: Record<string, unknown>[];

beforeAll(async () => {
  // 400 days ago: stored, and read back from the index
  const stored = await ingestEvents(
    { events: [first, second, unlisted, completed] },
    everyWorkflow,
    ingestAt(LONG_AGO),
  );
  expect(stored.accepted).toBe(4);
  servedByTheIndex = (await readAt(new Date(LONG_AGO.getTime() + 60_000), {})).items;
  // A minute later, a retry raced another request (its check saw nothing, its write found the key
  // taken): its lines are archived again, and the outcome record lists them as duplicate and conflict.
  const blind: EventIndex = Object.assign(Object.create(index) as EventIndex, {
    findContentHashes: async () => new Map<string, string>(),
  });
  const raced = await ingestEvents(
    { events: [first, { ...second, output: { text: 'changed in the retry' } }] },
    everyWorkflow,
    ingestAt(new Date(LONG_AGO.getTime() + 60_000), { index: blind }),
  );
  expect(raced.results.map((result) => result.status)).toEqual(['duplicate', 'conflict']);
  // Since then the index dropped them (DynamoDB deletes expired items; DynamoDB Local does not)
  for (const event of [first, second, unlisted, completed]) {
    await stores.dynamodb.send(
      new DeleteItemCommand({
        TableName: LOCAL_TABLE_NAME,
        Key: {
          pk: { S: eventPartitionKey({ workflowId: 'support-triage', eventId: String(event.eventId) }) },
          sk: { S: 'EVT' },
        },
      }),
    );
  }
  // Today: a backfill of an old event, and a recent one
  const today = await ingestEvents({ events: [backfill, recent] }, everyWorkflow, ingestAt(TODAY));
  expect(today.accepted).toBe(2);
});

describe('reads past the hot window, from the archive (DuckDB over the local archive)', () => {
  it('returns the 400-day-old events as the index did, each once, the index version of the conflict', async () => {
    // Act
    const page = await readAt(TODAY, {});

    // Assess
    expect(ids(page.items)).toEqual(ids([first, second, unlisted, completed, backfill, recent]));
    expect(page.items.slice(0, 4)).toEqual(servedByTheIndex);
    expect(page.items[1]).toMatchObject({ output: second.output });
    expect(page.nextCursor).toBeNull();
  });

  it('pages with one cursor across the hot floor', async () => {
    // Act
    const seen: unknown[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await readAt(TODAY, { limit: '2', ...(cursor ? { cursor } : {}) });
      seen.push(...ids(page.items));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);

    // Assess
    expect(seen).toEqual(ids([first, second, unlisted, completed, backfill, recent]));
    expect(pages).toBe(3);
  });

  it('filters by type, violations, and from/to before the hot floor', async () => {
    // Act
    const completions = await readAt(TODAY, { type: 'unit.completed' });
    const unlistedTools = await readAt(TODAY, { violations: 'unlisted-tool' });
    const window = await readAt(TODAY, { from: at(LONG_AGO, -25), to: at(LONG_AGO, -10) });
    const before = await readAt(TODAY, {
      to: new Date(hotFloorMs(TODAY.getTime(), DEFAULT_HOT_INDEX_DAYS)).toISOString(),
    });

    // Assess
    expect(ids(completions.items)).toEqual([completed.eventId]);
    expect(ids(unlistedTools.items)).toEqual([unlisted.eventId]);
    expect(unlistedTools.items[0]).toMatchObject({ unlistedTools: ['mystery_tool'] });
    expect(ids(window.items)).toEqual([second.eventId]);
    expect(ids(before.items)).toEqual(ids([first, second, unlisted, completed, backfill]));
  });

  it('answers a retry of an event the index dropped long ago from the archive: duplicate, or conflict', async () => {
    // Act
    const retry = await ingestEvents(
      { events: [first, { ...unlisted, output: { text: 'not what was sent' } }] },
      everyWorkflow,
      ingestAt(TODAY),
    );

    // Assess
    expect(retry.results.map((result) => result.status)).toEqual(['duplicate', 'conflict']);
  });
});

describe('the same through the local stack’s HTTP API', () => {
  it('GET …/events returns the 400-day-old event; POST /v1/events of it again answers duplicate', async () => {
    // Act
    const read = await api.getEvents('support-triage', { unitId, limit: '1' });
    const retry = await api.postEvents({ events: [first] });

    // Assess
    expect(read.status).toBe(200);
    expect(read.body.items).toEqual(servedByTheIndex.slice(0, 1));
    expect(read.body.nextCursor).toEqual(expect.any(String));
    expect(retry.status).toBe(202);
    expect(retry.body.results).toEqual([{ eventId: first.eventId, status: 'duplicate' }]);
  });
});
