import type { LedgerEvent } from '../lib/events/schema.ts';
import type { AutonomyState } from '../lib/kill-switch/autonomy.ts';
import type { Lane } from '../lib/registry/workflows.ts';

/** The ledger's own types (the SPEC's event schema and autonomy answer), one definition for both sides. */
export type { AutonomyState, Lane, LedgerEvent };
export type EventType = LedgerEvent['type'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as `log()` takes it: `eventId` (a UUID) and `occurredAt` (now) are filled in when missing. */
export type LedgerEventInput = DistributiveOmit<LedgerEvent, 'eventId' | 'occurredAt'> & {
  eventId?: string;
  occurredAt?: string;
};

export type ActionEvent = Extract<LedgerEvent, { type: 'action' }>;

/** What a unit's handle adds to every event: the rest of the common fields, all optional. */
export interface UnitEventFields {
  eventId?: string;
  occurredAt?: string;
  actor?: LedgerEvent['actor'];
  metadata?: LedgerEvent['metadata'];
}

/** An action of a unit: the action fields (SPEC "Ingest"), with the workflow and unit from the handle. */
export type UnitActionInput = Omit<ActionEvent, 'type' | 'workflowId' | 'unitId' | 'eventId' | 'occurredAt'> &
  UnitEventFields;

/** One problem with an event, as the ledger names it (`$.events[3].usage.inputTokens`). */
export interface EventIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * Why an event was not kept:
 * - `invalid`: it breaks the ingest contract (found before sending, or named by the ledger's 400);
 * - `rejected`: the ledger refused it for good (401, 403, 413, another 4xx);
 * - `conflict`: its eventId was already kept with different content (the first one stands);
 * - `buffer_full`: the client held as much as it may while the ledger could not be reached;
 * - `closed`: logged after `close()`, or still unsent when `close()` gave up waiting.
 */
export type DropReason = 'invalid' | 'rejected' | 'conflict' | 'buffer_full' | 'closed';

export interface DroppedEvent {
  readonly event: LedgerEvent | LedgerEventInput;
  readonly reason: DropReason;
  readonly issues?: readonly EventIssue[];
  /** The ledger's HTTP status, when it answered. */
  readonly status?: number;
  readonly message?: string;
}

/** A send that failed and will be tried again. */
export interface RetryInfo {
  readonly error: Error;
  /** 0 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly events: number;
}

export interface ClientStats {
  /** Events waiting to be sent (including a request in flight). */
  readonly buffered: number;
  readonly bufferedBytes: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly conflicts: number;
  /** Every event not kept, whatever the reason (`droppedBy` breaks it down). */
  readonly dropped: number;
  readonly droppedBy: Readonly<Record<DropReason, number>>;
  readonly requests: number;
  readonly retries: number;
}
