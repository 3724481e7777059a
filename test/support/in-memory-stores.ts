import type { EventType } from '#lib/events/schema.ts';
import {
  type EventArchive,
  type EventIndex,
  type EventKey,
  type EventPage,
  type EventQuery,
  type EventRange,
  type EventSelection,
  eventKeyString,
  type PutOutcome,
  type StoredEvent,
  type StoredEventOf,
  selectedTimeRange,
  timeOrderKey,
  type ViolationKind,
} from '#lib/ports.ts';

/**
 * The event index over a plain map, keeping every promise of the port (lib/ports.ts) that the DynamoDB
 * adapter keeps: the contract suite (test/support/contracts/event-index.contract.ts) runs against both.
 */
export class InMemoryEventIndex implements EventIndex {
  readonly items = new Map<string, StoredEvent>();
  failNextPut = false;

  async findContentHashes(keys: readonly EventKey[]) {
    const found = new Map<string, string>();
    for (const key of keys) {
      const stored = this.items.get(eventKeyString(key));
      if (stored) found.set(eventKeyString(key), stored.contentHash);
    }
    return found;
  }

  async putIfAbsent(events: readonly StoredEvent[]): Promise<PutOutcome[]> {
    if (this.failNextPut) {
      this.failNextPut = false;
      throw new Error('simulated DynamoDB outage');
    }
    return this.add(...events);
  }

  /** Stores events as `putIfAbsent` does, at once: for a test's Prepare step. */
  add(...events: StoredEvent[]): PutOutcome[] {
    return events.map((stored) => {
      const key = eventKeyString(stored.event);
      const existing = this.items.get(key);
      if (existing) return { status: 'exists', existingContentHash: existing.contentHash };
      this.items.set(key, stored);
      return { status: 'written' };
    });
  }

  /** Insertion order: a fixed order that is not time order, as the port allows. */
  async *eventsInRange(range: EventRange): AsyncGenerator<StoredEvent> {
    for (const stored of [...this.items.values()]) if (selects(range, stored)) yield stored;
  }

  async *events<T extends EventType>(selection: EventSelection<T>): AsyncGenerator<StoredEventOf<T>> {
    // Selected by `type`, so each is a StoredEventOf<T>.
    yield* this.#selected(selection) as StoredEventOf<T>[];
  }

  async query(query: EventQuery): Promise<EventPage> {
    const after = query.after;
    const selected = this.#selected(query).filter(
      (stored) => after === undefined || timeOrderKey(stored) > after,
    );
    const items = selected.slice(0, query.limit);
    const last = items.at(-1);
    return {
      items,
      ...(selected.length > query.limit && last ? { after: timeOrderKey(last) } : {}),
    };
  }

  #selected(selection: EventSelection): StoredEvent[] {
    return [...this.items.values()]
      .filter((stored) => selects(selection, stored))
      .map((stored) => ({ stored, key: timeOrderKey(stored) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ stored }) => stored);
  }
}

/** Whether a selection (lib/ports.ts `EventSelection`) takes this stored event. */
function selects(selection: EventSelection, stored: StoredEvent): boolean {
  const { event } = stored;
  const { fromMs, toMs } = selectedTimeRange(selection);
  return (
    event.workflowId === selection.workflowId &&
    stored.occurredAtMs >= fromMs &&
    stored.occurredAtMs < toMs &&
    stored.expiresAt > selection.nowSeconds &&
    (selection.unitId === undefined || event.unitId === selection.unitId) &&
    (selection.type === undefined || event.type === selection.type) &&
    (selection.onlyViolations === undefined || hasViolation(stored, selection.onlyViolations))
  );
}

function hasViolation(stored: StoredEvent, kind: ViolationKind): boolean {
  switch (kind) {
    case 'kill-switch':
      return stored.killSwitchViolation === true;
    case 'boundary':
      return (stored.boundaryViolations?.length ?? 0) > 0;
    case 'rollout-phase':
      return stored.rolloutPhaseViolation !== undefined;
  }
}

export class InMemoryEventArchive implements EventArchive {
  readonly objects = new Map<string, StoredEvent[]>();
  failNextPut = false;

  async putBatch(key: string, events: readonly StoredEvent[]): Promise<void> {
    if (this.failNextPut) {
      this.failNextPut = false;
      throw new Error('simulated S3 outage');
    }
    this.objects.set(key, [...events]);
  }
}
