import type { EventKey } from '#lib/ports.ts';
import { archiveOutcomeKey } from '#lib/storage/archive-bucket.ts';
import { indexExpiresAt, restoredIndexExpiresAt } from '#lib/storage/ledger-table.ts';
import { mapWithConcurrency } from '#lib/util/concurrency.ts';

/**
 * Legal hold (SPEC "Retention", issue 12 item 3): the events a hold covers keep their index entry (no TTL)
 * and their archive objects (S3 Object Lock legal hold) past their expiry, until the hold is removed.
 *
 * A hold names its events by what they are to the business — a unit, a reviewed sample, one rollback event,
 * all rollback events of a workflow, or the units of an eval set — and is resolved once, when added, to the
 * events and archive objects it covers; those are recorded with it, so removing it releases exactly those.
 */

/** Index updates and object-lock calls in flight at once: an eval set's units may be thousands of events. */
export const HOLD_CONCURRENCY = 16;

export const HOLD_KINDS = ['unit', 'reviewed', 'rollback', 'rollbacks', 'eval-set'] as const;
export type HoldKind = (typeof HOLD_KINDS)[number];

export interface HoldTarget {
  readonly workflowId: string;
  readonly kind: HoldKind;
  /** The unit ID (`unit`, `reviewed`), the event ID (`rollback`), `all` (`rollbacks`) or the set's name. */
  readonly targetId: string;
}

export interface Hold extends HoldTarget {
  /** `applying` until every event and object it covers is held (an add that failed part-way says so). */
  readonly status: 'applying' | 'active' | 'released';
  readonly reason: string;
  readonly heldBy: string;
  readonly heldAt: string;
  /** Events covered, and of them those that still had an index entry when the hold was added. */
  readonly events: number;
  readonly indexedEvents: number;
  /** Archive objects under legal hold for it (event objects and the `_outcome-…json` beside them). */
  readonly objects: number;
  /** For an eval-set hold: the set's version whose units are held. */
  readonly evalSetVersion?: number;
  readonly releasedBy?: string;
  readonly releasedAt?: string;
  readonly releaseReason?: string;
}

/** One event a hold covers, with the TTL its index entry gets back when no hold covers it any longer. */
export interface HeldEvent {
  readonly eventId: string;
  /** Epoch seconds: the index TTL the event had (or would have had) without a hold. */
  readonly expiresAt: number;
  /** Whether the index still had the event when the hold was added (if not, only its archive objects hold it). */
  readonly indexed: boolean;
}

export interface HoldMembers {
  readonly events: readonly HeldEvent[];
  /** Archive object keys under legal hold for this hold. */
  readonly objects: readonly string[];
}

/** An archived line of an event, as much of it as a hold needs to find and keep the event. */
export interface ArchivedEventLine {
  readonly eventId: string;
  readonly unitId: string;
  readonly type: string;
  readonly receivedAt: string;
  /** The object the line is in. */
  readonly archiveKey: string;
  /** Epoch seconds at which the event's retention ends (its object's lifecycle expiry). */
  readonly retentionExpiresAt: number;
}

export interface HoldStore {
  get(target: HoldTarget): Promise<Hold | undefined>;
  put(hold: Hold): Promise<void>;
  /** Every hold recorded, active or released, by workflow, kind and target. */
  list(): Promise<Hold[]>;
  members(target: HoldTarget): Promise<HoldMembers>;
  /** Adds to the hold's members (an event or object recorded already is overwritten). */
  putMembers(target: HoldTarget, members: HoldMembers): Promise<void>;
  deleteMembers(target: HoldTarget): Promise<void>;
}

/** The index's event items, by key: only their TTL, whatever else the item holds. */
export interface IndexRetention {
  /**
   * Takes the TTL off a live index item. `indexed: false` when the index no longer has the event (past
   * its hot window or expired); otherwise the TTL it had, absent when it had none (held already).
   */
  removeExpiry(
    key: EventKey,
    nowSeconds: number,
  ): Promise<{ indexed: false } | { indexed: true; expiresAt?: number }>;
  /** Gives an index item its TTL back; false when the index no longer has the item. */
  restoreExpiry(key: EventKey, expiresAt: number): Promise<boolean>;
}

