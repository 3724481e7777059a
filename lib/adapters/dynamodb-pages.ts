import type { QueryCommandInput, QueryCommandOutput, ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Documents } from '#lib/adapters/documents.ts';

/**
 * The items of a Query, page after page; the next page is asked for only when the last one is used up,
 * so a reader that stops early (`take`) reads no further. `pageSize` is the Query's Limit, which counts
 * items before any FilterExpression.
 */
export async function* queryItems(
  documents: Documents,
  input: QueryCommandInput,
  pageSize?: number,
): AsyncGenerator<Record<string, unknown>> {
  for await (const page of queryPages(documents, input, pageSize)) yield* page.Items ?? [];
}

/**
 * The same, a page at a time, as DynamoDB returns it (items and, when asked for, consumed capacity): for
 * readers that act on a page's items together (a BatchGet per page).
 */
export async function* queryPages(
  documents: Documents,
  input: QueryCommandInput,
  pageSize?: number,
): AsyncGenerator<QueryCommandOutput> {
  let startKey = input.ExclusiveStartKey;
  do {
    const page = await documents.query({
      ...input,
      ...(pageSize ? { Limit: pageSize } : {}),
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    });
    yield page;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** The items of a Scan, page after page, each asked for when the last one is used up. */
export async function* scanItems(
  documents: Documents,
  input: ScanCommandInput,
): AsyncGenerator<Record<string, unknown>> {
  let startKey = input.ExclusiveStartKey;
  do {
    const page = await documents.scan({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) });
    yield* page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Tries at one batch (BatchGet, BatchWrite) before what DynamoDB keeps leaving unprocessed is an error. */
export const MAX_BATCH_ATTEMPTS = 8;
/** The first retry of unprocessed keys or items waits up to this long; each further one up to twice as long. */
export const BATCH_RETRY_BASE_DELAY_MS = 25;

/**
 * The wait before retry `attempt` (1, 2, …) of what a batch left unprocessed: "full jitter", a random time
 * up to an exponentially growing cap, as the SDK's own retry strategy does, so the Lambdas that were
 * throttled together do not all come back at the same instant.
 */
export function batchRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * BATCH_RETRY_BASE_DELAY_MS * 2 ** attempt);
}

/**
 * Sends one batch, then what DynamoDB left unprocessed (it does under throttling), after a jittered wait,
 * until nothing is left; `send` answers the part it left unprocessed.
 */
export async function sendUntilProcessed<T>(batch: T[], send: (pending: T[]) => Promise<T[]>): Promise<void> {
  let pending = batch;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= MAX_BATCH_ATTEMPTS) throw new Error('DynamoDB kept leaving part of a batch unprocessed');
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, batchRetryDelayMs(attempt)));
    pending = await send(pending);
  }
}
