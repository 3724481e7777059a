import { beforeEach, describe, expect, it } from 'vitest';
import type { LedgerEvent } from '#lib/events/schema.ts';
import type { EventQuery, StoredEvent } from '#lib/ports.ts';
import { tieredEventPage, tieredEventsInRange } from '#lib/read/tiered-events.ts';
import { hotFloorMs } from '#lib/storage/ledger-table.ts';
import { InMemoryArchivedEvents } from '../support/in-memory-archived-events.ts';
import { InMemoryEventArchive, InMemoryEventIndex } from '../support/in-memory-stores.ts';

const NOW_MS = Date.parse('2026-11-24T12:00:00Z');
const HOT_DAYS = 45;
const FLOOR_MS = hotFloorMs(NOW_MS, HOT_DAYS);

let index: InMemoryEventIndex;
let archive: InMemoryEventArchive;
let archived: InMemoryArchivedEvents;

function stored(eventId: string, occurredAtMs: number, type = 'action'): StoredEvent {
  const receivedAt = new Date(occurredAtMs + 60_000).toISOString();
  return {
    event: {
      eventId,
      type,
      workflowId: 'support-triage',
      unitId: 'ticket-1',
      occurredAt: new Date(occurredAtMs).toISOString(),
    } as unknown as LedgerEvent,
    occurredAtMs,
    receivedAt,
    contentHash: `hash-${eventId}`,
    expiresAt: Math.floor(NOW_MS / 1000) + 86_400,
    archiveKey: `raw/retention=24m/workflow=support-triage/dt=${receivedAt.slice(0, 10)}/req-${eventId}.ndjson.gz`,
  };
}

/** Archived (as ingest always does), and indexed too when `indexed`. */
function keep(event: StoredEvent, indexed: boolean): void {
  archive.objects.set(event.archiveKey, [event]);
  if (indexed) index.add({ ...event, receivedAt: 'index copy' });
}

const DAY = 86_400_000;
const cold = [1, 2, 3].map((n) => stored(`cold-${n}`, FLOOR_MS - 400 * DAY + n * 60_000));
const coldKeptByIndex = stored('rollback-1', FLOOR_MS - 200 * DAY, 'rollback');
const hot = [1, 2].map((n) => stored(`hot-${n}`, FLOOR_MS + n * 60_000));

beforeEach(() => {
  index = new InMemoryEventIndex();
  archive = new InMemoryEventArchive();
  archived = new InMemoryArchivedEvents(archive);
  for (const event of cold) keep(event, false);
  keep(coldKeptByIndex, true);
  for (const event of hot) keep(event, true);
});

const deps = () => ({ index, archive: archived, hotIndexDays: HOT_DAYS });
const query = (overrides: Partial<EventQuery> = {}): EventQuery => ({
  workflowId: 'support-triage',
  limit: 100,
  nowSeconds: Math.floor(NOW_MS / 1000),
  toMs: NOW_MS,
  ...overrides,
});

describe('tieredEventPage: the index from the hot floor on, the archive with the index before it', () => {
  it('never asks the archive when the whole range is at or after the hot floor', async () => {
    // Act
    const page = await tieredEventPage(query({ fromMs: FLOOR_MS }), NOW_MS, deps());

    // Assess
    expect(page.items.map((item) => item.event.eventId)).toEqual(['hot-1', 'hot-2']);
    expect(archived.calls).toEqual([]);
  });

  it('reads across the boundary in one time order, each event once, the index item where both have it', async () => {
    // Act
    const page = await tieredEventPage(query(), NOW_MS, deps());

    // Assess
    expect(page.items.map((item) => item.event.eventId)).toEqual([
      'cold-1',
      'cold-2',
      'cold-3',
      'rollback-1',
      'hot-1',
      'hot-2',
    ]);
    expect(page.items.find((item) => item.event.eventId === 'rollback-1')?.receivedAt).toBe('index copy');
    expect(page.after).toBeUndefined();
  });

  it('pages with one cursor across both tiers, and asks the archive no more once the cursor is past the floor', async () => {
    // Act
    const ids: string[] = [];
    const callsAfterPage: number[] = [];
    let after: string | undefined;
    do {
      const page = await tieredEventPage(query({ limit: 1, ...(after ? { after } : {}) }), NOW_MS, deps());
      ids.push(...page.items.map((item) => item.event.eventId));
      callsAfterPage.push(archived.calls.length);
      after = page.after;
    } while (after);

    // Assess
    expect(ids).toEqual(['cold-1', 'cold-2', 'cold-3', 'rollback-1', 'hot-1', 'hot-2']);
    // The last page starts after hot-1: the index alone
    expect(callsAfterPage.at(-1)).toBe(callsAfterPage.at(-2));
    expect(callsAfterPage.at(-2)).toBeGreaterThan(0);
  });

  it('applies the filters in both tiers', async () => {
    // Act
    const rollbacks = await tieredEventPage(query({ type: 'rollback' }), NOW_MS, deps());
    const oldOnes = await tieredEventPage(
      query({ fromMs: FLOOR_MS - 401 * DAY, toMs: FLOOR_MS - 399 * DAY }),
      NOW_MS,
      deps(),
    );

    // Assess
    expect(rollbacks.items.map((item) => item.event.eventId)).toEqual(['rollback-1']);
    expect(oldOnes.items.map((item) => item.event.eventId)).toEqual(['cold-1', 'cold-2', 'cold-3']);
  });
});

describe('tieredEventsInRange: a whole range over both tiers, for the jobs', () => {
  const range = (fromMs: number) => ({
    workflowId: 'support-triage',
    fromMs,
    toMs: NOW_MS,
    nowSeconds: Math.floor(NOW_MS / 1000),
  });
  const read = async (fromMs: number) => {
    const ids: string[] = [];
    for await (const item of tieredEventsInRange(range(fromMs), NOW_MS, deps())) ids.push(item.event.eventId);
    return ids.sort();
  };

  it('is the index range read alone when the range starts at or after the hot floor', async () => {
    expect(await read(FLOOR_MS)).toEqual(['hot-1', 'hot-2']);
    expect(archived.calls).toEqual([]);
  });

  it('reads what came before the floor from the archive, each event once, and the rest from the index', async () => {
    expect(await read(FLOOR_MS - 500 * DAY)).toEqual([
      'cold-1',
      'cold-2',
      'cold-3',
      'hot-1',
      'hot-2',
      'rollback-1',
    ]);
    expect(archived.calls.length).toBeGreaterThan(0);
  });
});