/** The archive, as a hold reads and locks it. */
export interface ArchiveHolds {
  /**
   * Every archived line of the workflow that `matches`, in every retention class, with the keys of all the
   * workflow's objects (to find the `_outcome-…json` beside an event object).
   */
  findLines(
    workflowId: string,
    matches: (line: ArchivedEventLine) => boolean,
  ): Promise<{ lines: ArchivedEventLine[]; objectKeys: ReadonlySet<string> }>;
  setLegalHold(key: string, on: boolean): Promise<void>;
  legalHold(key: string): Promise<boolean>;
}

export interface HoldDependencies {
  readonly holds: HoldStore;
  readonly index: IndexRetention;
  readonly archive: ArchiveHolds;
  readonly clock: () => Date;
  /** The hot window the index runs with (days), for events whose TTL was already taken off by another hold. */
  readonly hotIndexDays: number;
}

/** A hold that cannot be added or removed as asked: the operator's to fix. */
export class HoldError extends Error {
  override name = 'HoldError';
}

export function describeTarget(target: HoldTarget): string {
  switch (target.kind) {
    case 'unit':
      return `unit ${target.targetId} of ${target.workflowId}`;
    case 'reviewed':
      return `reviewed sample ${target.targetId} of ${target.workflowId}`;
    case 'rollback':
      return `rollback event ${target.targetId} of ${target.workflowId}`;
    case 'rollbacks':
      return `every rollback event of ${target.workflowId}`;
    case 'eval-set':
      return `eval set ${target.targetId} of ${target.workflowId}`;
  }
}

/** What a hold covers, found in the archive: which lines, and for an eval set, which version and units. */
export interface HoldSelection {
  readonly matches: (line: ArchivedEventLine) => boolean;
  /** Checks the lines found (e.g. a reviewed sample must have its verdict); throws HoldError if not. */
  readonly check?: (lines: readonly ArchivedEventLine[]) => void;
  readonly evalSetVersion?: number;
}

/** The lines a target selects (an eval set's units are given by its caller, from the eval store). */
export function selectionFor(
  target: HoldTarget,
  evalSetUnits?: { version: number; unitIds: string[] },
): HoldSelection {
  const what = describeTarget(target);
  switch (target.kind) {
    case 'unit':
      return { matches: (line) => line.unitId === target.targetId };
    case 'reviewed':
      return {
        matches: (line) => line.unitId === target.targetId,
        check: (lines) => {
          if (!lines.some((line) => line.type === 'review.verdict'))
            throw new HoldError(
              `unit ${target.targetId} of ${target.workflowId} has no review.verdict event: it is not a reviewed sample (hold it with --unit)`,
            );
        },
      };
    case 'rollback':
      return {
        matches: (line) => line.eventId === target.targetId,
        check: (lines) => {
          const notRollback = lines.find((line) => line.type !== 'rollback');
          if (notRollback)
            throw new HoldError(
              `event ${target.targetId} of ${target.workflowId} is a ${notRollback.type} event, not a rollback`,
            );
        },
      };
    case 'rollbacks':
      return { matches: (line) => line.type === 'rollback' };
    case 'eval-set': {
      if (!evalSetUnits) throw new Error(`${what}: its units are needed`);
      const units = new Set(evalSetUnits.unitIds);
      return { matches: (line) => units.has(line.unitId), evalSetVersion: evalSetUnits.version };
    }
  }
}

/** The TTL an event's index entry has without a hold, from its archived line (issue 12's hot window). */
export function unheldExpiresAt(line: ArchivedEventLine, hotIndexDays: number): number {
  return indexExpiresAt({
    type: line.type,
    receivedAtMs: Date.parse(line.receivedAt),
    retentionExpiresAt: line.retentionExpiresAt,
    hotIndexDays,
  });
}

