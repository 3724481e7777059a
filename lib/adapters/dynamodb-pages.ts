import {
  type DynamoDBDocumentClient,
  paginateQuery,
  paginateScan,
  type QueryCommandInput,
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

/** The items of a Scan, page after page through the SDK's paginator. */
export async function* scanItems(
  documents: DynamoDBDocumentClient,
  input: ScanCommandInput,
): AsyncGenerator<Record<string, unknown>> {
  for await (const page of paginateScan({ client: documents }, { ...input })) yield* page.Items ?? [];
}
