import type { ArchiveLineOutcome } from '#lib/ports.ts';
import { RETENTION_MONTHS, type RetentionMonths } from '#lib/registry/workflows.ts';

/**
 * The raw archive's design, the one source of truth for the CDK lifecycle rules and the object keys.
 *
 * Key: `raw/retention=<12m|18m|24m>/workflow=<id>/dt=<YYYY-MM-DD>/<requestId>.ndjson.gz`, one object per
 * ingest request and workflow, a line per event: the pseudonymized event as accepted, with `receivedAt` and
 * its `contentHash` (the hash that tells duplicate from conflict). Beside it, `_outcome-<requestId>.json`
 * when some of its lines did not become the index's version (`archiveOutcomeKey`). The retention class leads the key so one lifecycle rule per class can
 * match it by prefix; workflow and date follow as Hive-style partitions for Athena.
 */

export const ARCHIVE_PREFIX = 'raw/';

/** Days after creation at which archive objects move to cheaper storage, then expire. */
export const ARCHIVE_TRANSITIONS = { infrequentAccessDays: 30, glacierInstantRetrievalDays: 90 } as const;

/** Noncurrent versions (overwritten or deleted objects) are kept this long for recovery, then expire. */
export const NONCURRENT_VERSION_EXPIRY_DAYS = 30;

export interface RetentionClass {
  readonly months: RetentionMonths;
  readonly prefix: string;
  readonly expirationDays: number;
}

/** Months are counted as 30.4375-day months rounded up, so "12 months" always means at least a year. */
export function expirationDaysFor(months: RetentionMonths): number {
  return Math.ceil(months * 30.4375);
}

export function retentionPrefix(months: RetentionMonths): string {
  return `${ARCHIVE_PREFIX}retention=${months}m/`;
}

export const RETENTION_CLASSES: readonly RetentionClass[] = RETENTION_MONTHS.map((months) => ({
  months,
  prefix: retentionPrefix(months),
  expirationDays: expirationDaysFor(months),
}));

/**
 * Where the outcome of an archive object's lines is recorded: beside it, named with a leading underscore so
 * that Athena, Hive and DuckDB globs over `*.ndjson.gz` never read it as data, under the same lifecycle.
 */
export function archiveOutcomeKey(archiveKey: string): string {
  const slash = archiveKey.lastIndexOf('/');
  const name = archiveKey.slice(slash + 1).replace(/\.ndjson\.gz$/, '');
  return `${archiveKey.slice(0, slash + 1)}_outcome-${name}.json`;
}

/**
 * The dedupe rule, from the archive alone: which archived line of an event is the version the index holds.
 * A line is confirmed unless its object's outcome lists it; every confirmed line of an event has the same
 * content hash (the first one indexed), and that line is the one. With no confirmed line (its request
 * failed, and was never sent again), an `unconfirmed` line stands in when there is only one such content.
 * Undecided (undefined) only after two failed requests for one event with different contents.
 */
export function indexedVersionFromArchive<Line extends { eventId: string; contentHash: string }>(
  lines: readonly { line: Line; outcome: ArchiveLineOutcome | undefined }[],
): Line | undefined {
  const confirmed = lines.filter(({ outcome }) => outcome === undefined);
  if (confirmed.length > 0) return confirmed[0]?.line;
  const unconfirmed = lines.filter(({ outcome }) => outcome?.status === 'unconfirmed');
  const contents = new Set(unconfirmed.map(({ line }) => line.contentHash));
  return contents.size === 1 ? unconfirmed[0]?.line : undefined;
}

/**
 * Where the raw spans of one `/v1/traces` request and workflow are kept: beside the event objects of that
 * workflow and day, as one OTLP/JSON `ExportTraceServiceRequest` (gzip), with personal attributes hashed.
 * The conventions the spans follow are still "development" and renamed often: with the spans kept, events
 * can be derived again. The leading underscore keeps the event globs from reading it, and the retention
 * prefix gives it the same lifecycle as the events it produced.
 */
export function rawSpansObjectKey(input: {
  retentionMonths: RetentionMonths;
  workflowId: string;
  receivedAt: Date;
  requestId: string;
}): string {
  const eventsKey = archiveObjectKey(input);
  const slash = eventsKey.lastIndexOf('/');
  return `${eventsKey.slice(0, slash + 1)}_spans-${input.requestId}.otlp.json.gz`;
}

/**
 * Whether a key under `raw/` is an object of event lines (`<requestId>.ndjson.gz`), not the outcome record or
 * the raw spans beside it (their names start with `_`, which Athena also skips).
 */
export function isArchiveEventObject(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return name.endsWith('.ndjson.gz') && !name.startsWith('_');
}

/** Where a workflow's objects are, in every retention class (its retention may have changed since). */
export function workflowArchivePrefixes(workflowId: string): string[] {
  return RETENTION_CLASSES.map((retention) => `${retention.prefix}workflow=${workflowId}/`);
}

export function archiveObjectKey(input: {
  retentionMonths: RetentionMonths;
  workflowId: string;
  receivedAt: Date;
  requestId: string;
}): string {
  const date = input.receivedAt.toISOString().slice(0, 10);
  return `${retentionPrefix(input.retentionMonths)}workflow=${input.workflowId}/dt=${date}/${input.requestId}.ndjson.gz`;
}
