/**
 * When to try again after a failed send: exponential backoff with full jitter (a delay drawn uniformly
 * from [0, min(maxDelayMs, baseDelayMs × 2^attempt)]), so clients that failed together do not retry
 * together. A `Retry-After` the ledger sent is a floor: the client never comes back sooner than asked.
 */
export interface BackoffOptions {
  /** The first retry's ceiling, in ms. */
  readonly baseDelayMs: number;
  /** No retry waits longer than this (except for a longer `Retry-After`, up to `maxRetryAfterMs`). */
  readonly maxDelayMs: number;
  /** A `Retry-After` longer than this is read as this. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseDelayMs: 200,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/** The ceiling of the jittered delay before retry `attempt` (0 for the first retry). */
export function backoffCeiling(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  // 2^attempt overflows to Infinity for large attempts, which min() then caps.
  return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
}

/** The delay before retry `attempt`: full jitter under the ceiling, never less than `retryAfterMs`. */
export function backoffDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const jittered = Math.floor(random() * backoffCeiling(attempt, options));
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, options.maxRetryAfterMs));
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
