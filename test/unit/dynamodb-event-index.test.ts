import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import {
  DynamoDbEventIndex,
  fromEventItem,
  timeShard,
  toEventItem,
} from '#lib/adapters/dynamodb-event-index.ts';
import { BATCH_RETRY_BASE_DELAY_MS, batchRetryDelayMs } from '#lib/adapters/dynamodb-pages.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { EVENT_TIME_SHARDS } from '#lib/storage/ledger-table.ts';

// DynamoDB Local never returns UnprocessedKeys or throttles, so these two behaviours use a mocked client.
const dynamodb = mockClient(DynamoDBDocumentClient);
afterEach(() => {
  dynamodb.reset();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const client = new DynamoDBClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
});
const index = new DynamoDbEventIndex(makeDocumentClient(client), 'ledger');
const stored = (eventId: string) => ({
  event: {
    type: 'unit.started',
    eventId,
    workflowId: 'code-review',
    unitId: 'pr-1',
    occurredAt: '2026-11-24T08:00:00+01:00',
  } as LedgerEvent,
  occurredAtMs: Date.parse('2026-11-24T07:00:00Z'),
  receivedAt: '2026-11-24T08:00:00.000Z',
  contentHash: `hash-${eventId}`,
  expiresAt: 1,
  archiveKey: 'raw/x',
});

describe('DynamoDbEventIndex', () => {
  it('asks again for keys DynamoDB left unprocessed', async () => {
    // Prepare
    const key = (id: string) => ({ pk: `EVT#code-review#${id}`, sk: 'EVT' });
    // What the projection asks for: the partition key (it names the event) and the content hash.
    const item = (id: string) => ({ pk: `EVT#code-review#${id}`, contentHash: `h-${id}` });
    dynamodb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { ledger: [item('a')] }, UnprocessedKeys: { ledger: { Keys: [key('b')] } } })
      .resolvesOnce({ Responses: { ledger: [item('b')] } });

    // Act
    const hashes = await index.findContentHashes([
      { workflowId: 'code-review', eventId: 'a' },
      { workflowId: 'code-review', eventId: 'b' },
    ]);

    // Assess
    expect(hashes).toEqual(
      new Map([
        ['code-review#a', 'h-a'],
        ['code-review#b', 'h-b'],
      ]),
    );
    expect(dynamodb.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('waits a random share of an exponentially growing cap before each retry (full jitter)', () => {
    for (const attempt of [1, 2, 5]) {
      const cap = BATCH_RETRY_BASE_DELAY_MS * 2 ** attempt;
      expect(batchRetryDelayMs(attempt, () => 0)).toBe(0);
      expect(batchRetryDelayMs(attempt, () => 0.5)).toBe(cap / 2);
      expect(batchRetryDelayMs(attempt, () => 0.999_999)).toBe(cap - 1);
    }
    // Two callers throttled together come back at different times.
    const delays = new Set(Array.from({ length: 50 }, () => batchRetryDelayMs(3)));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('asks again for unprocessed keys only after the jittered wait', async () => {
    // Prepare: Math.random gives 0.5, so the first retry waits half of 2 × 25 ms
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const key = { pk: 'EVT#code-review#a', sk: 'EVT' };
    dynamodb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { ledger: [] }, UnprocessedKeys: { ledger: { Keys: [key] } } })
      .resolvesOnce({
        Responses: { ledger: [{ pk: 'EVT#code-review#a', contentHash: 'h-a' }] },
      });

    // Act
    const found = index.findContentHashes([{ workflowId: 'code-review', eventId: 'a' }]);
    await vi.advanceTimersByTimeAsync(BATCH_RETRY_BASE_DELAY_MS - 1);
    const callsBeforeTheWait = dynamodb.commandCalls(BatchGetCommand).length;
    await vi.advanceTimersByTimeAsync(1);

    // Assess
    expect(callsBeforeTheWait).toBe(1);
    expect(await found).toEqual(new Map([['code-review#a', 'h-a']]));
    expect(dynamodb.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('lets a throttling error through, so the request answers 5xx and the caller retries', async () => {
    dynamodb
      .on(PutCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    await expect(index.putIfAbsent([stored('a')])).rejects.toThrow('slow down');
  });

  it('knows a failed condition by the error name alone, and reads the stored hash off the error', async () => {
    // Prepare: not the SDK's exception class, as another transport throws it
    const failed = Object.assign(new Error('The conditional request failed'), {
      name: 'ConditionalCheckFailedException',
      Item: { contentHash: { S: 'hash-stored' } },
    });
    dynamodb.on(PutCommand).rejects(failed);

    // Act
    const outcomes = await index.putIfAbsent([stored('a')]);

    // Assess
    expect(outcomes).toEqual([{ status: 'exists', existingContentHash: 'hash-stored' }]);
  });

  it('spreads one workflow over every time shard', () => {
    const shards = new Set(Array.from({ length: 2000 }, (_, i) => timeShard(`evt-${i}`)));
    expect(shards.size).toBe(EVENT_TIME_SHARDS);
  });

  it('keys items by UTC time, whatever offset the event was sent with', () => {
    const item = toEventItem(stored('e1'));
    expect(item.gsi1sk).toBe('2026-11-24T07:00:00.000Z#e1');
    expect(item.gsi2pk).toBe('UNIT#code-review#pr-1');
    expect(JSON.parse(item.body).occurredAt).toBe('2026-11-24T08:00:00+01:00');
  });

  it('stores what the body says once, and the archive key compactly, and reads the same event back', () => {
    // Prepare
    const archiveKey =
      'raw/retention=18m/workflow=code-review/dt=2026-11-24/0mi4x2k1s-8f3a2b1c9d0e.ndjson.gz';
    const original = {
      ...stored('e1'),
      archiveKey,
      boundaryViolations: [{ kind: 'cannot' as const, ruleId: 'r1', tool: 'merge' }],
    };

    // Act
    const item = toEventItem(original);
    const back = fromEventItem(item as unknown as Record<string, unknown>);

    // Assess
    for (const repeated of ['workflowId', 'eventId', 'unitId', 'occurredAt', 'gsi2sk', 'archiveKey']) {
      expect(item).not.toHaveProperty(repeated);
    }
    expect(item.archive).toBe('18m/0mi4x2k1s-8f3a2b1c9d0e');
    expect(back).toEqual(original);
  });

  it('keeps an archive key of another shape whole', () => {
    for (const archiveKey of ['raw/x', 'raw/retention=18m/workflow=code-review/dt=2026-11-23/r.ndjson.gz']) {
      // The second names another day than the one the event was received: compacting would change it.
      const item = toEventItem({ ...stored('e1'), archiveKey });
      expect(item.archive).toBe(archiveKey);
      expect(fromEventItem(item as unknown as Record<string, unknown>).archiveKey).toBe(archiveKey);
    }
  });
});
