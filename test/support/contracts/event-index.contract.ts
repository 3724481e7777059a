import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EventType, LedgerEvent } from '#lib/events/schema.ts';
import {
  type EventIndex,
  type EventSelection,
  eventKeyString,
  type StoredEvent,
  timeOrderKey,
} from '#lib/ports.ts';

/**
 * The promises of `EventIndex` (lib/ports.ts), as one suite run against every implementation: the
 * in-memory fake the unit tests use (test/unit) and the DynamoDB adapter on DynamoDB Local
 * (test/integration). Each test writes under a workflow ID of its own, so the suite can share a table.
 */
export function describeEventIndexContract(name: string, makeIndex: () => EventIndex): void {
  describe(`EventIndex contract: ${name}`, () => {
    let index: EventIndex;
    let workflowId: string;
    let event: (eventId: string, facts?: EventFacts) => StoredEvent;

    beforeEach(() => {
      index = makeIndex();
      workflowId = `contract-${randomUUID().slice(0, 12)}`;
      event = (eventId, facts) => contractEvent(workflowId, eventId, facts);
    });

    const put = async (...events: StoredEvent[]) => {
      const outcomes = await index.putIfAbsent(events);
      expect(outcomes.every((outcome) => outcome.status === 'written')).toBe(true);
    };
    const ids = (events: readonly StoredEvent[]) => events.map((stored) => stored.event.eventId);

    describe('writes', () => {
      it('keeps the first write of a key: a second one answers `exists` with the first content hash', async () => {
        // Prepare
        await put(event('e1', { contentHash: 'first' }));

        // Act
        const outcomes = await index.putIfAbsent([
          event('e1', { contentHash: 'second', unitId: 'other' }),
          event('e2'),
        ]);

        // Assess
        expect(outcomes).toEqual([{ status: 'exists', existingContentHash: 'first' }, { status: 'written' }]);
        const [stored] = await collect(index.events({ workflowId, nowSeconds: NOW_S }));
        expect(stored).toMatchObject({ contentHash: 'first', event: { eventId: 'e1', unitId: 'u1' } });
      });

      it('gives back what was written, violations included', async () => {
        const written = event('e1', {
          type: 'action',
          killSwitch: true,
          boundary: true,
          rolloutPhase: true,
        });
        await put(written);
        expect(await collect(index.events({ workflowId, nowSeconds: NOW_S }))).toEqual([written]);
      });

      it('finds the content hashes of stored keys only, keyed by workflow and event ID', async () => {
        // Prepare: more keys than one DynamoDB BatchGet takes (100), some asked twice, some never stored
        const stored = Array.from({ length: 120 }, (_, i) => event(`e${i}`, { contentHash: `hash-${i}` }));
        await put(...stored);
        const keys = [
          ...stored.map((s) => s.event),
          { workflowId, eventId: 'e7' },
          { workflowId, eventId: 'missing' },
          { workflowId: `${workflowId}-other`, eventId: 'e1' },
        ];

        // Act
        const hashes = await index.findContentHashes(keys);

        // Assess
        expect(hashes.size).toBe(120);
        expect(hashes.get(eventKeyString({ workflowId, eventId: 'e7' }))).toBe('hash-7');
        expect(hashes.has(eventKeyString({ workflowId, eventId: 'missing' }))).toBe(false);
        expect(await index.findContentHashes([])).toEqual(new Map());
      });
    });

    // Every selection promise holds for both time-ordered reads: the paged `query` and `events`.
    const reads: [string, (selection: EventSelection) => Promise<StoredEvent[]>][] = [
      ['query, page after page', (selection) => allPages(index, selection, 2)],
      ['events', (selection) => collect(index.events(selection))],
    ];
    describe.each(reads)('%s', (_, read) => {
      it('returns the workflow’s events in time order, ties in time by event ID, over every shard', async () => {
        // Prepare: 40 events in scrambled order, spread over the shards; two share an instant
        const stored = Array.from({ length: 40 }, (_, i) =>
          event(`e${String((i * 17) % 40).padStart(2, '0')}`, { at: T0 + ((i * 17) % 40) * MINUTE }),
        );
        await put(
          ...stored,
          event('tie-b', { at: T0 + 5 * MINUTE }),
          event('tie-a', { at: T0 + 5 * MINUTE }),
        );
        await put(contractEvent(`${workflowId}-other`, 'foreign', { at: T0 }));

        // Act
        const read1 = await read({ workflowId, nowSeconds: NOW_S });

        // Assess
        expect(read1).toHaveLength(42);
        const keys = read1.map(timeOrderKey);
        expect(keys).toEqual([...keys].sort());
        expect(ids(read1).slice(5, 8)).toEqual(['e05', 'tie-a', 'tie-b']);
        expect(read1.every((s) => s.event.workflowId === workflowId)).toBe(true);
      });

      it('reads [fromMs, toMs): an event at fromMs is in, one at toMs is out', async () => {
        await put(
          event('before', { at: T0 - 1 }),
          event('at-from', { at: T0 }),
          event('inside', { at: T0 + HOUR }),
          event('just-before-to', { at: T0 + DAY - 1 }),
          event('at-to', { at: T0 + DAY }),
        );
        const selected = await read({ workflowId, fromMs: T0, toMs: T0 + DAY, nowSeconds: NOW_S });
        expect(ids(selected)).toEqual(['at-from', 'inside', 'just-before-to']);
        expect(ids(await read({ workflowId, fromMs: T0 + DAY, toMs: T0 + DAY, nowSeconds: NOW_S }))).toEqual(
          [],
        );
      });

      it('reads from the beginning to the end of time when no bounds are given', async () => {
        await put(
          event('old', { at: Date.UTC(1990, 0, 1) }),
          event('far', { at: Date.UTC(2999, 0, 1) }),
          // Years 0000–0099 are kept as sent, and still in time order.
          event('first', { at: Date.parse('0000-01-01T00:00:00.000Z') }),
          event('roman', { at: Date.parse('0050-06-15T12:00:00.000Z') }),
        );
        expect(ids(await read({ workflowId, nowSeconds: NOW_S }))).toEqual(['first', 'roman', 'old', 'far']);
      });

      it('selects one unit’s events', async () => {
        await put(
          event('a1', { unitId: 'unit-a', at: T0 + 2 * MINUTE }),
          event('b1', { unitId: 'unit-b', at: T0 }),
          event('a2', { unitId: 'unit-a', at: T0 + MINUTE }),
          event('ab', { unitId: 'unit-ab', at: T0 }),
        );
        await put(contractEvent(`${workflowId}-other`, 'foreign', { unitId: 'unit-a', at: T0 }));
        expect(ids(await read({ workflowId, unitId: 'unit-a', nowSeconds: NOW_S }))).toEqual(['a2', 'a1']);
      });

      it('selects one type, alone or with a unit', async () => {
        await put(
          event('s', { type: 'unit.started', at: T0 }),
          event('a', { type: 'action', at: T0 + MINUTE }),
          event('c', { type: 'unit.completed', at: T0 + 2 * MINUTE }),
          event('a-other-unit', { type: 'action', unitId: 'u2', at: T0 + 3 * MINUTE }),
        );
        expect(ids(await read({ workflowId, type: 'action', nowSeconds: NOW_S }))).toEqual([
          'a',
          'a-other-unit',
        ]);
        expect(ids(await read({ workflowId, unitId: 'u1', type: 'action', nowSeconds: NOW_S }))).toEqual([
          'a',
        ]);
      });

      it('selects the actions that broke the kill switch, a boundary, or their rollout phase', async () => {
        await put(
          event('plain', { type: 'action', at: T0 }),
          event('kill', { type: 'action', killSwitch: true, at: T0 + 1 }),
          event('boundary', { type: 'action', boundary: true, at: T0 + 2 }),
          event('phase', { type: 'action', rolloutPhase: true, at: T0 + 3 }),
          event('all', { type: 'action', killSwitch: true, boundary: true, rolloutPhase: true, at: T0 + 4 }),
        );
        const violating = async (onlyViolations: EventSelection['onlyViolations']) =>
          ids(await read({ workflowId, onlyViolations, nowSeconds: NOW_S }));
        expect(await violating('kill-switch')).toEqual(['kill', 'all']);
        expect(await violating('boundary')).toEqual(['boundary', 'all']);
        expect(await violating('rollout-phase')).toEqual(['phase', 'all']);
      });

      it('never returns an event whose expiry (epoch seconds) is not after now', async () => {
        await put(
          event('expired', { expiresAt: NOW_S - 1, at: T0 }),
          event('expires-now', { expiresAt: NOW_S, at: T0 + 1 }),
          event('live', { expiresAt: NOW_S + 1, at: T0 + 2 }),
        );
        expect(ids(await read({ workflowId, nowSeconds: NOW_S }))).toEqual(['live']);
        expect(ids(await read({ workflowId, nowSeconds: NOW_S - 10 }))).toEqual([
          'expired',
          'expires-now',
          'live',
        ]);
      });

      it('follows the index past its own pages, whatever the filters leave of them', async () => {
        // Prepare: one unit with 60 events, every tenth an action, in one partition of the index
        await put(
          ...Array.from({ length: 60 }, (_, i) =>
            event(`e${String(i).padStart(2, '0')}`, {
              type: i % 10 === 9 ? 'action' : 'unit.started',
              at: T0 + i,
            }),
          ),
        );
        const unit = { workflowId, unitId: 'u1', nowSeconds: NOW_S };
        expect(await read(unit)).toHaveLength(60);
        expect(ids(await read({ ...unit, type: 'action' }))).toEqual([
          'e09',
          'e19',
          'e29',
          'e39',
          'e49',
          'e59',
        ]);
      });
    });

    describe('query pages', () => {
      it('holds at most `limit` items, with a position to go on from while more follow', async () => {
        // Prepare
        await put(...Array.from({ length: 7 }, (_, i) => event(`e${i}`, { at: T0 + i * MINUTE })));
        const query = { workflowId, fromMs: T0, toMs: T0 + DAY, limit: 3, nowSeconds: NOW_S };

        // Act
        const first = await index.query(query);
        const second = await index.query({ ...query, ...(first.after ? { after: first.after } : {}) });
        const third = await index.query({ ...query, ...(second.after ? { after: second.after } : {}) });

        // Assess
        expect(ids(first.items)).toEqual(['e0', 'e1', 'e2']);
        expect(ids(second.items)).toEqual(['e3', 'e4', 'e5']);
        expect(ids(third.items)).toEqual(['e6']);
        expect(first.after).toEqual(expect.any(String));
        expect(third.after).toBeUndefined();
      });

      it('has no position after the last page, even a full one', async () => {
        await put(event('e1', { at: T0 }), event('e2', { at: T0 + 1 }));
        const page = await index.query({ workflowId, limit: 2, nowSeconds: NOW_S });
        expect(ids(page.items)).toEqual(['e1', 'e2']);
        expect(page.after).toBeUndefined();
      });

      it('goes on after a position with the same selection: one unit, one type, later than the position', async () => {
        await put(
          ...Array.from({ length: 6 }, (_, i) =>
            event(`a${i}`, { type: 'action', unitId: i % 2 === 0 ? 'even' : 'odd', at: T0 + i }),
          ),
          event('s', { type: 'unit.started', unitId: 'even', at: T0 + 10 }),
        );
        const query = { workflowId, unitId: 'even', type: 'action' as const, limit: 1, nowSeconds: NOW_S };
        const first = await index.query(query);
        expect(ids(first.items)).toEqual(['a0']);
        expect(ids((await allPages(index, query, 1)).slice(1))).toEqual(['a2', 'a4']);
      });
    });

    describe('eventsInRange: the bulk read', () => {
      it('returns every live event of the workflow in [fromMs, toMs), each once, in some fixed order', async () => {
        // Prepare
        const inside = Array.from({ length: 30 }, (_, i) =>
          event(`in-${i}`, {
            at: T0 + i * MINUTE,
            unitId: `u${i % 4}`,
            type: i % 2 ? 'action' : 'unit.started',
          }),
        );
        await put(
          ...inside,
          event('at-to', { at: T0 + DAY }),
          event('before', { at: T0 - 1 }),
          event('expired', { at: T0 + HOUR, expiresAt: NOW_S }),
        );
        await put(contractEvent(`${workflowId}-other`, 'foreign', { at: T0 }));
        const range = { workflowId, fromMs: T0, toMs: T0 + DAY, nowSeconds: NOW_S };

        // Act
        const first = ids(await collect(index.eventsInRange(range)));
        const again = ids(await collect(index.eventsInRange(range)));

        // Assess
        expect([...first].sort()).toEqual(ids(inside).sort());
        expect(again).toEqual(first);
      });
    });
  });
}

