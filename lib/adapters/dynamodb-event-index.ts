import { createHash } from 'node:crypto';
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { type Documents, isConditionalCheckFailed } from '#lib/adapters/documents.ts';
import { queryPages, sendUntilProcessed } from '#lib/adapters/dynamodb-pages.ts';
import type { EventType, LedgerEvent } from '#lib/events/schema.ts';
import { toUtcIso } from '#lib/events/timestamps.ts';
import {
  type EventIndex,
  type EventKey,
  type EventPage,
  type EventQuery,
  type EventRange,
  type EventSelection,
  eventKeyString,
  type PutOutcome,
  type RecordedBoundaryViolation,
  type RecordedRolloutPhaseViolation,
  type StoredEvent,
  type StoredEventOf,
  selectedTimeRange,
  timeOrderKey,
} from '#lib/ports.ts';
import type { RetentionMonths } from '#lib/registry/workflows.ts';
import { archiveObjectKey } from '#lib/storage/archive-bucket.ts';
import { EVENT_TIME_SHARDS } from '#lib/storage/ledger-table.ts';
import { mergeByKey, take } from '#lib/util/async-iterables.ts';
import { chunk, mapWithConcurrency } from '#lib/util/concurrency.ts';

/** Parallel conditional puts per request; enough to keep one Lambda busy without exhausting sockets. */
export const PUT_CONCURRENCY = 32;
/** Items per Query page of a full read: about 1 MB of events, DynamoDB's own page limit. */
export const FULL_READ_PAGE_SIZE = 1000;

/**
 * An event as the table stores it. Lean on purpose (issue 12): what the body already says (workflowId,
 * eventId, unitId, occurredAt) is not repeated, since every byte is written to the table, stored for the
 * hot window and backed up; the keys carry what a Query needs.
 */
export interface EventItem {
  pk: string;
  sk: 'EVT';
  gsi1pk: string;
  gsi1sk: string;
  /** gsi2 sorts by gsi1sk too: the same time-order key, stored once. */
  gsi2pk: string;
  type: string;
  receivedAt: string;
  contentHash: string;
  /**
   * The archive object's retention class and request ID (`24m/<requestId>`): with the workflow (pk) and the
   * day it was received, its key (`archiveObjectKey`), in a quarter of the bytes.
   */
  archive: string;
  expiresAt: number;
  killSwitchViolation?: true;
  /** JSON of the boundary rules broken; absent when none. */
  boundaryViolations?: string;
  /** JSON of the rollout-phase violation (`{phase, lane}`); absent when none. */
  rolloutPhaseViolation?: string;
  /** JSON of the tools the boundary does not list; absent when none. */
  unlistedTools?: string;
  /** The pseudonymized event as JSON: kept as a string so any JSON number survives (DynamoDB's can't). */
  body: string;
}

export function eventPartitionKey(key: EventKey): string {
  return `EVT#${key.workflowId}#${key.eventId}`;
}

/** The table key of an event's item, from the event or from its partition key. */
export function eventItemKey(key: EventKey | string): { pk: string; sk: 'EVT' } {
  return { pk: typeof key === 'string' ? key : eventPartitionKey(key), sk: 'EVT' };
}

export function timeShard(eventId: string): number {
  return createHash('sha256').update(eventId).digest().readUInt32BE(0) % EVENT_TIME_SHARDS;
}

export function toEventItem(stored: StoredEvent): EventItem {
  const { event } = stored;
  const timeKey = timeOrderKey(stored);
  return {
    pk: eventPartitionKey(event),
    sk: 'EVT',
    gsi1pk: `WF#${event.workflowId}#${timeShard(event.eventId)}`,
    gsi1sk: timeKey,
    gsi2pk: `UNIT#${event.workflowId}#${event.unitId}`,
    type: event.type,
    receivedAt: stored.receivedAt,
    contentHash: stored.contentHash,
    archive: compactArchiveKey(stored.archiveKey, event.workflowId, stored.receivedAt),
    expiresAt: stored.expiresAt,
    ...(stored.killSwitchViolation ? { killSwitchViolation: true as const } : {}),
    ...(stored.boundaryViolations?.length
      ? { boundaryViolations: JSON.stringify(stored.boundaryViolations) }
      : {}),
    ...(stored.rolloutPhaseViolation
      ? { rolloutPhaseViolation: JSON.stringify(stored.rolloutPhaseViolation) }
      : {}),
    ...(stored.unlistedTools?.length ? { unlistedTools: JSON.stringify(stored.unlistedTools) } : {}),
    body: JSON.stringify(event),
  };
}

