import type { ObjectStore } from '#lib/adapters/objects.ts';
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
  objects: ObjectStore,
  bucketName: string,
  archiveKeys: readonly string[],
): Promise<Map<string, readonly ArchiveLineOutcome[]>> {
  const records = await mapWithConcurrency(archiveKeys, OUTCOME_READ_CONCURRENCY, async (key) => {
    const body = await objects.get(bucketName, archiveOutcomeKey(key));
    if (body === undefined) return undefined;
    const record = JSON.parse(new TextDecoder().decode(body)) as { lines?: ArchiveLineOutcome[] };
    return [key, record.lines ?? []] as const;
  });
  return new Map(records.filter((record) => record !== undefined));
}
