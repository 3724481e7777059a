import { randomBytes } from 'node:crypto';
import { type Caller, mayAccess } from '#lib/auth/caller.ts';
import { boundaryViolations, unlistedTools } from '#lib/boundaries/check.ts';
import { rolloutPhaseViolation } from '#lib/boundaries/rollout-phase.ts';
import { InvalidRequestError, WorkflowNotAllowedError } from '#lib/errors.ts';
import type { ActorHasher } from '#lib/events/actor-hashing.ts';
import { contentHash } from '#lib/events/canonical.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import { validateBatch } from '#lib/events/validate.ts';
import { LedgerLaneHistory } from '#lib/kill-switch/history.ts';
import {
  type ArchivedEvents,
  type ArchiveLineOutcome,
  type EventArchive,
  type EventIndex,
  eventKeyString,
  type PutOutcome,
  type StoredEvent,
  type ViolationKind,
} from '#lib/ports.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { UnitLane } from '#lib/reviews/lane.ts';
import type { ReviewQueue } from '#lib/reviews/queue.ts';
import { isSampledForReview } from '#lib/reviews/sampling.ts';
import { archiveObjectKey, expirationDaysFor } from '#lib/storage/archive-bucket.ts';
import { DEFAULT_HOT_INDEX_DAYS, hotFloorMs, indexExpiresAt } from '#lib/storage/ledger-table.ts';

export type EventStatus = 'accepted' | 'duplicate' | 'conflict';

export interface IngestResult {
  readonly accepted: number;
  readonly duplicates: number;
  readonly conflicts: number;
  readonly results: { eventId: string; status: EventStatus }[];
  readonly violations?: IngestViolation[];
}

/** An accepted event the ledger marked: stored all the same, and said back to the agent service. */
export interface IngestViolation {
  readonly eventId: string;
  readonly kind: ViolationKind;
  /** `boundary`: the rule broken. */
  readonly ruleId?: string;
  /** `rollout-phase`: the workflow's phase, and the lane it has not opened. */
  readonly phase?: string;
  readonly lane?: string;
}

export interface IngestDependencies {
  readonly index: EventIndex;
  readonly archive: EventArchive;
  readonly registry: WorkflowRegistry;
  readonly hasher: ActorHasher;
  readonly clock: () => Date;
  readonly newRequestId?: () => string;
  /** Days an event stays in the index after it arrives; the default when absent (lib/storage/ledger-table.ts). */
  readonly hotIndexDays?: number;
  /**
   * The archive read as events: where an event from before the hot window, which the index may have
   * dropped, is looked up so its retry still answers `duplicate` or `conflict`. Absent only where no such
   * event arrives (unit tests, callers whose events are stamped now); then those are taken as new.
   */
  readonly archivedEvents?: ArchivedEvents;
  /** Where sampled completions wait for review; absent where no review loop runs (unit tests). */
  readonly reviews?: ReviewQueue;
}

/**
 * The ingest use case (SPEC "Ingest"). All-or-nothing on validation: one bad event rejects the request
 * before anything is written. Then the raw batch is archived (one object per workflow), and only after
 * that is durable are the events indexed with a conditional put, so a retry after any failure is safe:
 * events already indexed answer `duplicate`, the rest are archived again and indexed. The archive is
 * therefore at-least-once and the index exactly-once; each archive line carries its content hash, and an
 * outcome record beside an object names its lines that did not become the index's version, so the archive
 * alone tells which version the index kept (`indexedVersionFromArchive`).
 *
 * Statuses are always against what the index holds: a later copy of an eventId in the same request is a
 * `duplicate` when it equals the indexed version, else a `conflict`.
 */
export async function ingestEvents(
  body: unknown,
  caller: Caller,
  deps: IngestDependencies,
): Promise<IngestResult> {
  const receivedAt = deps.clock();
  const validation = validateBatch(body, { now: receivedAt, registry: deps.registry });
  if (!validation.ok) {
    throw new InvalidRequestError(
      'the request breaks the ingest contract; nothing was stored',
      validation.issues,
    );
  }
  return ingestValidEvents(validation.events, caller, deps, receivedAt);
}

