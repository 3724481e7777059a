import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { listObjectKeys } from '#lib/adapters/s3-keys.ts';
import { collect, take } from '#lib/util/async-iterables.ts';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());
const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

describe('listObjectKeys', () => {
  it('follows continuation tokens to the last page', async () => {
    // Prepare: the paginator reuses one input object, so each request is copied as it is sent
    const requests: unknown[] = [];
    const pages = [
      { Contents: [{ Key: 'r/a' }, { Key: 'r/b' }], IsTruncated: true, NextContinuationToken: 't1' },
      { Contents: [{ Key: 'r/c' }], IsTruncated: false },
    ];
    s3.on(ListObjectsV2Command).callsFake((input) => {
      requests.push({ ...input });
      return pages[requests.length - 1];
    });

    // Act
    const keys = await collect(listObjectKeys(client, { bucket: 'reports', prefix: 'r/', pageSize: 2 }));

    // Assess
    expect(keys).toEqual(['r/a', 'r/b', 'r/c']);
    expect(requests).toEqual([
      { Bucket: 'reports', Prefix: 'r/', MaxKeys: 2, ContinuationToken: undefined },
      { Bucket: 'reports', Prefix: 'r/', MaxKeys: 2, ContinuationToken: 't1' },
    ]);
  });

  it('asks for no further page once the reader has what it wants', async () => {
    s3.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: 'a' }, { Key: 'b' }],
      NextContinuationToken: 'more',
    });
    expect(await take(listObjectKeys(client, { bucket: 'reports', prefix: '' }), 2)).toEqual(['a', 'b']);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(1);
  });
});
