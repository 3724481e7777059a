import type { QueryCommandInput, ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Documents } from '#lib/adapters/documents.ts';
import { queryItems, queryPages, scanItems } from '#lib/adapters/dynamodb-pages.ts';
import { take } from '#lib/util/async-iterables.ts';

/** Three pages of two items; each request is recorded as it is sent. */
function pagedDocuments(): { documents: Documents; requests: (QueryCommandInput | ScanCommandInput)[] } {
  const requests: (QueryCommandInput | ScanCommandInput)[] = [];
  const answer = async (input: QueryCommandInput | ScanCommandInput) => {
    requests.push({ ...input });
    const page = Number(input.ExclusiveStartKey?.page ?? 0);
    return {
      $metadata: {},
      Items: [{ id: `${page}a` }, { id: `${page}b` }],
      ...(page < 2 ? { LastEvaluatedKey: { page: page + 1 } } : {}),
    };
  };
  // Only the two reads these helpers make.
  return { documents: { query: answer, scan: answer } as unknown as Documents, requests };
}

describe('dynamodb-pages', () => {
  it('reads a Query to its end, each page from where the last one stopped, pageSize as its Limit', async () => {
    // Prepare
    const { documents, requests } = pagedDocuments();

    // Act
    const ids = [];
    for await (const item of queryItems(documents, { TableName: 't' }, 2)) ids.push(item.id);

    // Assess
    expect(ids).toEqual(['0a', '0b', '1a', '1b', '2a', '2b']);
    expect(requests).toEqual([
      { TableName: 't', Limit: 2 },
      { TableName: 't', Limit: 2, ExclusiveStartKey: { page: 1 } },
      { TableName: 't', Limit: 2, ExclusiveStartKey: { page: 2 } },
    ]);
  });

  it('asks for the next page only when the last one is used up', async () => {
    // Prepare
    const { documents, requests } = pagedDocuments();

    // Act
    const first = await take(queryItems(documents, { TableName: 't' }), 2);

    // Assess
    expect(first.map((item) => item.id)).toEqual(['0a', '0b']);
    expect(requests).toHaveLength(1);
  });

  it('yields whole Query pages, and Scans page after page', async () => {
    const pages = [];
    for await (const page of queryPages(pagedDocuments().documents, { TableName: 't' })) pages.push(page);
    expect(pages.map((page) => page.Items?.length)).toEqual([2, 2, 2]);

    const { documents, requests } = pagedDocuments();
    const ids = [];
    for await (const item of scanItems(documents, { TableName: 't' })) ids.push(item.id);
    expect(ids).toEqual(['0a', '0b', '1a', '1b', '2a', '2b']);
    expect(requests.at(-1)).toEqual({ TableName: 't', ExclusiveStartKey: { page: 2 } });
  });
});
