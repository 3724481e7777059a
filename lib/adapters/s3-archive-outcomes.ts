import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isObjectNotFound } from '#lib/adapters/store-errors.ts';
import type { ArchiveLineOutcome } from '#lib/ports.ts';
import { archiveOutcomeKey } from '#lib/storage/archive-bucket.ts';
import { mapWithConcurrency } from '#lib/util/concurrency.ts';

/** Outcome records fetched at once; each is a small GetObject. */
const OUTCOME_READ_CONCURRENCY = 16;

/**
 * The outcome records (`putOutcome`) of these archive objects, by archive key; an object without one is
 * absent (every line of it is the index's version). Read with GetObject: Athena skips objects whose names
 * start with `_`, as these do.
 */
export async function readArchiveOutcomes(
  s3: S3Client,
  bucketName: string,
  archiveKeys: readonly string[],
): Promise<Map<string, readonly ArchiveLineOutcome[]>> {
  const records = await mapWithConcurrency(archiveKeys, OUTCOME_READ_CONCURRENCY, async (key) => {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: archiveOutcomeKey(key) }));
      const record = JSON.parse((await object.Body?.transformToString()) ?? '{}') as {
        lines?: ArchiveLineOutcome[];
      };
      return [key, record.lines ?? []] as const;
    } catch (error) {
      if (isObjectNotFound(error)) return undefined;
      throw error;
    }
  });
  return new Map(records.filter((record) => record !== undefined));
}
