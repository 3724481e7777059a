import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { makeDynamoDbClient, makeS3Client } from '#lib/adapters/aws-clients.ts';
import { requiredEnv } from '../commons/environment.ts';
import { httpErrorBoundary } from '../commons/http.ts';
import { logger } from '../commons/powertools.ts';
import { makeHealthzHandler } from './make-handler.ts';

const tableName = requiredEnv('LEDGER_TABLE_NAME');
const bucketName = requiredEnv('ARCHIVE_BUCKET_NAME');

export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(httpErrorBoundary())
  .handler(
    makeHealthzHandler({
      dynamodb: makeDynamoDbClient(),
      s3: makeS3Client(),
      tableName,
      bucketName,
    }),
  );
