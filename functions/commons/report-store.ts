import { makeS3Client } from '#lib/adapters/aws-clients.ts';
import { S3ReportStore } from '#lib/adapters/s3-report-store.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { requiredEnv } from './environment.ts';
import type { TraceClient } from './stores.ts';

/**
 * The reports bucket (REPORTS_BUCKET_NAME): finance Parquet and governance reports, written by the jobs
 * through the SDK's S3 client (a module of its own, so that the functions that write no report load no SDK).
 */
export function reportStoreFromEnvironment(traceClient: TraceClient): S3ReportStore {
  return new S3ReportStore(traceClient(makeS3Client()), requiredEnv(FUNCTION_ENV.reportsBucketName));
}
