import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidRequestError, WorkflowNotAllowedError } from '#lib/errors.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { type IngestDependencies, ingestEvents } from '#lib/ingest/ingest-events.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { indexedVersionFromArchive } from '#lib/storage/archive-bucket.ts';
import { DEFAULT_HOT_INDEX_DAYS } from '#lib/storage/ledger-table.ts';
import { actionEvent } from '../support/events.ts';
import { InMemoryArchivedEvents } from '../support/in-memory-archived-events.ts';
import { InMemoryEventArchive, InMemoryEventIndex } from '../support/in-memory-stores.ts';

const everyWorkflow = { principal: 'test', workflows: '*' as const };
let index: InMemoryEventIndex;
let archive: InMemoryEventArchive;
let deps: IngestDependencies;
let requestCounter: number;

beforeEach(() => {
  index = new InMemoryEventIndex();
  archive = new InMemoryEventArchive();
  requestCounter = 0;
  deps = {
    index,
    archive,
    registry: defaultRegistry,
    hasher: new ActorHasher(Buffer.alloc(32, 1)),
    clock: () => new Date('2026-11-24T12:00:00Z'),
    newRequestId: () => `req-${++requestCounter}`,
  };
});

const event = (overrides: Record<string, unknown> = {}) =>
  actionEvent({ occurredAt: '2026-11-24T11:00:00Z', approval: undefined, flag: undefined, ...overrides });

