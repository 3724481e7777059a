import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ObjectStore } from '#lib/adapters/objects.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import type {
  ArchiveLineOutcome,
  EventArchive,
  RecordedBoundaryViolation,
  RecordedRolloutPhaseViolation,
  StoredEvent,
} from '#lib/ports.ts';
import type { RetentionMonths } from '#lib/registry/workflows.ts';
import { archiveOutcomeKey, expirationDaysFor } from '#lib/storage/archive-bucket.ts';

const gzipAsync = promisify(gzip);

/**
 * One line of an archive object: the pseudonymized event as accepted, plus when the ledger received it, its
 * content hash (canonical JSON of the event, without the ledger's fields) and the marks ingest gave it
 * (kill-switch, boundary, rollout-phase, unlisted tools), so every line says what it is and the archive
 * alone can answer a read as the index does: the line is the read API's item plus `contentHash`.
 */
export function archiveLine(stored: StoredEvent): string {
  return JSON.stringify({
    ...stored.event,
    receivedAt: stored.receivedAt,
    contentHash: stored.contentHash,
    ...(stored.killSwitchViolation ? { killSwitchViolation: true } : {}),
    ...(stored.boundaryViolations?.length ? { boundaryViolations: stored.boundaryViolations } : {}),
    ...(stored.rolloutPhaseViolation ? { rolloutPhaseViolation: stored.rolloutPhaseViolation } : {}),
    ...(stored.unlistedTools?.length ? { unlistedTools: stored.unlistedTools } : {}),
  });
}

/** The ledger's own fields on an archive line, beside the event's. */
const LEDGER_LINE_FIELDS = [
  'receivedAt',
  'contentHash',
  'killSwitchViolation',
  'boundaryViolations',
  'rolloutPhaseViolation',
  'unlistedTools',
] as const;

/**
 * An archive line read back as the event the ledger stored, from the object at `archiveKey`. Its
 * `expiresAt` is the end of its retention (the object's lifecycle expiry), counted from `receivedAt`.
 */
export function storedEventFromArchiveLine(line: string, archiveKey: string): StoredEvent {
  const fields = JSON.parse(line) as Record<string, unknown>;
  const event = { ...fields };
  for (const name of LEDGER_LINE_FIELDS) delete event[name];
  const ledgerEvent = event as unknown as LedgerEvent;
  const receivedAt = String(fields.receivedAt);
  const retention = /(?:^|\/)retention=(\d+)m\//.exec(archiveKey)?.[1];
  const retentionDays = retention ? expirationDaysFor(Number(retention) as RetentionMonths) : 0;
  return {
    event: ledgerEvent,
    occurredAtMs: parseRfc3339(ledgerEvent.occurredAt) ?? Date.parse(receivedAt),
    receivedAt,
    contentHash: String(fields.contentHash),
    expiresAt: Math.floor(Date.parse(receivedAt) / 1000) + retentionDays * 86_400,
    archiveKey,
    ...(fields.killSwitchViolation === true ? { killSwitchViolation: true as const } : {}),
    ...(Array.isArray(fields.boundaryViolations)
      ? { boundaryViolations: fields.boundaryViolations as RecordedBoundaryViolation[] }
      : {}),
    ...(fields.rolloutPhaseViolation
      ? { rolloutPhaseViolation: fields.rolloutPhaseViolation as RecordedRolloutPhaseViolation }
      : {}),
    ...(Array.isArray(fields.unlistedTools) ? { unlistedTools: fields.unlistedTools as string[] } : {}),
  };
}

/** The raw archive: one gzip-compressed NDJSON object per ingest request and workflow. */
export class S3EventArchive implements EventArchive {
  constructor(
    private readonly objects: ObjectStore,
    private readonly bucketName: string,
  ) {}

  async putBatch(key: string, events: readonly StoredEvent[]): Promise<void> {
    const ndjson = `${events.map(archiveLine).join('\n')}\n`;
    await this.objects.put({
      bucket: this.bucketName,
      key,
      body: await gzipAsync(ndjson),
      contentType: 'application/gzip',
    });
  }

  async putRawSpans(key: string, request: object): Promise<void> {
    await this.objects.put({
      bucket: this.bucketName,
      key,
      body: await gzipAsync(JSON.stringify(request)),
      contentType: 'application/gzip',
    });
  }

  async putOutcome(key: string, lines: readonly ArchiveLineOutcome[]): Promise<void> {
    await this.objects.put({
      bucket: this.bucketName,
      key: archiveOutcomeKey(key),
      body: JSON.stringify({ archiveKey: key, lines }),
      contentType: 'application/json',
    });
  }
}
