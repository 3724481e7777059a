import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';

/**
 * The keys under a prefix, in key order, page after page through the SDK's paginator; the next page is
 * asked for only when the last one is used up, so `take(listObjectKeys(…), n)` lists no further. No
 * delimiter: the local S3 server finds no common prefixes more than one level deep. `signal` bounds the
 * whole listing (every page's request).
 */
export async function* listObjectKeys(
  s3: S3Client,
  listing: { bucket: string; prefix: string; pageSize?: number; signal?: AbortSignal },
): AsyncGenerator<string> {
  const pages = paginateListObjectsV2(
    { client: s3, ...(listing.pageSize ? { pageSize: listing.pageSize } : {}) },
    { Bucket: listing.bucket, Prefix: listing.prefix },
    ...(listing.signal ? [{ abortSignal: listing.signal }] : []),
  );
  for await (const page of pages) {
    for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
  }
}

/**
 * Copies objects to `dir`, each at its key as a relative path: for DuckDB, which reads local files only
 * offline (its network extensions are not available, and nothing is downloaded at run time).
 */
export async function copyObjectsToDirectory(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
  dir: string,
): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const file = join(dir, key);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, await (object.Body?.transformToByteArray() ?? new Uint8Array()));
    }),
  );
}
