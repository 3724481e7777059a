import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Documents } from '#lib/adapters/documents.ts';
import { eventPartitionKey } from '#lib/adapters/dynamodb-event-index.ts';
import { ARCHIVE_PREFIX } from '#lib/storage/archive-bucket.ts';
import type { BenchBatch } from './events.ts';

/** Off-the-clock checks that a run really stored what it claims: archive objects and indexed events. */

/** Objects under the archive prefix (bounded: at most 100 pages). */
export async function countArchiveObjects(s3: S3Client, bucketName: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  for (let page = 0; page < 100; page++) {
    const response = await s3.send(
      new ListObjectsV2Command({ Bucket: bucketName, Prefix: ARCHIVE_PREFIX, ContinuationToken: token }),
    );
    count += response.KeyCount ?? response.Contents?.length ?? 0;
    token = response.IsTruncated ? response.NextContinuationToken : undefined;
    if (!token) return count;
  }
  throw new Error('the archive listing did not end within 100 pages');
}

/** Reads back `sample` events spread over the run; every one must be in the table. */
export async function assertIndexed(
  documents: Documents,
  tableName: string,
  batches: readonly BenchBatch[],
  sample = 100,
): Promise<void> {
  const all = batches.flatMap((batch) => batch.events);
  const step = Math.max(1, Math.floor(all.length / sample));
  const keys = [];
  for (let i = 0; i < all.length && keys.length < sample; i += step) {
    const event = all[i] as { workflowId: string; eventId: string };
    keys.push({ pk: eventPartitionKey(event), sk: 'EVT' });
  }
  let pending: Record<string, unknown>[] = keys;
  let found = 0;
  for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
    const response = await documents.batchGet({
      RequestItems: { [tableName]: { Keys: pending, ProjectionExpression: 'pk' } },
    });
    found += response.Responses?.[tableName]?.length ?? 0;
    pending = response.UnprocessedKeys?.[tableName]?.Keys ?? [];
  }
  if (found !== keys.length)
    throw new Error(`only ${found} of ${keys.length} sampled events are in the table`);
}
