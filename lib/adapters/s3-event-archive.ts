import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArchiveLineOutcome, EventArchive, StoredEvent } from '#lib/ports.ts';
import { archiveOutcomeKey } from '#lib/storage/archive-bucket.ts';

const gzipAsync = promisify(gzip);

/**
 * One line of an archive object: the pseudonymized event as accepted, plus when the ledger received it and
 * its content hash (canonical JSON of the event, without these two), so every line says what it is.
 */
export function archiveLine(stored: StoredEvent): string {
  return JSON.stringify({ ...stored.event, receivedAt: stored.receivedAt, contentHash: stored.contentHash });
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

  async putRawSpans(key: string, request: object): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucketName,
        Key: key,
        Body: await gzipAsync(JSON.stringify(request)),
        ContentType: 'application/gzip',
      }),
    );
  }

  async putOutcome(key: string, lines: readonly ArchiveLineOutcome[]): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucketName,
        Key: archiveOutcomeKey(key),
        Body: JSON.stringify({ archiveKey: key, lines }),
        ContentType: 'application/json',
      }),
    );
  }
}
