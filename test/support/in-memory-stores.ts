import type { EventArchive, EventIndex, EventPage, EventQuery, PutOutcome, StoredEvent } from '#lib/ports.ts';
import { eventKeyString } from '#lib/ports.ts';

/** The ports over plain maps: real behaviour (first write stands), no network, for unit tests. */
export class InMemoryEventIndex implements EventIndex {
  readonly items = new Map<string, StoredEvent>();
  failNextPut = false;

  async findContentHashes(keys: readonly { workflowId: string; eventId: string }[]) {
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
    return events.map((stored) => {
      const key = eventKeyString(stored.event);
      const existing = this.items.get(key);
      if (existing) return { status: 'exists', existingContentHash: existing.contentHash };
      this.items.set(key, stored);
      return { status: 'written' };
    });
  }

  async forEachInRange(
    range: { workflowId: string; fromMs: number; toMs: number; nowSeconds: number },
    visit: (stored: StoredEvent) => void,
  ): Promise<void> {
    for (const stored of this.items.values()) {
      const { event, occurredAtMs } = stored;
      if (
        event.workflowId === range.workflowId &&
        occurredAtMs >= range.fromMs &&
        occurredAtMs < range.toMs
      ) {
        visit(stored);
      }
    }
  }

  async query(query: EventQuery): Promise<EventPage> {
    const items = [...this.items.values()]
      .filter(
        (s) =>
          s.event.workflowId === query.workflowId &&
          s.occurredAtMs >= query.fromMs &&
          s.occurredAtMs < query.toMs,
      )
      .sort((a, b) => a.occurredAtMs - b.occurredAtMs);
    return { items: items.slice(0, query.limit) };
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