/**
 * `raw/retention=24m/workflow=<id>/dt=<day>/<requestId>.ndjson.gz` → `24m/<requestId>`; a key of another
 * shape is kept whole (it starts with `raw/`, which no compact form does).
 */
export function compactArchiveKey(archiveKey: string, workflowId: string, receivedAt: string): string {
  const parts = /^raw\/retention=(\d+)m\/workflow=[^/]+\/dt=[^/]+\/([^/]+)\.ndjson\.gz$/.exec(archiveKey);
  const compact = parts ? `${parts[1]}m/${parts[2]}` : archiveKey;
  // Only when it comes back as the same key: the day in the key is the day it was received.
  return parts && fullArchiveKey(compact, workflowId, receivedAt) === archiveKey ? compact : archiveKey;
}

/** The archive object key back from the item's compact form, the workflow and `receivedAt` (the day). */
function fullArchiveKey(compact: string, workflowId: string, receivedAt: string): string {
  if (compact.startsWith('raw/')) return compact;
  const slash = compact.indexOf('/');
  return archiveObjectKey({
    retentionMonths: Number.parseInt(compact.slice(0, slash), 10) as RetentionMonths,
    workflowId,
    receivedAt: new Date(receivedAt),
    requestId: compact.slice(slash + 1),
  });
}

export function fromEventItem(item: Record<string, unknown>): StoredEvent {
  const sortKey = String(item.gsi1sk);
  return {
    event: JSON.parse(String(item.body)) as LedgerEvent,
    occurredAtMs: Date.parse(sortKey.slice(0, sortKey.indexOf('#'))),
    receivedAt: String(item.receivedAt),
    contentHash: String(item.contentHash),
    expiresAt: item.expiresAt === undefined ? Number.POSITIVE_INFINITY : Number(item.expiresAt),
    archiveKey: fullArchiveKey(
      String(item.archive),
      String(item.pk).split('#')[1] ?? '',
      String(item.receivedAt),
    ),
    ...(item.killSwitchViolation === true ? { killSwitchViolation: true as const } : {}),
    ...(typeof item.boundaryViolations === 'string'
      ? { boundaryViolations: JSON.parse(item.boundaryViolations) as RecordedBoundaryViolation[] }
      : {}),
    ...(typeof item.rolloutPhaseViolation === 'string'
      ? {
          rolloutPhaseViolation: JSON.parse(item.rolloutPhaseViolation) as RecordedRolloutPhaseViolation,
        }
      : {}),
    ...(typeof item.unlistedTools === 'string'
      ? { unlistedTools: JSON.parse(item.unlistedTools) as string[] }
      : {}),
  };
}

/** Read units the index's reads consumed, as DynamoDB reports them (the cost bench measures with it). */
export interface ReadUnitMeter {
  readUnits: number;
}

export class DynamoDbEventIndex implements EventIndex {
  readonly #fullReadPageSize: number;
  readonly #meter: ReadUnitMeter | undefined;

  /**
   * `fullReadPageSize`: items per Query page of `events` and `eventsInRange` (small in paging tests).
   * `meter`: every Query and BatchGet asks for its consumed capacity and adds it there.
   */
  constructor(
    private readonly documents: Documents,
    private readonly tableName: string,
    options: { fullReadPageSize?: number; meter?: ReadUnitMeter } = {},
  ) {
    this.#fullReadPageSize = options.fullReadPageSize ?? FULL_READ_PAGE_SIZE;
    this.#meter = options.meter;
  }

