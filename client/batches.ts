import { MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST } from '../lib/events/schema.ts';

/** One event waiting to be sent, with its JSON already written (the bytes it adds to a request). */
export interface QueuedEvent<E> {
  readonly event: E;
  readonly json: string;
  readonly bytes: number;
}

export interface BatchLimits {
  readonly maxEvents: number;
  /** Of the whole request body, `{"events":[…]}`. */
  readonly maxBodyBytes: number;
}

/** SPEC "Ingest": 1 to 500 events, at most 1 MiB. */
export const INGEST_LIMITS: BatchLimits = { maxEvents: MAX_EVENTS_PER_REQUEST, maxBodyBytes: MAX_BODY_BYTES };

const ENVELOPE_BYTES = Buffer.byteLength('{"events":[]}');

/** The size of the request body that carries `count` events of `eventBytes` bytes in all. */
export function bodyBytes(count: number, eventBytes: number): number {
  return ENVELOPE_BYTES + eventBytes + Math.max(0, count - 1);
}

/**
 * How many of the queue's first events go in the next request: as many as fit both limits, and at least
 * one (an event too large to send alone never reaches the queue: it is rejected when logged).
 */
export function nextBatchSize<E>(
  queue: readonly QueuedEvent<E>[],
  limits: BatchLimits = INGEST_LIMITS,
): number {
  let count = 0;
  let bytes = 0;
  for (const entry of queue) {
    if (count === limits.maxEvents) break;
    if (count > 0 && bodyBytes(count + 1, bytes + entry.bytes) > limits.maxBodyBytes) break;
    count += 1;
    bytes += entry.bytes;
  }
  return count;
}

/** The request body for `batch`, from the JSON written when each event was logged. */
export function batchBody<E>(batch: readonly QueuedEvent<E>[]): string {
  return `{"events":[${batch.map((entry) => entry.json).join(',')}]}`;
}