/**
 * The ingest use case after validation: `events` passed `validateBatch` at `receivedAt` (at most
 * MAX_EVENTS_PER_REQUEST of them). For callers that validate themselves (the OTLP path, which rejects
 * spans one by one instead of whole requests).
 */
export async function ingestValidEvents(
  events: readonly LedgerEvent[],
  caller: Caller,
  deps: IngestDependencies,
  receivedAt: Date,
): Promise<IngestResult> {
  const forbidden = [...new Set(events.map((event) => event.workflowId))].filter(
    (workflowId) => !mayAccess(caller, workflowId),
  );
  if (forbidden.length > 0) throw new WorkflowNotAllowedError(forbidden);

  const requestId = (deps.newRequestId ?? defaultRequestId)();
  const statuses: EventStatus[] = [];
  const firstHashByKey = new Map<string, string>();
  const candidates: { position: number; stored: StoredEvent }[] = [];
  /** Later copies of an eventId in this request: answered against whatever the index ends up holding. */
  const repeats: { position: number; key: string; hash: string }[] = [];

  for (const [position, event] of events.entries()) {
    const pseudonymized = deps.hasher.pseudonymize(event);
    const hash = contentHash(pseudonymized);
    const key = eventKeyString(event);
    if (firstHashByKey.has(key)) {
      repeats.push({ position, key, hash });
      continue;
    }
    firstHashByKey.set(key, hash);
    // biome-ignore lint/style/noNonNullAssertion: registered workflows were checked by validateBatch
    const { retentionMonths } = deps.registry.get(event.workflowId)!;
    candidates.push({
      position,
      stored: {
        event: pseudonymized,
        occurredAtMs: parseRfc3339(event.occurredAt) ?? receivedAt.getTime(),
        receivedAt: receivedAt.toISOString(),
        contentHash: hash,
        expiresAt: indexExpiresAt({
          type: pseudonymized.type,
          receivedAtMs: receivedAt.getTime(),
          retentionExpiresAt:
            Math.floor(receivedAt.getTime() / 1000) + expirationDaysFor(retentionMonths) * 86_400,
          hotIndexDays: deps.hotIndexDays ?? DEFAULT_HOT_INDEX_DAYS,
        }),
        archiveKey: archiveObjectKey({
          retentionMonths,
          workflowId: event.workflowId,
          receivedAt,
          requestId,
        }),
      },
    });
  }

  /** Per eventId, the content hash of the version the index holds (known once it is read or written). */
  const indexedHash = new Map<string, string>();
  const existing = await deps.index.findContentHashes(candidates.map(({ stored }) => stored.event));
  // Before the hot floor the index may have dropped an event stored long ago; the archive has it for its
  // whole retention. Asked about those events only: an archive query takes seconds and is billed.
  const floorMs = hotFloorMs(receivedAt.getTime(), deps.hotIndexDays ?? DEFAULT_HOT_INDEX_DAYS);
  const beforeHotWindow = candidates.filter(
    ({ stored }) => stored.occurredAtMs < floorMs && !existing.has(eventKeyString(stored.event)),
  );
  if (deps.archivedEvents && beforeHotWindow.length > 0) {
    const archived = await deps.archivedEvents.findContentHashes(
      beforeHotWindow.map(({ stored }) => ({
        workflowId: stored.event.workflowId,
        eventId: stored.event.eventId,
        occurredAtMs: stored.occurredAtMs,
      })),
      Math.floor(receivedAt.getTime() / 1000),
    );
    for (const [key, hash] of archived) existing.set(key, hash);
  }
  const fresh = candidates.filter(({ position, stored }) => {
    const key = eventKeyString(stored.event);
    const existingHash = existing.get(key);
    if (existingHash === undefined) return true;
    indexedHash.set(key, existingHash);
    statuses[position] = existingHash === stored.contentHash ? 'duplicate' : 'conflict';
    return false;
  });

  // Disobedience is kept like any event, and marked: an autonomous action while its lane was off.
  const history = new LedgerLaneHistory(deps.index, Math.floor(receivedAt.getTime() / 1000));
  for (const candidate of fresh) {
    const { event, occurredAtMs } = candidate.stored;
    if (event.type !== 'action' || event.lane !== 'autonomous') continue;
    if (!(await history.wasAutonomyAllowed(event.workflowId, occurredAtMs))) {
      candidate.stored = { ...candidate.stored, killSwitchViolation: true };
    }
  }
  // So is an action that broke its workflow's autonomy boundary: a CANNOT rule, or a missing approval.
  // Checked on the event as sent: the registry lists approvers by their raw IDs, which are stored hashed.
  for (const candidate of fresh) {
    const event = events[candidate.position] as LedgerEvent;
    const workflow = deps.registry.get(event.workflowId);
    if (event.type !== 'action' || !workflow) continue;
    const broken = boundaryViolations(event, workflow).map(({ kind, ruleId, tool }) => ({
      kind,
      ruleId,
      tool,
    }));
    if (broken.length > 0) candidate.stored = { ...candidate.stored, boundaryViolations: broken };
    // And one calling a tool its boundary does not list: unwritten policy, made visible (issue 10 §5).
    // Recorded and readable (`violations=unlisted-tool`), counted weekly; not said back in `violations`,
    // which lists what broke written policy.
    const unlisted = unlistedTools(event, workflow);
    if (unlisted.length > 0) candidate.stored = { ...candidate.stored, unlistedTools: unlisted };
    // And one in a lane its workflow's rollout phase has not opened (autonomous while still in evals).
    const early = rolloutPhaseViolation(event, workflow);
    if (early) {
      candidate.stored = {
        ...candidate.stored,
        rolloutPhaseViolation: { phase: early.phase, lane: early.lane },
      };
    }
  }

  if (fresh.length > 0) {
    const archived = fresh.map(({ stored }) => stored);
    await archiveByObject(deps.archive, archived);
    let outcomes: PutOutcome[];
    try {
      outcomes = await deps.index.putIfAbsent(archived);
    } catch (error) {
      // The index did not answer: whether each line was indexed is unknown. Say so beside the archive
      // objects (best effort: the store that failed is usually the other one), then let the caller retry.
      await recordOutcomes(
        deps.archive,
        archived.map((stored) => ({ stored, outcome: { status: 'unconfirmed' as const } })),
      ).catch(() => undefined);
      throw error;
    }
    const lost: { stored: StoredEvent; outcome: Omit<ArchiveLineOutcome, 'eventId' | 'contentHash'> }[] = [];
    for (const [i, { position, stored }] of fresh.entries()) {
      const outcome = outcomes[i];
      const key = eventKeyString(stored.event);
      if (outcome?.status === 'exists') {
        // Another request wrote this eventId between our check and our write: the first one stands.
        indexedHash.set(key, outcome.existingContentHash);
        const status = outcome.existingContentHash === stored.contentHash ? 'duplicate' : 'conflict';
        statuses[position] = status;
        lost.push({ stored, outcome: { status, indexedContentHash: outcome.existingContentHash } });
      } else {
        indexedHash.set(key, stored.contentHash);
        statuses[position] = 'accepted';
      }
    }
    // The archive says which of its lines lost, so it alone tells which version the index kept.
    if (lost.length > 0) await recordOutcomes(deps.archive, lost);
  }
  // A later copy of an eventId in the same request is a duplicate of what the index holds, or a conflict.
  for (const { position, key, hash } of repeats) {
    statuses[position] = indexedHash.get(key) === hash ? 'duplicate' : 'conflict';
  }

  if (deps.reviews)
    await updateReviewQueue(
      deps.reviews,
      deps.index,
      events.map((event) => deps.hasher.pseudonymize(event)),
      statuses,
      deps.registry,
      receivedAt,
    );

  const results = events.map((event, position) => ({
    eventId: event.eventId,
    status: statuses[position] ?? 'accepted',
  }));
  const violations = fresh.flatMap(({ position, stored }): IngestViolation[] =>
    statuses[position] !== 'accepted'
      ? []
      : [
          ...(stored.killSwitchViolation
            ? [{ eventId: stored.event.eventId, kind: 'kill-switch' as const }]
            : []),
          ...(stored.boundaryViolations ?? []).map((violation) => ({
            eventId: stored.event.eventId,
            kind: 'boundary' as const,
            ruleId: violation.ruleId,
          })),
          ...(stored.rolloutPhaseViolation
            ? [
                {
                  eventId: stored.event.eventId,
                  kind: 'rollout-phase' as const,
                  phase: stored.rolloutPhaseViolation.phase,
                  lane: stored.rolloutPhaseViolation.lane,
                },
              ]
            : []),
        ],
  );
  return {
    accepted: results.filter((result) => result.status === 'accepted').length,
    duplicates: results.filter((result) => result.status === 'duplicate').length,
    conflicts: results.filter((result) => result.status === 'conflict').length,
    results,
    // Stored all the same; said back so the agent service can see what it did.
    ...(violations.length > 0 ? { violations } : {}),
  };
}

