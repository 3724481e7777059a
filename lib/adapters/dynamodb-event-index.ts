import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { toUtcIso } from '#lib/events/timestamps.ts';
import {
  type EventIndex,
  type EventKey,
  type EventPage,
  type EventQuery,
  eventKeyString,
  type PutOutcome,
  type RecordedBoundaryViolation,
  type RecordedRolloutPhaseViolation,
  type StoredEvent,
} from '#lib/ports.ts';
import { EVENT_TIME_SHARDS } from '#lib/storage/ledger-table.ts';
import { chunk, mapWithConcurrency } from '#lib/util/concurrency.ts';

/** Parallel conditional puts per request; enough to keep one Lambda busy without exhausting sockets. */
export const PUT_CONCURRENCY = 32;
export const MAX_BATCH_GET_ATTEMPTS = 8;

export interface EventItem {
  pk: string;
  sk: 'EVT';
  gsi1pk: string;
  gsi1sk: string;
  gsi2pk: string;
  gsi2sk: string;
  workflowId: string;
  eventId: string;
  type: string;
  unitId: string;
  occurredAt: string;
  receivedAt: string;
  contentHash: string;
  archiveKey: string;
  expiresAt: number;
  killSwitchViolation?: true;
  /** JSON of the boundary rules broken; absent when none. */
  boundaryViolations?: string;
  /** JSON of the rollout-phase violation (`{phase, lane}`); absent when none. */
  rolloutPhaseViolation?: string;
  /** The pseudonymized event as JSON: kept as a string so any JSON number survives (DynamoDB's can't). */
  body: string;
}

export function eventPartitionKey(key: EventKey): string {
  return `EVT#${key.workflowId}#${key.eventId}`;
}

export function timeShard(eventId: string): number {
  return createHash('sha256').update(eventId).digest().readUInt32BE(0) % EVENT_TIME_SHARDS;
}

export function toEventItem(stored: StoredEvent): EventItem {
  const { event } = stored;
  const timeKey = `${toUtcIso(stored.occurredAtMs)}#${event.eventId}`;
  return {
    pk: eventPartitionKey(event),
    sk: 'EVT',
    gsi1pk: `WF#${event.workflowId}#${timeShard(event.eventId)}`,
    gsi1sk: timeKey,
    gsi2pk: `UNIT#${event.workflowId}#${event.unitId}`,
    gsi2sk: timeKey,
    workflowId: event.workflowId,
    eventId: event.eventId,
    type: event.type,
    unitId: event.unitId,
    occurredAt: event.occurredAt,
    receivedAt: stored.receivedAt,
    contentHash: stored.contentHash,
    archiveKey: stored.archiveKey,
    expiresAt: stored.expiresAt,
    ...(stored.killSwitchViolation ? { killSwitchViolation: true as const } : {}),
    ...(stored.boundaryViolations?.length
      ? { boundaryViolations: JSON.stringify(stored.boundaryViolations) }
      : {}),
    ...(stored.rolloutPhaseViolation
      ? { rolloutPhaseViolation: JSON.stringify(stored.rolloutPhaseViolation) }
      : {}),
    body: JSON.stringify(event),
  };
}

export function fromEventItem(item: Record<string, unknown>): StoredEvent {
  const sortKey = String(item.gsi1sk);
  return {
    event: JSON.parse(String(item.body)) as LedgerEvent,
    occurredAtMs: Date.parse(sortKey.slice(0, sortKey.indexOf('#'))),
    receivedAt: String(item.receivedAt),
    contentHash: String(item.contentHash),
    expiresAt: Number(item.expiresAt),
    archiveKey: String(item.archiveKey),
    ...(item.killSwitchViolation === true ? { killSwitchViolation: true as const } : {}),
    ...(typeof item.boundaryViolations === 'string'
      ? { boundaryViolations: JSON.parse(item.boundaryViolations) as RecordedBoundaryViolation[] }
      : {}),
    ...(typeof item.rolloutPhaseViolation === 'string'
      ? {
          rolloutPhaseViolation: JSON.parse(item.rolloutPhaseViolation) as RecordedRolloutPhaseViolation,
        }
      : {}),
  };
}

