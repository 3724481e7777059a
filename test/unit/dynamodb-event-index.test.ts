import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEventIndex, timeShard, toEventItem } from '#lib/adapters/dynamodb-event-index.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { EVENT_TIME_SHARDS } from '#lib/storage/ledger-table.ts';

// DynamoDB Local never returns UnprocessedKeys or throttles, so these two behaviours use a mocked client.
const dynamodb = mockClient(DynamoDBDocumentClient);
afterEach(() => dynamodb.reset());

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
    const item = (id: string) => ({ workflowId: 'code-review', eventId: id, contentHash: `h-${id}` });
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

  it('lets a throttling error through, so the request answers 5xx and the caller retries', async () => {
    dynamodb
      .on(PutCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    await expect(index.putIfAbsent([stored('a')])).rejects.toThrow('slow down');
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
});
