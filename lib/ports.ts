import type { EventType, LedgerEvent } from '#lib/events/schema.ts';
import { MAX_INSTANT_MS, MIN_INSTANT_MS, toUtcIso } from '#lib/events/timestamps.ts';

/**
 * Ports: the small interfaces the domain needs from storage. Adapters in `lib/adapters/` implement them
 * on DynamoDB and S3; the same adapters run against DynamoDB Local and the S3 server locally.
 */

/** An event as the ledger keeps it: actor already hashed, with the facts the ledger adds. */
export interface StoredEvent {
  readonly event: LedgerEvent;
  /** Epoch milliseconds of `event.occurredAt`. */
  readonly occurredAtMs: number;
  readonly receivedAt: string;
  readonly contentHash: string;
  /**
   * Epoch seconds after which the index drops the event (DynamoDB TTL): the end of its hot window, or of
   * its retention for the types the index keeps (lib/storage/ledger-table.ts). The archive keeps it for
   * its whole retention either way.
   */
  readonly expiresAt: number;
  readonly archiveKey: string;
  /** An autonomous action taken while the workflow's autonomous lane was switched off. */
  readonly killSwitchViolation?: true;
  /** The autonomy-boundary rules this action broke (CANNOT rules, missing approvals, unlisted approvers). */
  readonly boundaryViolations?: readonly RecordedBoundaryViolation[];
  /** An action in a lane its workflow's rollout phase had not opened when it was ingested. */
  readonly rolloutPhaseViolation?: RecordedRolloutPhaseViolation;
  /** The tools this action called that its workflow's boundary does not list (`unlisted-tool`); absent when none. */
  readonly unlistedTools?: readonly string[];
}

/** A stored event of the given type(s): what a read selecting `type` returns. */
export type StoredEventOf<T extends EventType> = StoredEvent & {
  readonly event: Extract<LedgerEvent, { type: T }>;
};

export interface EventKey {
  readonly workflowId: string;
  readonly eventId: string;
}

export type PutOutcome =
  | { readonly status: 'written' }
  | { readonly status: 'exists'; readonly existingContentHash: string };

export interface EventIndex {
  /** Content hashes of the events already stored, keyed by `eventKeyString`. */
  findContentHashes(keys: readonly EventKey[]): Promise<Map<string, string>>;
  /** Writes each event unless its key is already taken; the first write of a key always stands. */
  putIfAbsent(events: readonly StoredEvent[]): Promise<PutOutcome[]>;
  /** One page of the events the query selects, in time order: the read API's paged read. */
  query(query: EventQuery): Promise<EventPage>;
  /** Every event the selection matches, in time order, read page by page as it is consumed. */
  events<T extends EventType>(selection: EventSelection<T>): AsyncIterable<StoredEventOf<T>>;
  /**
   * Every live event of a workflow that occurred in [fromMs, toMs), in a fixed order that is not time
   * order: the bulk read for jobs, without the merge a time-ordered read needs.
   */
  eventsInRange(range: EventRange): AsyncIterable<StoredEvent>;
}

/** Which events a read selects. Every read returns only events that match all that is given. */
export interface EventSelection<T extends EventType = EventType> {
  readonly workflowId: string;
  /** Inclusive lower bound, epoch ms; the beginning of time when absent. */
  readonly fromMs?: number;
  /** Exclusive upper bound, epoch ms; the end of time when absent. */
  readonly toMs?: number;
  readonly unitId?: string;
  readonly type?: T;
  /** Only actions that broke the kill switch, an autonomy boundary, or their rollout phase. */
  readonly onlyViolations?: ViolationKind;
  /** Items that expired before this instant (epoch seconds) are never returned. */
  readonly nowSeconds: number;
}

export interface EventQuery extends EventSelection {
  /** At most this many items in the page. */
  readonly limit: number;
  /** Opaque position from a previous page: the page holds only events after it. */
  readonly after?: string;
}

export interface EventPage {
  readonly items: StoredEvent[];
  /** Position after the last item, when more may follow. */
  readonly after?: string;
}

export interface EventRange {
  readonly workflowId: string;
  /** Inclusive lower bound, epoch ms. */
  readonly fromMs: number;
  /** Exclusive upper bound, epoch ms. */
  readonly toMs: number;
  /** Items that expired before this instant (epoch seconds) are never returned. */
  readonly nowSeconds: number;
}

