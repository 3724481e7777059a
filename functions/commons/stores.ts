import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { makeDocumentClient, makeDynamoDbClient, makeS3Client } from '#lib/adapters/aws-clients.ts';
import { S3EventArchive } from '#lib/adapters/s3-event-archive.ts';
import { S3ReportStore } from '#lib/adapters/s3-report-store.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { requiredEnv } from './environment.ts';
import { tracer } from './powertools.ts';

/**
 * Where a function's data is, from the environment the CDK (or the local stack) sets, each over a client
 * X-Ray traces. Called once per cold start, at module level.
 */

/** The ledger table, and one document client for every store in it. */
export interface LedgerTable {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** The ledger table (LEDGER_TABLE_NAME). */
export function ledgerTableFromEnvironment(): LedgerTable {
  return {
    documents: makeDocumentClient(tracer.captureAWSv3Client(makeDynamoDbClient())),
    tableName: requiredEnv(FUNCTION_ENV.ledgerTableName),
  };
}

/** The raw event archive (ARCHIVE_BUCKET_NAME). */
export function archiveFromEnvironment(): S3EventArchive {
  return new S3EventArchive(
    tracer.captureAWSv3Client(makeS3Client()),
    requiredEnv(FUNCTION_ENV.archiveBucketName),
  );
}

/** The reports bucket (REPORTS_BUCKET_NAME): finance Parquet and governance reports. */
export function reportStoreFromEnvironment(): S3ReportStore {
  return new S3ReportStore(
    tracer.captureAWSv3Client(makeS3Client()),
    requiredEnv(FUNCTION_ENV.reportsBucketName),
  );
}
