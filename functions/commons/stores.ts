import type { Documents } from '#lib/adapters/documents.ts';
import { S3EventArchive } from '#lib/adapters/s3-event-archive.ts';
import { fetchDocuments } from '#lib/aws/dynamodb-documents.ts';
import { fetchObjects } from '#lib/aws/s3-objects.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { requiredEnv } from './environment.ts';

/**
 * Where a function's data is, from the environment the CDK (or the local stack) sets. Called once per cold
 * start, at module level. The table and the archive are reached through the lean clients on `fetch`
 * (`lib/aws/`), whose calls the Powertools tracer traces as it traces any `fetch`; the stores still on an
 * SDK client (the reports, `report-store.ts`) take it wrapped by `traceClient` (`tracing.ts`).
 */

/** Wraps an AWS SDK client, e.g. so that its calls become X-Ray subsegments. */
export type TraceClient = <T>(client: T) => T;

/** The ledger table, and one `Documents` for every store in it. */
export interface LedgerTable {
  readonly documents: Documents;
  readonly tableName: string;
}

/** The ledger table (LEDGER_TABLE_NAME). */
export function ledgerTableFromEnvironment(): LedgerTable {
  return {
    documents: fetchDocuments(),
    tableName: requiredEnv(FUNCTION_ENV.ledgerTableName),
  };
}

/** The raw event archive (ARCHIVE_BUCKET_NAME). */
export function archiveFromEnvironment(): S3EventArchive {
  return new S3EventArchive(fetchObjects(), requiredEnv(FUNCTION_ENV.archiveBucketName));
}
