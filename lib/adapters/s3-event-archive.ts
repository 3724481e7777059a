import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EventArchive, StoredEvent } from '#lib/ports.ts';

const gzipAsync = promisify(gzip);

/** One line of an archive object: the pseudonymized event as accepted, plus when the ledger received it. */
export function archiveLine(stored: StoredEvent): string {
  return JSON.stringify({ ...stored.event, receivedAt: stored.receivedAt });
}

/** The raw archive: one gzip-compressed NDJSON object per ingest request and workflow. */
export class S3EventArchive implements EventArchive {
  constructor(
    private readonly s3: S3Client,
    private readonly bucketName: string,
  ) {}

  async putBatch(key: string, events: readonly StoredEvent[]): Promise<void> {
    const ndjson = `${events.map(archiveLine).join('\n')}\n`;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucketName,
        Key: key,
        Body: await gzipAsync(ndjson),
        ContentType: 'application/gzip',
      }),
    );
  }
}
