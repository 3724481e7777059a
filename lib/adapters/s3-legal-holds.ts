import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import {
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  PutObjectLegalHoldCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { storedEventFromArchiveLine } from '#lib/adapters/s3-event-archive.ts';
import { listObjectKeys } from '#lib/adapters/s3-keys.ts';
import type { ArchivedEventLine, ArchiveHolds } from '#lib/holds/holds.ts';
import { isArchiveEventObject, workflowArchivePrefixes } from '#lib/storage/archive-bucket.ts';
import { mapWithConcurrency } from '#lib/util/concurrency.ts';

const gunzipAsync = promisify(gunzip);

/** Archive objects read at once while looking for a hold's events. */
const READ_CONCURRENCY = 8;

/**
 * The raw archive as legal holds use it: a workflow's event objects read for the lines a hold covers, and
 * S3 Object Lock legal hold put on or taken off single objects (the bucket has Object Lock enabled, with no
 * default retention: only held objects are locked).
 */
export class S3ArchiveHolds implements ArchiveHolds {
  constructor(
    private readonly s3: S3Client,
    private readonly bucketName: string,
  ) {}

  /**
   * Reads every event object of the workflow, in each retention class (a workflow's retention may have
   * changed since an event was archived): the archive is the only place that has every event of a unit
   * for its whole retention. One GET per object, as a replay of the workflow would cost.
   */
  async findLines(
    workflowId: string,
    matches: (line: ArchivedEventLine) => boolean,
  ): Promise<{ lines: ArchivedEventLine[]; objectKeys: ReadonlySet<string> }> {
    const objectKeys = new Set<string>();
    for (const prefix of workflowArchivePrefixes(workflowId)) {
      for await (const key of listObjectKeys(this.s3, { bucket: this.bucketName, prefix }))
        objectKeys.add(key);
    }
    const eventObjects = [...objectKeys].filter(isArchiveEventObject);
    const perObject = await mapWithConcurrency(eventObjects, READ_CONCURRENCY, async (key) => {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }));
      const ndjson = (
        await gunzipAsync(await (object.Body?.transformToByteArray() ?? new Uint8Array()))
      ).toString('utf8');
      return ndjson
        .split('\n')
        .filter((text) => text.trim() !== '')
        .map((text) => archivedEventLine(text, key))
        .filter(matches);
    });
    return { lines: perObject.flat(), objectKeys };
  }

  async setLegalHold(key: string, on: boolean): Promise<void> {
    await this.s3.send(
      new PutObjectLegalHoldCommand({
        Bucket: this.bucketName,
        Key: key,
        LegalHold: { Status: on ? 'ON' : 'OFF' },
      }),
    );
  }

  async legalHold(key: string): Promise<boolean> {
    try {
      const { LegalHold } = await this.s3.send(
        new GetObjectLegalHoldCommand({ Bucket: this.bucketName, Key: key }),
      );
      return LegalHold?.Status === 'ON';
    } catch (error) {
      // S3's answer for an object that never had a legal hold.
      if ((error as { name?: string }).name === 'NoSuchObjectLockConfiguration') return false;
      throw error;
    }
  }
}

function archivedEventLine(text: string, archiveKey: string): ArchivedEventLine {
  const stored = storedEventFromArchiveLine(text, archiveKey);
  return {
    eventId: stored.event.eventId,
    unitId: stored.event.unitId,
    type: stored.event.type,
    receivedAt: stored.receivedAt,
    archiveKey,
    // An archived event's expiresAt is the end of its retention (its object's lifecycle expiry).
    retentionExpiresAt: stored.expiresAt,
  };
}