const T0 = Date.UTC(2026, 2, 2, 9);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// The reads' "now": a year ahead of the clock, so every expiry the suite writes (around it) is still in the
// future for DynamoDB Local, whose TTL sweeper would otherwise delete items while a test reads them.
const NOW_S = Math.floor(Date.now() / 1000) + 365 * 86_400;

interface EventFacts {
  readonly unitId?: string;
  readonly type?: EventType;
  /** occurredAt, epoch ms. */
  readonly at?: number;
  readonly expiresAt?: number;
  readonly contentHash?: string;
  readonly killSwitch?: boolean;
  readonly boundary?: boolean;
  readonly rolloutPhase?: boolean;
}

function contractEvent(workflowId: string, eventId: string, facts: EventFacts = {}): StoredEvent {
  const occurredAtMs = facts.at ?? T0;
  const occurredAt = new Date(occurredAtMs).toISOString();
  return {
    event: {
      eventId,
      type: facts.type ?? 'unit.started',
      workflowId,
      unitId: facts.unitId ?? 'u1',
      occurredAt,
    } as LedgerEvent,
    occurredAtMs,
    receivedAt: occurredAt,
    contentHash: facts.contentHash ?? `hash-${eventId}`,
    expiresAt: facts.expiresAt ?? NOW_S + 86_400,
    archiveKey: `raw/contract/${eventId}.ndjson.gz`,
    ...(facts.killSwitch ? { killSwitchViolation: true as const } : {}),
    ...(facts.boundary
      ? { boundaryViolations: [{ kind: 'cannot' as const, ruleId: 'no-refunds', tool: 'refund' }] }
      : {}),
    ...(facts.rolloutPhase ? { rolloutPhaseViolation: { phase: 'evals', lane: 'autonomous' } } : {}),
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

/** Every page of a query, `limit` items at a time, as a reader of the API would follow them. */
async function allPages(index: EventIndex, selection: EventSelection, limit: number): Promise<StoredEvent[]> {
  const items: StoredEvent[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await index.query({ ...selection, limit, ...(after ? { after } : {}) });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    after = page.after;
    if (!after) return items;
  }
  throw new Error('the pages did not end');
}