export interface AddHoldResult {
  readonly hold: Hold;
  /** Events held by their archive objects alone: the index had dropped them already. */
  readonly archiveOnlyEvents: number;
  /** The units whose events it holds. */
  readonly unitIds: readonly string[];
}

/**
 * Adds a hold: finds its events in the archive (the system of record: it has them all, the index only
 * their hot window), takes the TTL off those still indexed, and puts a legal hold on their objects.
 * Recorded as `applying` first and `active` last, so a failure part-way is seen; every step can be done
 * again, so the same command sent again finishes it.
 */
export async function addHold(
  request: HoldTarget & {
    reason: string;
    heldBy: string;
    evalSetUnits?: { version: number; unitIds: string[] };
  },
  deps: HoldDependencies,
): Promise<AddHoldResult> {
  const target: HoldTarget = {
    workflowId: request.workflowId,
    kind: request.kind,
    targetId: request.targetId,
  };
  const what = describeTarget(target);
  const existing = await deps.holds.get(target);
  if (existing?.status === 'active')
    throw new HoldError(`${what} is already held (since ${existing.heldAt}, by ${existing.heldBy})`);
  const selection = selectionFor(target, request.evalSetUnits);
  const { lines, objectKeys } = await deps.archive.findLines(target.workflowId, selection.matches);
  if (lines.length === 0)
    throw new HoldError(`${what}: no such events in the ledger's archive, so nothing to hold`);
  selection.check?.(lines);

  const now = deps.clock();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const heldAt = now.toISOString();
  const base = {
    ...target,
    reason: request.reason,
    heldBy: request.heldBy,
    heldAt,
    ...(selection.evalSetVersion !== undefined ? { evalSetVersion: selection.evalSetVersion } : {}),
  };
  // An event sent again is archived again; the index kept the first write, so the earliest line stands for it.
  const byEvent = new Map<string, ArchivedEventLine>();
  for (const line of lines) {
    const kept = byEvent.get(line.eventId);
    if (!kept || Date.parse(line.receivedAt) < Date.parse(kept.receivedAt)) byEvent.set(line.eventId, line);
  }
  const objects = [...new Set(lines.map((line) => line.archiveKey))].flatMap((key) =>
    objectKeys.has(archiveOutcomeKey(key)) ? [key, archiveOutcomeKey(key)] : [key],
  );
  await deps.holds.put({
    ...base,
    status: 'applying',
    events: byEvent.size,
    indexedEvents: 0,
    objects: objects.length,
  });

  // Objects first: the archive is what keeps an event for good, whatever becomes of the index.
  await mapWithConcurrency(objects, HOLD_CONCURRENCY, (key) => deps.archive.setLegalHold(key, true));
  const recordedBefore = (await otherHoldsMembers(target, deps.holds)).ttl;
  const events = await mapWithConcurrency(
    [...byEvent.values()],
    HOLD_CONCURRENCY,
    async (line): Promise<HeldEvent> => {
      const removed = await deps.index.removeExpiry(
        { workflowId: target.workflowId, eventId: line.eventId },
        nowSeconds,
      );
      const expiresAt =
        (removed.indexed ? removed.expiresAt : undefined) ??
        recordedBefore.get(line.eventId) ??
        unheldExpiresAt(line, deps.hotIndexDays);
      return { eventId: line.eventId, expiresAt, indexed: removed.indexed };
    },
  );
  await deps.holds.putMembers(target, { events, objects });
  const hold: Hold = {
    ...base,
    status: 'active',
    events: events.length,
    indexedEvents: events.filter((event) => event.indexed).length,
    objects: objects.length,
  };
  await deps.holds.put(hold);
  return {
    hold,
    archiveOnlyEvents: hold.events - hold.indexedEvents,
    unitIds: [...new Set(lines.map((line) => line.unitId))],
  };
}

export interface RemoveHoldResult {
  readonly hold: Hold;
  /** Index entries whose TTL came back, and objects whose legal hold is off. */
  readonly restoredEvents: number;
  readonly releasedObjects: number;
  /** Events and objects another hold still covers, so left held. */
  readonly stillHeldEvents: number;
  readonly stillHeldObjects: number;
}

