import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { AppConfigClient } from '@aws-sdk/client-appconfig';
import middy from '@middy/core';
import { loadActorHashKey } from '#lib/adapters/actor-key-source.ts';
import { AppConfigFlagWriter } from '#lib/adapters/appconfig-flags.ts';
import { makeDocumentClient, makeDynamoDbClient, makeS3Client } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { S3EventArchive } from '#lib/adapters/s3-event-archive.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { requiredEnv } from '../commons/environment.ts';
import { killSwitchLocation } from '../commons/kill-switch.ts';
import { logger, tracer } from '../commons/powertools.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { type AppConfigExtensionEvent, makeFlipRecorder } from './make-handler.ts';

const tableName = requiredEnv('LEDGER_TABLE_NAME');
const location = killSwitchLocation();
const documents = makeDocumentClient(tracer.captureAWSv3Client(makeDynamoDbClient()));
const hasher = new ActorHasher(await loadActorHashKey());

// Read from AppConfig per invocation, through a cache shared by the container's invocations.
const registry = registryFromEnvironment();

export const handler = middy<AppConfigExtensionEvent, void>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .handler(
    makeFlipRecorder({
      // Only reads versions and deployments, so no deployment strategy is needed.
      versions: new AppConfigFlagWriter(new AppConfigClient({}), { ...location, strategy: '' }),
      killSwitchProfile: location.profile,
      ingest: {
        index: new DynamoDbEventIndex(documents, tableName),
        archive: new S3EventArchive(
          tracer.captureAWSv3Client(makeS3Client()),
          requiredEnv('ARCHIVE_BUCKET_NAME'),
        ),
        registry,
        hasher,
        clock: () => new Date(),
      },
    }),
  );
