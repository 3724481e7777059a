import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { loadActorHashKey } from '#lib/adapters/actor-key-source.ts';
import { makeDocumentClient, makeDynamoDbClient, makeS3Client } from '#lib/adapters/aws-clients.ts';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbReviewQueue } from '#lib/adapters/dynamodb-review-queue.ts';
import { S3EventArchive } from '#lib/adapters/s3-event-archive.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { requiredEnv } from '../commons/environment.ts';
import { httpErrorBoundary } from '../commons/http.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { makeIngestHandler } from './make-handler.ts';

// Wired once per cold start: configuration, clients and the HMAC key.
const tableName = requiredEnv('LEDGER_TABLE_NAME');
const bucketName = requiredEnv('ARCHIVE_BUCKET_NAME');
const documents = makeDocumentClient(tracer.captureAWSv3Client(makeDynamoDbClient()));
const s3 = tracer.captureAWSv3Client(makeS3Client());
const hasher = new ActorHasher(await loadActorHashKey());

// Read from AppConfig per invocation, through a cache shared by the container's invocations.
const registry = registryFromEnvironment();

export const handler = middy()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(httpErrorBoundary())
  .handler(
    makeIngestHandler({
      index: new DynamoDbEventIndex(documents, tableName),
      archive: new S3EventArchive(s3, bucketName),
      grants: new DynamoDbAccessStore(documents, tableName),
      registry,
      hasher,
      clock: () => new Date(),
      reviews: new DynamoDbReviewQueue(documents, tableName),
    }),
  );