describe('ingestEvents', () => {
  it('writes one archive object per workflow and an index item per event, indexed for the hot window', async () => {
    // Prepare
    const events = [event(), event({ workflowId: 'code-review' }), event()];

    // Act
    const result = await ingestEvents({ events }, everyWorkflow, deps);

    // Assess
    expect(result).toMatchObject({ accepted: 3, duplicates: 0, conflicts: 0 });
    expect([...archive.objects.keys()].sort()).toEqual([
      'raw/retention=18m/workflow=code-review/dt=2026-11-24/req-1.ndjson.gz',
      'raw/retention=24m/workflow=support-triage/dt=2026-11-24/req-1.ndjson.gz',
    ]);
    const receivedSeconds = Date.parse('2026-11-24T12:00:00Z') / 1000;
    const reviewItem = [...index.items.values()].find((stored) => stored.event.workflowId === 'code-review');
    // The index keeps an action for the hot window; the archive object keeps it for its 18 months.
    expect(reviewItem?.expiresAt).toBe(receivedSeconds + DEFAULT_HOT_INDEX_DAYS * 86_400);
  });

  it('keeps a rollback event in the index for its whole retention, as the archive keeps it', async () => {
    // Prepare
    const rollback = {
      eventId: 'flip-1',
      workflowId: 'code-review',
      unitId: 'kill-switch',
      type: 'rollback',
      occurredAt: '2026-11-24T11:00:00Z',
      from: 'enabled',
      to: 'disabled',
      reason: 'drill',
      initiatedBy: 'operator',
    };
    const shortWindow = { ...deps, hotIndexDays: 2 };

    // Act
    const result = await ingestEvents(
      { events: [rollback, event({ eventId: 'act-1' })] },
      everyWorkflow,
      shortWindow,
    );

    // Assess
    expect(result.accepted).toBe(2);
    const receivedSeconds = Date.parse('2026-11-24T12:00:00Z') / 1000;
    const expiries = Object.fromEntries([...index.items.values()].map((s) => [s.event.eventId, s.expiresAt]));
    expect(expiries['flip-1']).toBe(receivedSeconds + 548 * 86_400); // 18 months, as the S3 rule
    expect(expiries['act-1']).toBe(receivedSeconds + 2 * 86_400);
  });

  it('classifies re-sent events against the index and within the batch', async () => {
    // Prepare
    const first = event();
    const second = event();
    await ingestEvents({ events: [first, second] }, everyWorkflow, deps);
    const third = event();

    // Act
    const result = await ingestEvents(
      {
        events: [
          first,
          { ...second, output: { text: 'changed' } },
          third,
          third,
          { ...third, durationMs: 1 },
        ],
      },
      everyWorkflow,
      deps,
    );

    // Assess
    expect(result.results.map((r) => r.status)).toEqual([
      'duplicate',
      'conflict',
      'accepted',
      'duplicate',
      'conflict',
    ]);
    expect(result).toMatchObject({ accepted: 1, duplicates: 2, conflicts: 2 });
    expect(index.items.size).toBe(3);
    expect(
      archive.objects.get('raw/retention=24m/workflow=support-triage/dt=2026-11-24/req-2.ndjson.gz'),
    ).toHaveLength(1);
  });

  it.each([
    ['the same content twice, which differs from what is stored', 'A', 'A', 'B', ['conflict', 'conflict']],
    ['new content, then what is stored', 'A', 'B', 'B', ['conflict', 'duplicate']],
    ['the same new content twice', 'A', 'A', undefined, ['accepted', 'duplicate']],
    ['two contents of a new event', 'A', 'B', undefined, ['accepted', 'conflict']],
  ])(
    'answers each copy of an eventId in one request against the stored version: %s',
    async (_case, one, two, stored, expected) => {
      // Prepare: eventId X, stored with content `stored` (or not at all)
      const version = (text: string) => event({ eventId: 'X', unitId: 'T-1', output: { text } });
      if (stored) await ingestEvents({ events: [version(stored)] }, everyWorkflow, deps);

      // Act
      const result = await ingestEvents({ events: [version(one), version(two)] }, everyWorkflow, deps);

      // Assess
      expect(result.results.map((r) => r.status)).toEqual(expected);
      expect([...index.items.values()].map((item) => item.event)).toEqual([
        expect.objectContaining({ output: { text: stored ?? one } }),
      ]);
    },
  );

  it('records beside the archive object which of its lines lost a race, so the archive alone names the winner', async () => {
    // Prepare: another request indexes X (content B) between our check and our write of X (content A)
    const racing = {
      ...deps,
      index: Object.assign(Object.create(index), { findContentHashes: async () => new Map() }),
    };
    await ingestEvents({ events: [event({ eventId: 'X', output: { text: 'B' } })] }, everyWorkflow, deps);
    const winner = [...index.items.values()][0];

    // Act
    await ingestEvents(
      { events: [event({ eventId: 'X', output: { text: 'A' } }), event({ eventId: 'Y' })] },
      everyWorkflow,
      racing,
    );

    // Assess: the first object's line is confirmed; the second object's line for X lost, to B's hash
    const [firstKey, secondKey] = [...archive.objects.keys()];
    expect(archive.outcomes.get(firstKey as string)).toBeUndefined();
    const lost = archive.objects.get(secondKey as string)?.find((stored) => stored.event.eventId === 'X');
    expect(archive.outcomes.get(secondKey as string)).toEqual([
      {
        eventId: 'X',
        contentHash: lost?.contentHash,
        status: 'conflict',
        indexedContentHash: winner?.contentHash,
      },
    ]);
    const lines = [...archive.objects].flatMap(([key, events]) =>
      events.map((stored) => ({
        line: { eventId: stored.event.eventId, contentHash: stored.contentHash },
        outcome: archive.outcomes.get(key)?.find((o) => o.eventId === stored.event.eventId),
      })),
    );
    expect(indexedVersionFromArchive(lines.filter(({ line }) => line.eventId === 'X'))).toEqual({
      eventId: 'X',
      contentHash: winner?.contentHash,
    });
  });

  it('marks the lines of a request whose index write failed as unconfirmed, and still fails the request', async () => {
    const events = [event()];
    index.failNextPut = true;
    await expect(ingestEvents({ events }, everyWorkflow, deps)).rejects.toThrow('outage');
    const [key] = [...archive.objects.keys()];
    expect(archive.outcomes.get(key as string)).toEqual([
      expect.objectContaining({ eventId: events[0]?.eventId, status: 'unconfirmed' }),
    ]);
  });

  it('writes no archive object when every event is a duplicate', async () => {
    const events = [event()];
    await ingestEvents({ events }, everyWorkflow, deps);
    await ingestEvents({ events }, everyWorkflow, deps);
    expect(archive.objects.size).toBe(1);
  });

  it('treats the same eventId in two workflows as two events', async () => {
    const result = await ingestEvents(
      { events: [event({ eventId: 'same' }), event({ eventId: 'same', workflowId: 'code-review' })] },
      everyWorkflow,
      deps,
    );
    expect(result.accepted).toBe(2);
  });

  it('reports a write lost to a concurrent request as duplicate or conflict, never accepted', async () => {
    // Prepare: another request indexes the same events between our check and our write.
    const same = event();
    const other = event();
    const racing = {
      ...deps,
      index: Object.assign(Object.create(index), { findContentHashes: async () => new Map() }),
    };
    await ingestEvents({ events: [same, other] }, everyWorkflow, deps);

    // Act
    const result = await ingestEvents({ events: [same, { ...other, durationMs: 9 }] }, everyWorkflow, racing);

    // Assess
    expect(result.results.map((r) => r.status)).toEqual(['duplicate', 'conflict']);
  });

  it('stores nothing when one event is invalid', async () => {
    const attempt = ingestEvents({ events: [event(), event({ lane: 'rogue' })] }, everyWorkflow, deps);
    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
    expect(archive.objects.size).toBe(0);
    expect(index.items.size).toBe(0);
  });

  it('stores nothing when one event belongs to a workflow the caller may not touch', async () => {
    const caller = { principal: 'scoped', workflows: new Set(['code-review']) };
    const attempt = ingestEvents({ events: [event({ workflowId: 'code-review' }), event()] }, caller, deps);
    await expect(attempt).rejects.toBeInstanceOf(WorkflowNotAllowedError);
    await expect(attempt).rejects.toThrow("'support-triage'");
    expect(archive.objects.size + index.items.size).toBe(0);
  });

  it('indexes nothing when the archive write fails, and a retry then stores everything once', async () => {
    // Prepare
    const events = [event(), event()];
    archive.failNextPut = true;

    // Act
    const failed = await ingestEvents({ events }, everyWorkflow, deps).catch((error: Error) => error);
    const retried = await ingestEvents({ events }, everyWorkflow, deps);

    // Assess
    expect(failed).toBeInstanceOf(Error);
    expect(retried.accepted).toBe(2);
    expect(index.items.size).toBe(2);
  });

  it('is safe to retry after the index write fails behind a durable archive object', async () => {
    const events = [event()];
    index.failNextPut = true;
    await expect(ingestEvents({ events }, everyWorkflow, deps)).rejects.toThrow('outage');
    const retried = await ingestEvents({ events }, everyWorkflow, deps);
    expect(retried.results[0]?.status).toBe('accepted');
    expect(index.items.size).toBe(1);
  });

  it('stores actor digests, never the raw IDs', async () => {
    await ingestEvents({ events: [event({ actor: { customerId: 'acme-raw-1' } })] }, everyWorkflow, deps);
    const everything = JSON.stringify([...index.items.values(), ...archive.objects.values()]);
    expect(everything).not.toContain('acme-raw-1');
    expect(everything).toContain('hmac-sha256:');
  });

  it('stores approver and reviewer IDs as digests, and still checks approvers against the registry lists', async () => {
    // Prepare: two refunds over $100, one approved by a listed support lead, one by someone unlisted
    const refund = (approverId: string) =>
      event({
        toolCalls: [
          { name: 'refund', endpoint: 'payments.refund', parameters: { amount: 250 }, outcome: 'success' },
        ],
        approval: { approverId, decision: 'approved', decidedAt: '2026-11-24T10:59:00Z' },
      });
    const listed = refund('lead-3');
    const unlisted = refund('temp-9');
    const verdict = {
      eventId: 'v-1',
      type: 'review.verdict',
      workflowId: 'support-triage',
      unitId: listed.unitId,
      occurredAt: '2026-11-24T11:30:00Z',
      reviewerId: 'reviewer-ann',
      verdict: 'pass',
      reviewMinutes: 3,
    };

    // Act
    const result = await ingestEvents({ events: [listed, unlisted, verdict] }, everyWorkflow, deps);

    // Assess
    expect(result.violations).toEqual([
      expect.objectContaining({ eventId: unlisted.eventId, kind: 'boundary' }),
    ]);
    const everything = JSON.stringify([...index.items.values(), ...archive.objects.values()]);
    for (const raw of ['lead-3', 'temp-9', 'reviewer-ann']) expect(everything).not.toContain(raw);
    const stored = [...index.items.values()].find((item) => item.event.eventId === listed.eventId);
    expect(stored?.event).toMatchObject({ approval: { approverId: expect.stringMatching(/^hmac-sha256:/) } });
  });
});

