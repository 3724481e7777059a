import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { makeDocumentClient, makeDynamoDbClient, makeS3Client } from '#lib/adapters/aws-clients.ts';
import { DynamoDbDrillStore } from '#lib/adapters/dynamodb-drill-store.ts';
import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { S3ReportStore } from '#lib/adapters/s3-report-store.ts';
import type { ReportsJobRequest } from '#lib/reports/job.ts';
import { requiredEnv } from '../commons/environment.ts';
import { flagReaderFromEnvironment } from '../commons/kill-switch.ts';
import { logger, tracer } from '../commons/powertools.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { makeReportsJob } from './make-handler.ts';

const tableName = requiredEnv('LEDGER_TABLE_NAME');
const documents = makeDocumentClient(tracer.captureAWSv3Client(makeDynamoDbClient()));
const kpis = new DynamoDbKpiStore(documents, tableName);
const stage = process.env.LEDGER_STAGE;

// Read from AppConfig per invocation, through a cache shared by the container's invocations.
const registry = registryFromEnvironment();

export const handler = middy<ReportsJobRequest>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .handler(
    makeReportsJob({
      index: new DynamoDbEventIndex(documents, tableName),
      kpis,
      prices: kpis,
      drills: new DynamoDbDrillStore(documents, tableName),
      evals: new DynamoDbEvalStore(documents, tableName),
      registry,
      flags: flagReaderFromEnvironment(),
      reports: new S3ReportStore(
        tracer.captureAWSv3Client(makeS3Client()),
        requiredEnv('REPORTS_BUCKET_NAME'),
      ),
      clock: () => new Date(),
      ...(stage ? { stage, killSwitchEnvironment: stage } : {}),
    }),
  );
