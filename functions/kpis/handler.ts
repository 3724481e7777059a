import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { makeDocumentClient, makeDynamoDbClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { requiredEnv } from '../commons/environment.ts';
import { httpErrorBoundary } from '../commons/http.ts';
import { logger, tracer } from '../commons/powertools.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { makeKpisHandler } from './make-handler.ts';

const tableName = requiredEnv('LEDGER_TABLE_NAME');
const documents = makeDocumentClient(tracer.captureAWSv3Client(makeDynamoDbClient()));

// Read from AppConfig per invocation, through a cache shared by the container's invocations.
const registry = registryFromEnvironment();

export const handler = middy()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(httpErrorBoundary())
  .handler(
    makeKpisHandler({
      kpis: new DynamoDbKpiStore(documents, tableName),
      grants: new DynamoDbAccessStore(documents, tableName),
      registry,
      clock: () => new Date(),
    }),
  );
