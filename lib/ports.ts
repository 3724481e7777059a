import type { EventType, LedgerEvent } from '#lib/events/schema.ts';

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
  /** Epoch seconds after which the event is expired (DynamoDB TTL). */
  readonly expiresAt: number;
  readonly archiveKey: string;
  /** An autonomous action taken while the workflow's autonomous lane was switched off. */
  readonly killSwitchViolation?: true;
  /** The autonomy-boundary rules this action broke (CANNOT rules, missing approvals, unlisted approvers). */
  readonly boundaryViolations?: readonly RecordedBoundaryViolation[];
  /** An action in a lane its workflow's rollout phase had not opened when it was ingested. */
  readonly rolloutPhaseViolation?: RecordedRolloutPhaseViolation;
}

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
  query(query: EventQuery): Promise<EventPage>;
  /**
   * Visits every live event of a workflow that occurred in [fromMs, toMs), in a fixed order that is not
   * time order: the bulk read for jobs, without the merge a time-ordered page needs.
   */
  forEachInRange(
    range: { workflowId: string; fromMs: number; toMs: number; nowSeconds: number },
    visit: (stored: StoredEvent) => void,
  ): Promise<void>;
}

export interface EventQuery {
  readonly workflowId: string;
  /** Inclusive lower bound, epoch ms. */
  readonly fromMs: number;
  /** Exclusive upper bound, epoch ms. */
  readonly toMs: number;
  readonly unitId?: string;
  readonly type?: EventType;
  readonly limit: number;
  /** Only actions that broke the kill switch, an autonomy boundary, or their rollout phase. */
  readonly onlyViolations?: ViolationKind;
  /** Opaque position from a previous page. */
  readonly after?: string;
  /** Items that expired before this instant (epoch seconds) are never returned. */
  readonly nowSeconds: number;
}

export interface EventPage {
  readonly items: StoredEvent[];
  /** Position after the last item, when more may follow. */
  readonly after?: string;
}

export interface EventArchive {
  /** Durably stores one batch (one request, one workflow) as one object. */
  putBatch(key: string, events: readonly StoredEvent[]): Promise<void>;
}

export type ViolationKind = 'kill-switch' | 'boundary' | 'rollout-phase';

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
