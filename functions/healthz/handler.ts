import { makeDynamoDbClient, makeS3Client } from '#lib/adapters/aws-clients.ts';
import { dynamoDbTableProbe, s3BucketProbe } from '#lib/adapters/aws-health-probes.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { requiredEnv } from '../commons/environment.ts';
import { httpHandler } from '../commons/handlers.ts';
import { traceClient } from '../commons/tracing.ts';
import { makeHealthzHandler } from './make-handler.ts';

export const handler = httpHandler(
  makeHealthzHandler({
    table: dynamoDbTableProbe(traceClient(makeDynamoDbClient()), requiredEnv(FUNCTION_ENV.ledgerTableName)),
    archive: s3BucketProbe(traceClient(makeS3Client()), requiredEnv(FUNCTION_ENV.archiveBucketName)),
  }),
);
