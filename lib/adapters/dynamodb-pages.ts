import {
  type DynamoDBDocumentClient,
  paginateQuery,
  paginateScan,
  type QueryCommandInput,
  type QueryCommandOutput,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';

/**
 * The items of a Query, page after page through the SDK's paginator; the next page is asked for only
 * when the last one is used up, so a reader that stops early (`take`) reads no further. `pageSize` is
 * the Query's Limit, which counts items before any FilterExpression.
 */
export async function* queryItems(
  documents: DynamoDBDocumentClient,
  input: QueryCommandInput,
  pageSize?: number,
): AsyncGenerator<Record<string, unknown>> {
  const pages = paginateQuery({ client: documents, ...(pageSize ? { pageSize } : {}) }, { ...input });
  for await (const page of pages) yield* page.Items ?? [];
}

/**
 * The same, a page at a time, as the SDK returns it (items and, when asked for, consumed capacity): for
 * readers that act on a page's items together (a BatchGet per page).
 */
export async function* queryPages(
  documents: DynamoDBDocumentClient,
  input: QueryCommandInput,
  pageSize?: number,
): AsyncGenerator<QueryCommandOutput> {
  yield* paginateQuery({ client: documents, ...(pageSize ? { pageSize } : {}) }, { ...input });
}

/** The items of a Scan, page after page through the SDK's paginator. */
export async function* scanItems(
  documents: DynamoDBDocumentClient,
  input: ScanCommandInput,
): AsyncGenerator<Record<string, unknown>> {
  for await (const page of paginateScan({ client: documents }, { ...input })) yield* page.Items ?? [];
}