describe('indexedVersionFromArchive: the dedupe rule, from the archive alone', () => {
  const line = (contentHash: string) => ({ eventId: 'X', contentHash });
  it('takes the confirmed line, whatever unconfirmed or lost lines there are', () => {
    expect(
      indexedVersionFromArchive([
        { line: line('A'), outcome: { eventId: 'X', contentHash: 'A', status: 'unconfirmed' } },
        { line: line('B'), outcome: undefined },
        {
          line: line('C'),
          outcome: { eventId: 'X', contentHash: 'C', status: 'conflict', indexedContentHash: 'B' },
        },
      ]),
    ).toEqual(line('B'));
  });
  it('takes the unconfirmed content when there is no confirmed line and only one such content', () => {
    expect(
      indexedVersionFromArchive([
        { line: line('A'), outcome: { eventId: 'X', contentHash: 'A', status: 'unconfirmed' } },
        { line: line('A'), outcome: { eventId: 'X', contentHash: 'A', status: 'unconfirmed' } },
      ]),
    ).toEqual(line('A'));
  });
  it('cannot tell after two failed requests with different contents', () => {
    expect(
      indexedVersionFromArchive([
        { line: line('A'), outcome: { eventId: 'X', contentHash: 'A', status: 'unconfirmed' } },
        { line: line('B'), outcome: { eventId: 'X', contentHash: 'B', status: 'unconfirmed' } },
      ]),
    ).toBeUndefined();
  });
});

