/** Network failures: the store could not be reached at all. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/**
 * Whether an error from an AWS call (the SDK's, or the lean clients' in `lib/aws/`, which shape their
 * errors alike) means the store is unavailable right now (unreachable, throttling, or a fault on its
 * side) rather than a mistake in the call: the caller's request may simply be sent again. Both mark
 * service faults (`$fault: 'server'`) and what their retries treat as transient (`$retryable`); network
 * errors carry a Node error code.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as {
    $fault?: string;
    $retryable?: unknown;
    code?: string;
    name?: string;
    cause?: unknown;
  };
  if (candidate.$fault === 'server' || candidate.$retryable) return true;
  if (candidate.code !== undefined && NETWORK_ERROR_CODES.has(candidate.code)) return true;
  if (candidate.name === 'TimeoutError') return true;
  return candidate.cause !== undefined && candidate.cause !== error && isStoreUnavailable(candidate.cause);
}

/** Whether an S3 GetObject/HeadObject error means the object is not there (rather than a failure). */
export function isObjectNotFound(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'NoSuchKey' || name === 'NotFound' || $metadata?.httpStatusCode === 404;
}