/**
 * The [fromMs, toMs) a selection stands for, the open ends filled in with the first and the last instant
 * (kept as the exclusive end, so the bound stays a four-digit year: no event is that close to year 10000).
 */
export function selectedTimeRange(selection: EventSelection): { fromMs: number; toMs: number } {
  return { fromMs: selection.fromMs ?? MIN_INSTANT_MS, toMs: selection.toMs ?? MAX_INSTANT_MS };
}

/**
 * An event's place in time order: its UTC time at fixed width, then its eventId. Events sort by this
 * string (ties in time broken by eventId); the index's sort keys and page positions are made of it.
 */
export function timeOrderKey(stored: Pick<StoredEvent, 'event' | 'occurredAtMs'>): string {
  return `${toUtcIso(stored.occurredAtMs)}#${stored.event.eventId}`;
}

export interface EventArchive {
  /** Durably stores one batch (one request, one workflow) as one object, a line per event with its content hash. */
  putBatch(key: string, events: readonly StoredEvent[]): Promise<void>;
  /**
   * Records, beside the object at `key`, the lines of it that are not the index's version of their event:
   * the index kept another write (a race lost), or the request failed before it knew (`unconfirmed`). With
   * these, the archive alone says which version the index holds (lib/storage/archive-bucket.ts).
   */
  putOutcome(key: string, lines: readonly ArchiveLineOutcome[]): Promise<void>;
  /** Durably stores raw OTLP spans (an OTLP/JSON `ExportTraceServiceRequest`, personal attributes hashed). */
  putRawSpans(key: string, request: object): Promise<void>;
}

/**
 * The archive read as events (issue 12): the system of record for the whole retention, where the index
 * holds only the hot window. Each event once, as the index holds it (the dedupe rule,
 * `indexedVersionFromArchive`), never past its retention. Slow and billed per query (Athena in the cloud,
 * DuckDB locally): read only what the index cannot answer (lib/read/tiered-events.ts).
 */
export interface ArchivedEvents {
  /** One page of the archived events the query selects, in time order; `after` is the index's cursor format. */
  query(query: EventQuery): Promise<EventPage>;
  /**
   * Content hashes of the archived events with these keys, keyed by `eventKeyString`: what ingest checks a
   * retry against once its event has left the index. `occurredAtMs` of each key bounds which days are read.
   */
  findContentHashes(events: readonly ArchivedEventKey[], nowSeconds: number): Promise<Map<string, string>>;
}

export interface ArchivedEventKey extends EventKey {
  /** The event's `occurredAt`: it was received at most 5 minutes before, so no earlier day holds it. */
  readonly occurredAtMs: number;
}

/** What became of one archived line that did not become the index's version of its event. */
export interface ArchiveLineOutcome {
  readonly eventId: string;
  /** The line's own content hash. */
  readonly contentHash: string;
  /**
   * `duplicate`/`conflict`: another write of the same event won, with the same or other content
   * (`indexedContentHash`); `unconfirmed`: the request failed before the index answered, so the line may
   * or may not be indexed, and its sender was told to retry.
   */
  readonly status: 'duplicate' | 'conflict' | 'unconfirmed';
  readonly indexedContentHash?: string;
}

/** `unlisted-tool`: a tool call whose tool the boundary neither allows nor forbids (lib/boundaries/check.ts). */
export type ViolationKind = 'kill-switch' | 'boundary' | 'rollout-phase' | 'unlisted-tool';

export interface RecordedBoundaryViolation {
  /** `approver`: approved, but by someone not listed for the rule's role. */
  readonly kind: 'cannot' | 'approval' | 'approver';
  readonly ruleId: string;
  readonly tool: string;
}

export interface RecordedRolloutPhaseViolation {
  /** The workflow's rollout phase at ingest. */
  readonly phase: string;
  /** The action's lane, which that phase does not open. */
  readonly lane: string;
}

export function eventKeyString(key: EventKey): string {
  return `${key.workflowId}#${key.eventId}`;
}

/** Whether a stored event carries the mark a read selecting `onlyViolations: kind` wants. */
export function hasViolation(stored: StoredEvent, kind: ViolationKind): boolean {
  switch (kind) {
    case 'kill-switch':
      return stored.killSwitchViolation === true;
    case 'boundary':
      return (stored.boundaryViolations?.length ?? 0) > 0;
    case 'rollout-phase':
      return stored.rolloutPhaseViolation !== undefined;
    case 'unlisted-tool':
      return (stored.unlistedTools?.length ?? 0) > 0;
  }
}