describe('ingestEvents past the hot window (issue 12)', () => {
  const longAgo = new Date('2025-10-20T12:00:00Z');
  const today = new Date('2026-11-24T12:00:00Z');

  it('answers a retry of an event the index dropped long ago from the archive: duplicate, or conflict', async () => {
    // Prepare: stored 400 days ago; since then the index dropped it (its hot window ended)
    const old = event({ occurredAt: '2025-10-20T11:00:00Z' });
    await ingestEvents({ events: [old] }, everyWorkflow, { ...deps, clock: () => longAgo });
    const archivedEvents = new InMemoryArchivedEvents(archive);
    const now = { ...deps, index: new InMemoryEventIndex(), archivedEvents, clock: () => today };

    // Act
    const retry = await ingestEvents({ events: [old] }, everyWorkflow, now);
    const changed = await ingestEvents(
      { events: [{ ...old, output: { text: 'changed' } }] },
      everyWorkflow,
      now,
    );

    // Assess
    expect(retry.results).toEqual([{ eventId: old.eventId, status: 'duplicate' }]);
    expect(changed.results).toEqual([{ eventId: old.eventId, status: 'conflict' }]);
    expect(archive.objects.size).toBe(1); // nothing stored again
    expect(archivedEvents.calls).toEqual(['findContentHashes', 'findContentHashes']);
  });

  it('accepts an old event the archive never had, and asks the archive about old events only', async () => {
    // Prepare
    const archivedEvents = new InMemoryArchivedEvents(archive);
    const now = { ...deps, archivedEvents, clock: () => today };

    // Act
    const recent = await ingestEvents({ events: [event()] }, everyWorkflow, now);
    const backfill = await ingestEvents(
      { events: [event({ occurredAt: '2025-10-20T11:00:00Z' })] },
      everyWorkflow,
      now,
    );

    // Assess
    expect(recent.accepted).toBe(1);
    expect(backfill.accepted).toBe(1);
    expect(archivedEvents.calls).toEqual(['findContentHashes']);
  });
});
