import { beforeEach, describe, expect, it } from 'vitest';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { addHold, type HoldDependencies, HoldError, removeHold } from '#lib/holds/holds.ts';
import { eventKeyString, type StoredEvent } from '#lib/ports.ts';
import { archiveObjectKey, archiveOutcomeKey, expirationDaysFor } from '#lib/storage/archive-bucket.ts';
import { DEFAULT_HOT_INDEX_DAYS, indexExpiresAt } from '#lib/storage/ledger-table.ts';
import { explainHoldFailure, holdCommand } from '../../cli/commands/holds.ts';
import { CliError } from '../../cli/errors.ts';
import type { Target } from '../../cli/target.ts';
import {
  InMemoryArchiveHolds,
  InMemoryEventArchive,
  InMemoryHoldStore,
  InMemoryIndexRetention,
} from '../support/in-memory-stores.ts';

const WORKFLOW = 'support-triage';
const NOW = new Date('2026-06-01T12:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const DAY_MS = 86_400_000;

/** An event stored as ingest stores it, `daysAgo` days before NOW, with its index TTL. */
function stored(input: { eventId: string; unitId: string; type?: string; daysAgo: number }): StoredEvent {
  const receivedAtMs = NOW.getTime() - input.daysAgo * DAY_MS;
  const receivedAt = new Date(receivedAtMs).toISOString();
  const type = input.type ?? 'action';
  const archiveKey = archiveObjectKey({
    retentionMonths: 12,
    workflowId: WORKFLOW,
    receivedAt: new Date(receivedAtMs),
    requestId: `req-${input.eventId}`,
  });
  return {
    event: {
      eventId: input.eventId,
      type,
      workflowId: WORKFLOW,
      unitId: input.unitId,
      occurredAt: receivedAt,
    } as LedgerEvent,
    occurredAtMs: receivedAtMs,
    receivedAt,
    contentHash: `hash-${input.eventId}`,
    expiresAt: indexExpiresAt({
      type,
      receivedAtMs,
      retentionExpiresAt: Math.floor(receivedAtMs / 1000) + expirationDaysFor(12) * 86_400,
      hotIndexDays: DEFAULT_HOT_INDEX_DAYS,
    }),
    archiveKey,
  };
}

describe('legal hold', () => {
  let archive: InMemoryEventArchive;
  let archiveHolds: InMemoryArchiveHolds;
  let index: InMemoryIndexRetention;
  let holds: InMemoryHoldStore;
  let deps: HoldDependencies;
  let events: StoredEvent[];

  /** Archives each event in its own object; those still in their hot window are in the index too. */
  function ingest(...batch: StoredEvent[]) {
    for (const event of batch) {
      archive.objects.set(event.archiveKey, [event]);
      if (event.expiresAt > NOW_SECONDS) index.expiresAt.set(eventKeyString(event.event), event.expiresAt);
    }
  }
  const ttlOf = (event: StoredEvent) => index.expiresAt.get(eventKeyString(event.event));
  const lockOf = (key: string) => archiveHolds.legalHolds.get(key);

  beforeEach(() => {
    archive = new InMemoryEventArchive();
    archiveHolds = new InMemoryArchiveHolds(archive);
    index = new InMemoryIndexRetention();
    holds = new InMemoryHoldStore();
    deps = { holds, index, archive: archiveHolds, clock: () => NOW, hotIndexDays: DEFAULT_HOT_INDEX_DAYS };
    events = [
      stored({ eventId: 'e-old', unitId: 'U-1', daysAgo: 100 }),
      stored({ eventId: 'e-new', unitId: 'U-1', daysAgo: 3 }),
      stored({ eventId: 'e-verdict', unitId: 'U-1', type: 'review.verdict', daysAgo: 2 }),
      stored({ eventId: 'e-other', unitId: 'U-2', daysAgo: 3 }),
      stored({ eventId: 'e-flip', unitId: 'lane', type: 'rollback', daysAgo: 200 }),
    ];
    ingest(...events);
    // The newest event's object has an outcome beside it (a line of it lost a race).
    archive.outcomes.set(events[1]?.archiveKey as string, []);
  });

  const [OLD, NEW, VERDICT, OTHER, FLIP] = [0, 1, 2, 3, 4];
  const at = (i: number) => events[i] as StoredEvent;
  const unitHold = { workflowId: WORKFLOW, kind: 'unit' as const, targetId: 'U-1' };

  it('takes the TTL off the unit’s index entries and locks its archive objects and their outcomes', async () => {
    const result = await addHold({ ...unitHold, reason: 'litigation L-7', heldBy: 'ana' }, deps);

    expect(ttlOf(at(NEW))).toBeUndefined();
    expect(ttlOf(at(VERDICT))).toBeUndefined();
    expect(index.expiresAt.has(eventKeyString(at(OLD).event))).toBe(false);
    for (const i of [OLD, NEW, VERDICT]) expect(lockOf(at(i).archiveKey)).toBe('ON');
    expect(lockOf(archiveOutcomeKey(at(NEW).archiveKey))).toBe('ON');
    expect(ttlOf(at(OTHER))).toBe(at(OTHER).expiresAt);
    expect(lockOf(at(OTHER).archiveKey)).toBeUndefined();
    expect(result.archiveOnlyEvents).toBe(1);
    expect(result.hold).toMatchObject({
      status: 'active',
      events: 3,
      indexedEvents: 2,
      objects: 4,
      reason: 'litigation L-7',
      heldBy: 'ana',
      heldAt: NOW.toISOString(),
    });
  });

  it('on remove gives each entry its TTL back, now at the earliest, and turns the legal hold off', async () => {
    await addHold({ ...unitHold, reason: 'litigation L-7', heldBy: 'ana' }, deps);
    const later = new Date(NOW.getTime() + 60 * DAY_MS);
    const result = await removeHold(
      { ...unitHold, reason: 'case closed', releasedBy: 'ben' },
      { ...deps, clock: () => later },
    );

    // Both were due within the 60 days held: TTL takes them right away.
    expect(ttlOf(at(NEW))).toBe(later.getTime() / 1000);
    expect(ttlOf(at(VERDICT))).toBe(later.getTime() / 1000);
    for (const i of [OLD, NEW, VERDICT]) expect(lockOf(at(i).archiveKey)).toBe('OFF');
    expect(lockOf(archiveOutcomeKey(at(NEW).archiveKey))).toBe('OFF');
    expect(result).toMatchObject({ restoredEvents: 2, releasedObjects: 4, stillHeldEvents: 0 });
    expect(await holds.get(unitHold)).toMatchObject({
      status: 'released',
      releasedBy: 'ben',
      releaseReason: 'case closed',
    });
    expect((await holds.members(unitHold)).events).toEqual([]);
  });

  it('restores the TTL the entry had when it has not passed yet', async () => {
    await addHold({ ...unitHold, reason: 'r', heldBy: 'ana' }, deps);
    await removeHold({ ...unitHold, reason: 'r', releasedBy: 'ana' }, deps);
    expect(ttlOf(at(NEW))).toBe(at(NEW).expiresAt);
  });

  it('leaves held what another hold still covers, and that hold restores the TTL the event had', async () => {
    const reviewed = { workflowId: WORKFLOW, kind: 'reviewed' as const, targetId: 'U-1' };
    await addHold({ ...unitHold, reason: 'litigation', heldBy: 'ana' }, deps);
    await addHold({ ...reviewed, reason: 'audit sample', heldBy: 'ana' }, deps);

    const first = await removeHold({ ...unitHold, reason: 'done', releasedBy: 'ana' }, deps);
    expect(first).toMatchObject({
      restoredEvents: 0,
      releasedObjects: 0,
      stillHeldEvents: 3,
      stillHeldObjects: 4,
    });
    expect(ttlOf(at(NEW))).toBeUndefined();
    expect(lockOf(at(NEW).archiveKey)).toBe('ON');

    await removeHold({ ...reviewed, reason: 'done', releasedBy: 'ana' }, deps);
    expect(ttlOf(at(NEW))).toBe(at(NEW).expiresAt);
    expect(lockOf(at(NEW).archiveKey)).toBe('OFF');
  });

  it('holds every rollback event of a workflow, kept in the index for their retention', async () => {
    const result = await addHold(
      { workflowId: WORKFLOW, kind: 'rollbacks', targetId: 'all', reason: 'r', heldBy: 'a' },
      deps,
    );
    expect(result.hold).toMatchObject({ events: 1, indexedEvents: 1, objects: 1 });
    expect(ttlOf(at(FLIP))).toBeUndefined();
    expect(lockOf(at(FLIP).archiveKey)).toBe('ON');
  });

  it('holds the units an eval set replays', async () => {
    const result = await addHold(
      {
        workflowId: WORKFLOW,
        kind: 'eval-set',
        targetId: 'regression',
        reason: 'r',
        heldBy: 'a',
        evalSetUnits: { version: 2, unitIds: ['U-2', 'U-missing'] },
      },
      deps,
    );
    expect(result.hold).toMatchObject({ events: 1, evalSetVersion: 2 });
    expect(result.unitIds).toEqual(['U-2']);
    expect(ttlOf(at(OTHER))).toBeUndefined();
  });

  it.each([
    [{ kind: 'unit' as const, targetId: 'U-nope' }, 'unit U-nope of support-triage: no such events'],
    [
      { kind: 'reviewed' as const, targetId: 'U-2' },
      'has no review.verdict event: it is not a reviewed sample',
    ],
    [{ kind: 'rollback' as const, targetId: 'e-new' }, 'is a action event, not a rollback'],
    [
      { kind: 'rollback' as const, targetId: 'e-nope' },
      'rollback event e-nope of support-triage: no such events',
    ],
  ])('refuses %j, changing nothing', async (target, message) => {
    const attempt = addHold({ workflowId: WORKFLOW, ...target, reason: 'r', heldBy: 'a' }, deps);
    await expect(attempt).rejects.toThrow(HoldError);
    await expect(attempt).rejects.toThrow(message);
    expect(await holds.list()).toEqual([]);
    expect(archiveHolds.legalHolds.size).toBe(0);
    expect([...index.expiresAt.values()].every((ttl) => ttl !== undefined)).toBe(true);
  });

  it('refuses a second hold on the same target, and removing one that is not held', async () => {
    await addHold({ ...unitHold, reason: 'r', heldBy: 'a' }, deps);
    await expect(addHold({ ...unitHold, reason: 'r', heldBy: 'b' }, deps)).rejects.toThrow(
      'unit U-1 of support-triage is already held (since 2026-06-01T12:00:00.000Z, by a)',
    );
    await removeHold({ ...unitHold, reason: 'r', releasedBy: 'a' }, deps);
    await expect(removeHold({ ...unitHold, reason: 'r', releasedBy: 'a' }, deps)).rejects.toThrow(
      'unit U-1 of support-triage is not held (released',
    );
    // Released, it can be held again.
    expect((await addHold({ ...unitHold, reason: 'again', heldBy: 'a' }, deps)).hold.status).toBe('active');
  });

  it('an add that failed part-way is recorded as applying, and the same add finishes it', async () => {
    const setLegalHold = archiveHolds.setLegalHold.bind(archiveHolds);
    let calls = 0;
    archiveHolds.setLegalHold = async (key, on) => {
      if (++calls === 2) throw Object.assign(new Error('SlowDown'), { $fault: 'server' });
      return setLegalHold(key, on);
    };
    await expect(addHold({ ...unitHold, reason: 'r', heldBy: 'a' }, deps)).rejects.toThrow('SlowDown');
    expect((await holds.get(unitHold))?.status).toBe('applying');

    // Meanwhile no other hold of the workflow is released: it might share events with this one.
    const rollbacks = { workflowId: WORKFLOW, kind: 'rollbacks' as const, targetId: 'all' };
    await addHold({ ...rollbacks, reason: 'r', heldBy: 'a' }, deps);
    await expect(removeHold({ ...rollbacks, reason: 'r', releasedBy: 'a' }, deps)).rejects.toThrow(
      'a hold on unit U-1 of support-triage is being added, or its add failed part-way: run that hold add again to finish it',
    );

    archiveHolds.setLegalHold = setLegalHold;
    const result = await addHold({ ...unitHold, reason: 'r', heldBy: 'a' }, deps);
    expect(result.hold.status).toBe('active');
    for (const i of [OLD, NEW, VERDICT]) expect(lockOf(at(i).archiveKey)).toBe('ON');
    await removeHold({ ...unitHold, reason: 'r', releasedBy: 'a' }, deps);
    expect(ttlOf(at(NEW))).toBe(at(NEW).expiresAt);
    await removeHold({ ...rollbacks, reason: 'r', releasedBy: 'a' }, deps);
    expect(ttlOf(at(FLIP))).toBe(at(FLIP).expiresAt);
  });
});

// Usage mistakes are caught before any store is touched, so these need no stack.
describe('agent-ledger hold', () => {
  const failure = async (...args: string[]) => {
    try {
      await holdCommand(args, () => {});
    } catch (error) {
      if (error instanceof CliError) return { code: error.exitCode, message: error.message };
      throw error;
    }
    throw new Error('expected the command to fail');
  };

  it.each([
    [['add', '--unit', 'U-1', '--reason', 'r'], '--workflow <id> is required'],
    [['add', '--workflow', 'w', '--reason', 'r'], 'give exactly one of --unit, --reviewed'],
    [['add', '--workflow', 'w', '--unit', 'U-1', '--rollbacks', '--reason', 'r'], '(got 2)'],
    [['add', '--workflow', 'w', '--unit', 'U-1'], '--reason "<why>" is required'],
    [['remove', '--workflow', 'w', '--unit', 'U-1', '--reason', '  '], '--reason "<why>" is required'],
    [
      ['add', '--workflow', 'w', '--unit', 'U#1', '--reason', 'r'],
      "--unit must be 1–256 characters of [A-Za-z0-9._:-], not 'U#1'",
    ],
    [
      ['add', '--workflow', 'w', '--unit', 'U-1', '--version', '2', '--reason', 'r'],
      '--version is for --eval-set only',
    ],
    [
      ['add', '--workflow', 'w', '--eval-set', 's', '--version', 'x', '--reason', 'r'],
      "--version must be a whole number from 1, not 'x'",
    ],
    [['add', 'extra'], "takes options only, got 'extra'"],
    [['freeze'], "unknown hold action 'freeze'"],
  ])('%j exits 2 saying what is wrong', async (args, message) => {
    const { code, message: said } = await failure(...args);
    expect(code).toBe(2);
    expect(said).toContain(message);
  });
});

describe('what a failed hold says', () => {
  const stage = { description: 'stage prod', isLocal: false } as Target;
  const said = (error: unknown) => {
    try {
      explainHoldFailure(error, stage);
    } catch (thrown) {
      return thrown as CliError;
    }
    throw new Error('expected a CliError');
  };

  it('says a retry is safe when the store is unavailable', () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $retryable: {},
    });
    expect(said(throttled).message).toBe(
      'stage prod did not answer (Rate exceeded); every step of a hold can be done again, so running the same command again is safe',
    );
  });

  it('gives a hold mistake as it is, and anything else with where it happened', () => {
    expect(said(new HoldError('unit U-1 of w is already held')).message).toBe(
      'unit U-1 of w is already held',
    );
    expect(said(new Error('AccessDenied: not allowed')).message).toBe(
      'stage prod: AccessDenied: not allowed',
    );
  });
});
