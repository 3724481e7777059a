import { RETENTION_MONTHS, type RetentionMonths } from '#lib/registry/workflows.ts';

/**
 * The raw archive's design, the one source of truth for the CDK lifecycle rules and the object keys.
 *
 * Key: `raw/retention=<12m|18m|24m>/workflow=<id>/dt=<YYYY-MM-DD>/<requestId>.ndjson.gz`, one object per
 * ingest request and workflow. The retention class leads the key so one lifecycle rule per class can
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

export function archiveObjectKey(input: {
  retentionMonths: RetentionMonths;
  workflowId: string;
  receivedAt: Date;
  requestId: string;
}): string {
  const date = input.receivedAt.toISOString().slice(0, 10);
  return `${retentionPrefix(input.retentionMonths)}workflow=${input.workflowId}/dt=${date}/${input.requestId}.ndjson.gz`;
}
