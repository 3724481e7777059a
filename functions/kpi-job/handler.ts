import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { makeDocumentClient, makeDynamoDbClient, makeS3Client } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { S3ReportStore } from '#lib/adapters/s3-report-store.ts';
import type { KpiJobRequest } from '#lib/kpi/job.ts';
import { requiredEnv } from '../commons/environment.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { makeKpiJob } from './make-handler.ts';

const tableName = requiredEnv('LEDGER_TABLE_NAME');
const documents = makeDocumentClient(tracer.captureAWSv3Client(makeDynamoDbClient()));
const store = new DynamoDbKpiStore(documents, tableName);

// Read from AppConfig per invocation, through a cache shared by the container's invocations.
const registry = registryFromEnvironment();

export const handler = middy<KpiJobRequest>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .handler(
    makeKpiJob({
      index: new DynamoDbEventIndex(documents, tableName),
      prices: store,
      kpis: store,
      reports: new S3ReportStore(
        tracer.captureAWSv3Client(makeS3Client()),
        requiredEnv('REPORTS_BUCKET_NAME'),
      ),
      registry,
      clock: () => new Date(),
      metrics,
    }),
  );