/** One outcome record per archive object, listing its lines that are not the index's version. */
async function recordOutcomes(
  archive: EventArchive,
  lines: readonly { stored: StoredEvent; outcome: Omit<ArchiveLineOutcome, 'eventId' | 'contentHash'> }[],
): Promise<void> {
  const byKey = new Map<string, ArchiveLineOutcome[]>();
  for (const { stored, outcome } of lines) {
    const entry = { eventId: stored.event.eventId, contentHash: stored.contentHash, ...outcome };
    const group = byKey.get(stored.archiveKey);
    if (group) group.push(entry);
    else byKey.set(stored.archiveKey, [entry]);
  }
  await Promise.all([...byKey].map(([key, group]) => archive.putOutcome(key, group)));
}

async function archiveByObject(archive: EventArchive, events: readonly StoredEvent[]): Promise<void> {
  const byKey = new Map<string, StoredEvent[]>();
  for (const stored of events) {
    const group = byKey.get(stored.archiveKey);
    if (group) group.push(stored);
    else byKey.set(stored.archiveKey, [stored]);
  }
  await Promise.all([...byKey].map(([key, batch]) => archive.putBatch(key, batch)));
}

/** Time-ordered, so archive objects of one day list in arrival order. */
/** A request ID that sorts by time: archive objects of one day list in the order they were written. */
export function defaultRequestId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
}