  /** What a request asks for so the meter can count it; nothing without a meter. */
  get #capacity(): { ReturnConsumedCapacity?: 'TOTAL' } {
    return this.#meter ? { ReturnConsumedCapacity: 'TOTAL' } : {};
  }

  /**
   * Adds what a request consumed. `floor`: a Query is counted at least half a unit (one eventually consistent
   * read), even when it finds nothing, which DynamoDB Local reports as 0.
   */
  #count(
    consumed: readonly { CapacityUnits?: number }[] | { CapacityUnits?: number } | undefined,
    floor = 0,
  ): void {
    if (!this.#meter) return;
    const entries = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
    const units = entries.reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
    this.#meter.readUnits += Math.max(units, floor);
  }

  async findContentHashes(keys: readonly EventKey[]): Promise<Map<string, string>> {
    const keyByPk = new Map(keys.map((key) => [eventPartitionKey(key), eventKeyString(key)]));
    // Consistent: a retry right after a failed request must see what that request indexed.
    const items = await this.#getItems([...keyByPk.keys()], {
      projection: 'pk, contentHash',
      consistent: true,
    });
    const hashes = new Map<string, string>();
    for (const [pk, item] of items) {
      const key = keyByPk.get(pk);
      if (key !== undefined) hashes.set(key, String(item.contentHash));
    }
    return hashes;
  }

  /**
   * The event items with these partition keys (BatchGet, 100 keys a request, unprocessed keys retried
   * with backoff), by partition key; absent ones are missing from the map.
   */
  async #getItems(
    pks: readonly string[],
    options: { projection?: string; consistent: boolean },
  ): Promise<Map<string, Record<string, unknown>>> {
    const items = new Map<string, Record<string, unknown>>();
    await Promise.all(
      chunk([...new Set(pks)], 100).map(async (group) => {
        await sendUntilProcessed(
          group.map((pk) => eventItemKey(pk)),
          async (pending: Record<string, unknown>[]) => {
            const response = await this.documents.batchGet({
              RequestItems: {
                [this.tableName]: {
                  Keys: pending,
                  ConsistentRead: options.consistent,
                  ...(options.projection ? { ProjectionExpression: options.projection } : {}),
                },
              },
              ...this.#capacity,
            });
            this.#count(response.ConsumedCapacity);
            for (const item of response.Responses?.[this.tableName] ?? []) items.set(String(item.pk), item);
            return response.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
          },
        );
      }),
    );
    return items;
  }

  /**
   * A page of index entries as whole items: as they are from an index that projects every attribute, else
   * completed from the table by one BatchGet (eventually consistent, like the index they came from). An
   * entry whose item is gone meanwhile (its TTL ran out) is dropped.
   */
  async #whole(entries: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    const partial = entries.filter((entry) => entry.body === undefined);
    if (partial.length === 0) return entries;
    const items = await this.#getItems(
      partial.map((entry) => String(entry.pk)),
      { consistent: false },
    );
    return entries.flatMap((entry) => {
      if (entry.body !== undefined) return [entry];
      const item = items.get(String(entry.pk));
      return item ? [item] : [];
    });
  }

  async putIfAbsent(events: readonly StoredEvent[]): Promise<PutOutcome[]> {
    return mapWithConcurrency(events, PUT_CONCURRENCY, async (stored): Promise<PutOutcome> => {
      try {
        await this.documents.put({
          TableName: this.tableName,
          Item: toEventItem(stored),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
        return { status: 'written' };
      } catch (error) {
        if (isConditionalCheckFailed(error)) {
          // The old item comes back on the error in DynamoDB's wire form, not as a document.
          const existing = (error as { Item?: Record<string, { S?: string }> }).Item;
          const existingHash = existing?.contentHash?.S;
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
  async *eventsInRange(range: EventRange): AsyncGenerator<StoredEvent> {
    for (const partition of this.#partitions(range)) {
      for await (const item of this.#items(partition, range, '', this.#fullReadPageSize)) {
        yield fromEventItem(item);
      }
    }
  }

  /**
   * By unit: one partition of gsi2, in its own order. By workflow: the workflow's time shards of gsi1,
   * merged as they are read, one page per shard in memory at a time.
   */
  async *events<T extends EventType>(selection: EventSelection<T>): AsyncGenerator<StoredEventOf<T>> {
    const streams = this.#partitions(selection).map((partition) =>
      this.#items(partition, selection, '', this.#fullReadPageSize),
    );
    // The filter on `type` is what makes each item a StoredEventOf<T>.
    for await (const item of mergeByKey(streams, sortKeyOf)) yield fromEventItem(item) as StoredEventOf<T>;
  }

  /** The time-ordered read, stopped after `limit` items; the shards are read in parallel and merged. */
  async query(query: EventQuery): Promise<EventPage> {
    // A space sorts below every eventId character, so "cursor + space" is the first key after the cursor.
    const afterKey = query.after !== undefined ? `${query.after} ` : '';
    // Limit counts items before the filter, so each page asks for a few more than the page holds.
    const pageSize = Math.max(query.limit + 1, 25);
    const streams = this.#partitions(query).map((partition) =>
      this.#items(partition, query, afterKey, pageSize),
    );
    const merged = await take(mergeByKey(streams, sortKeyOf), query.limit + 1);
    const page = merged.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(fromEventItem),
      ...(merged.length > query.limit && last ? { after: String(last.gsi1sk) } : {}),
    };
  }

  /** The index partitions a selection reads: the unit's one, or every time shard of the workflow. */
  #partitions(selection: EventSelection): IndexPartition[] {
    if (selection.unitId !== undefined) {
      return [
        {
          index: 'gsi2',
          key: 'gsi2pk',
          sortKey: 'gsi1sk',
          value: `UNIT#${selection.workflowId}#${selection.unitId}`,
        },
      ];
    }
    return Array.from({ length: EVENT_TIME_SHARDS }, (_, shard) => ({
      index: 'gsi1',
      key: 'gsi1pk',
      sortKey: 'gsi1sk',
      value: `WF#${selection.workflowId}#${shard}`,
    }));
  }

  /**
   * One partition's items that match the selection, in sort-key order, after `afterKey` when one is
   * given: asked for the next page only when the last one is used up.
   */
  async *#items(
    partition: IndexPartition,
    selection: EventSelection,
    afterKey: string,
    pageSize: number,
  ): AsyncGenerator<Record<string, unknown>> {
    const { fromMs, toMs } = selectedTimeRange(selection);
    const fromKey = toUtcIso(fromMs);
    const lower = afterKey > fromKey ? afterKey : fromKey;
    // Sort keys start with a fixed-width UTC timestamp, so "< to" is "≤ the bare timestamp of to".
    const upper = toUtcIso(toMs);
    if (lower >= upper) return;
    const violation = selection.onlyViolations;
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: partition.index,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lower AND :upper',
      FilterExpression: [
        // A held event has no TTL (lib/holds/holds.ts): kept, and read, until its hold is removed.
        '(attribute_not_exists(#expires) OR #expires > :now)',
        ...(selection.type ? ['#type = :type'] : []),
        ...(violation === 'kill-switch' ? ['#violation = :true'] : []),
        ...(violation === 'boundary' || violation === 'rollout-phase' || violation === 'unlisted-tool'
          ? ['attribute_exists(#violation)']
          : []),
      ].join(' AND '),
      ExpressionAttributeNames: {
        '#pk': partition.key,
        '#sk': partition.sortKey,
        '#expires': 'expiresAt',
        ...(selection.type ? { '#type': 'type' } : {}),
        ...(violation === 'kill-switch' ? { '#violation': 'killSwitchViolation' } : {}),
        ...(violation === 'boundary' ? { '#violation': 'boundaryViolations' } : {}),
        ...(violation === 'rollout-phase' ? { '#violation': 'rolloutPhaseViolation' } : {}),
        ...(violation === 'unlisted-tool' ? { '#violation': 'unlistedTools' } : {}),
      },
      ExpressionAttributeValues: {
        ':pk': partition.value,
        ':lower': lower,
        ':upper': upper,
        ':now': selection.nowSeconds,
        ...(selection.type ? { ':type': selection.type } : {}),
        ...(violation === 'kill-switch' ? { ':true': true } : {}),
      },
    };
    for await (const page of queryPages(this.documents, { ...input, ...this.#capacity }, pageSize)) {
      this.#count(page.ConsumedCapacity, 0.5);
      yield* await this.#whole(page.Items ?? []);
    }
  }
}

interface IndexPartition {
  readonly index: 'gsi1' | 'gsi2';
  readonly key: string;
  readonly sortKey: string;
  readonly value: string;
}

/** Both indexes sort by gsi1sk, the item's time-order key. */
function sortKeyOf(item: Record<string, unknown>): string {
  return String(item.gsi1sk);
}
