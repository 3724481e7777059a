import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { makeDocumentClient, makeDynamoDbClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { requiredEnv } from '../commons/environment.ts';
import { httpErrorBoundary } from '../commons/http.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { makeReadEventsHandler } from './make-handler.ts';

const tableName = requiredEnv('LEDGER_TABLE_NAME');
const documents = makeDocumentClient(tracer.captureAWSv3Client(makeDynamoDbClient()));

// Read from AppConfig per invocation, through a cache shared by the container's invocations.
const registry = registryFromEnvironment();

export const handler = middy()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(httpErrorBoundary())
  .handler(
    makeReadEventsHandler({
      index: new DynamoDbEventIndex(documents, tableName),
      grants: new DynamoDbAccessStore(documents, tableName),
      registry,
      clock: () => new Date(),
    }),
  );