/**
 * Sampled completions join the review queue, with the unit's lane (lib/reviews/lane.ts) from its actions
 * in this request and those already stored; verdicts close them. Run for duplicates too: these writes
 * are idempotent, and a retry after a failure here must still make them.
 */
async function updateReviewQueue(
  reviews: ReviewQueue,
  index: EventIndex,
  events: readonly LedgerEvent[],
  statuses: readonly (EventStatus | undefined)[],
  registry: WorkflowRegistry,
  receivedAt: Date,
): Promise<void> {
  const nowSeconds = Math.floor(receivedAt.getTime() / 1000);
  // Queue first, then close: a completion and its verdict can arrive in the same request.
  const enqueues: Promise<void>[] = [];
  const closes: (() => Promise<void>)[] = [];
  for (const [position, event] of events.entries()) {
    if (statuses[position] === 'conflict') continue;
    if (event.type === 'unit.completed') {
      const rate = registry.get(event.workflowId)?.reviewSampleRate ?? 0;
      if (!isSampledForReview(event.workflowId, event.unitId, rate)) continue;
      enqueues.push(
        (async () => {
          // The request's own actions count even before the index's unit view shows them.
          const lane = new UnitLane();
          for (const other of events) {
            if (
              other.type === 'action' &&
              other.workflowId === event.workflowId &&
              other.unitId === event.unitId
            )
              lane.add(other.lane);
          }
          const stored = index.events({
            workflowId: event.workflowId,
            unitId: event.unitId,
            type: 'action',
            nowSeconds,
          });
          for await (const { event: action } of stored) lane.add(action.lane);
          await reviews.enqueue({
            workflowId: event.workflowId,
            unitId: event.unitId,
            completedAt: event.occurredAt,
            sampledAt: receivedAt.toISOString(),
            lane: lane.lane,
          });
        })(),
      );
    } else if (event.type === 'review.verdict') {
      closes.push(() =>
        reviews.close({
          workflowId: event.workflowId,
          unitId: event.unitId,
          reviewedAt: event.occurredAt,
          reviewerId: event.reviewerId,
          verdict: event.verdict,
        }),
      );
    }
  }
  await Promise.all(enqueues);
  await Promise.all(closes.map((close) => close()));
}