export class DynamoDbEventIndex implements EventIndex {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findContentHashes(keys: readonly EventKey[]): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    const unique = [...new Map(keys.map((key) => [eventPartitionKey(key), key])).keys()];
    await Promise.all(
      chunk(unique, 100).map(async (pks) => {
        let pending: Record<string, unknown>[] = pks.map((pk) => ({ pk, sk: 'EVT' }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt >= MAX_BATCH_GET_ATTEMPTS) throw new Error('DynamoDB kept returning unprocessed keys');
          if (attempt > 0) await sleep(25 * 2 ** attempt);
          const response = await this.documents.send(
            new BatchGetCommand({
              RequestItems: {
                // Consistent: a retry right after a failed request must see what that request indexed.
                [this.tableName]: {
                  Keys: pending,
                  ProjectionExpression: 'workflowId, eventId, contentHash',
                  ConsistentRead: true,
                },
              },
            }),
          );
          for (const item of response.Responses?.[this.tableName] ?? []) {
            hashes.set(
              eventKeyString({ workflowId: String(item.workflowId), eventId: String(item.eventId) }),
              String(item.contentHash),
            );
          }
          pending = response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        }
      }),
    );
    return hashes;
  }

  async putIfAbsent(events: readonly StoredEvent[]): Promise<PutOutcome[]> {
    return mapWithConcurrency(events, PUT_CONCURRENCY, async (stored): Promise<PutOutcome> => {
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toEventItem(stored),
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { status: 'written' };
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          const existingHash = error.Item?.contentHash?.S;
          return { status: 'exists', existingContentHash: existingHash ?? '' };
        }
        throw error;
      }
    });
  }

  /**
   * Each time shard to its end, one after the other: the same order every run (so sums over the events
   * come out the same), each item read once, one page in memory at a time.
   */
  async forEachInRange(
    range: { workflowId: string; fromMs: number; toMs: number; nowSeconds: number },
    visit: (stored: StoredEvent) => void,
  ): Promise<void> {
    for (let shard = 0; shard < EVENT_TIME_SHARDS; shard++) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :lower AND :upper',
            FilterExpression: 'expiresAt > :now',
            ExpressionAttributeValues: {
              ':pk': `WF#${range.workflowId}#${shard}`,
              ':lower': toUtcIso(range.fromMs),
              ':upper': toUtcIso(range.toMs),
              ':now': range.nowSeconds,
            },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) visit(fromEventItem(item));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
  }

  /**
   * Time-ordered read. By unit: one partition of gsi2. By workflow: the workflow's time shards of gsi1
   * are read in parallel and merged, each asked for at most `limit` items past the cursor.
   */
  async query(query: EventQuery): Promise<EventPage> {
    // A space sorts below every eventId character, so "cursor + space" is the first key after the cursor.
    const fromKey = toUtcIso(query.fromMs);
    const afterKey = query.after !== undefined ? `${query.after} ` : '';
    const lower = afterKey > fromKey ? afterKey : fromKey;
    // Sort keys start with a fixed-width UTC timestamp, so "< to" is "≤ the bare timestamp of to".
    const upper = toUtcIso(query.toMs);
    if (lower >= upper) return { items: [] };
    const partitions =
      query.unitId !== undefined
        ? [
            {
              index: 'gsi2',
              key: 'gsi2pk',
              sortKey: 'gsi2sk',
              value: `UNIT#${query.workflowId}#${query.unitId}`,
            },
          ]
        : Array.from({ length: EVENT_TIME_SHARDS }, (_, shard) => ({
            index: 'gsi1',
            key: 'gsi1pk',
            sortKey: 'gsi1sk',
            value: `WF#${query.workflowId}#${shard}`,
          }));
    const perPartition = await Promise.all(
      partitions.map((partition) =>
        this.#collect(
          {
            TableName: this.tableName,
            IndexName: partition.index,
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lower AND :upper',
            FilterExpression: [
              '#expires > :now',
              ...(query.type ? ['#type = :type'] : []),
              ...(query.onlyViolations === 'kill-switch' ? ['#violation = :true'] : []),
              ...(query.onlyViolations === 'boundary' || query.onlyViolations === 'rollout-phase'
                ? ['attribute_exists(#violation)']
                : []),
            ].join(' AND '),
            ExpressionAttributeNames: {
              '#pk': partition.key,
              '#sk': partition.sortKey,
              '#expires': 'expiresAt',
              ...(query.type ? { '#type': 'type' } : {}),
              ...(query.onlyViolations === 'kill-switch' ? { '#violation': 'killSwitchViolation' } : {}),
              ...(query.onlyViolations === 'boundary' ? { '#violation': 'boundaryViolations' } : {}),
              ...(query.onlyViolations === 'rollout-phase' ? { '#violation': 'rolloutPhaseViolation' } : {}),
            },
            ExpressionAttributeValues: {
              ':pk': partition.value,
              ':lower': lower,
              ':upper': upper,
              ':now': query.nowSeconds,
              ...(query.type ? { ':type': query.type } : {}),
              ...(query.onlyViolations === 'kill-switch' ? { ':true': true } : {}),
            },
          },
          query.limit + 1,
        ),
      ),
    );
    const merged = perPartition.flat().sort((a, b) => compare(String(a.gsi1sk), String(b.gsi1sk)));
    const page = merged.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(fromEventItem),
      ...(merged.length > query.limit && last ? { after: String(last.gsi1sk) } : {}),
    };
  }

  /** Reads one partition in order until `wanted` items passed the filter or the range is exhausted. */
  async #collect(input: QueryCommandInput, wanted: number): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const response = await this.documents.send(
        // Limit counts items before the filter, so ask for a few more than still wanted.
        new QueryCommand({
          ...input,
          Limit: Math.max(wanted - items.length, 25),
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(response.Items ?? []));
      startKey = response.LastEvaluatedKey;
    } while (startKey && items.length < wanted);
    return items;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