/**
 * Removes a hold: each index entry it covers gets its TTL back (never in the past, so TTL takes an entry
 * whose time has come soon after), and each object's legal hold goes off — unless another active hold of
 * the workflow covers the same event or object. Marked `released` last, so a failure part-way can be
 * finished by sending the same command again.
 */
export async function removeHold(
  request: HoldTarget & { reason: string; releasedBy: string },
  deps: HoldDependencies,
): Promise<RemoveHoldResult> {
  const target: HoldTarget = {
    workflowId: request.workflowId,
    kind: request.kind,
    targetId: request.targetId,
  };
  const hold = await deps.holds.get(target);
  if (!hold || hold.status === 'released')
    throw new HoldError(
      `${describeTarget(target)} is not held${hold ? ` (released ${hold.releasedAt} by ${hold.releasedBy})` : ''}`,
    );
  // A hold still being added has not recorded what it covers: releasing now could release its events.
  const applying = (await activeHolds(deps.holds)).find(
    (other) =>
      other.status === 'applying' && other.workflowId === target.workflowId && !sameTarget(other, target),
  );
  if (applying)
    throw new HoldError(
      `a hold on ${describeTarget(applying)} is being added, or its add failed part-way: run that hold add again to finish it, then this remove`,
    );
  const members = await deps.holds.members(target);
  const others = await otherHoldsMembers(target, deps.holds);
  const nowSeconds = Math.floor(deps.clock().getTime() / 1000);
  const releasedEvents = members.events.filter((event) => !others.eventIds.has(event.eventId));
  const restored = await mapWithConcurrency(releasedEvents, HOLD_CONCURRENCY, (event) =>
    deps.index.restoreExpiry(
      { workflowId: target.workflowId, eventId: event.eventId },
      restoredIndexExpiresAt(event.expiresAt, nowSeconds),
    ),
  );
  const releasedKeys = members.objects.filter((key) => !others.objects.has(key));
  await mapWithConcurrency(releasedKeys, HOLD_CONCURRENCY, (key) => deps.archive.setLegalHold(key, false));
  const restoredEvents = restored.filter(Boolean).length;
  const releasedObjects = releasedKeys.length;
  const stillHeldEvents = members.events.length - releasedEvents.length;
  const stillHeldObjects = members.objects.length - releasedKeys.length;
  const released: Hold = {
    ...hold,
    status: 'released',
    releasedBy: request.releasedBy,
    releasedAt: deps.clock().toISOString(),
    releaseReason: request.reason,
  };
  await deps.holds.put(released);
  await deps.holds.deleteMembers(target);
  return { hold: released, restoredEvents, releasedObjects, stillHeldEvents, stillHeldObjects };
}

/** The holds in force or being applied (a released one keeps only its record). */
export async function activeHolds(holds: HoldStore): Promise<Hold[]> {
  return (await holds.list()).filter((hold) => hold.status !== 'released');
}

function sameTarget(a: HoldTarget, b: HoldTarget): boolean {
  return a.workflowId === b.workflowId && a.kind === b.kind && a.targetId === b.targetId;
}

/**
 * What the workflow's other holds (in force or being applied) cover, and the TTLs they recorded: an event
 * another hold took the TTL off has none in the index to read.
 */
async function otherHoldsMembers(
  target: HoldTarget,
  holds: HoldStore,
): Promise<{ eventIds: Set<string>; objects: Set<string>; ttl: Map<string, number> }> {
  const eventIds = new Set<string>();
  const objects = new Set<string>();
  const ttl = new Map<string, number>();
  for (const other of await activeHolds(holds)) {
    if (other.workflowId !== target.workflowId || sameTarget(other, target)) continue;
    const members = await holds.members(other);
    for (const event of members.events) {
      eventIds.add(event.eventId);
      ttl.set(event.eventId, event.expiresAt);
    }
    for (const key of members.objects) objects.add(key);
  }
  return { eventIds, objects, ttl };
}
