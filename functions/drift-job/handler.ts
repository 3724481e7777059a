import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { makeDocumentClient, makeDynamoDbClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { SnsNotifier } from '#lib/adapters/sns-notifier.ts';
import { runDriftJob } from '#lib/drift/job.ts';
import { requiredEnv } from '../commons/environment.ts';
import { publishDriftMetrics } from '../commons/job-metrics.ts';
import { flagWriterFromEnvironment } from '../commons/kill-switch.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';
import { registryFromEnvironment } from '../commons/registry.ts';

const kpis = new DynamoDbKpiStore(
  makeDocumentClient(tracer.captureAWSv3Client(makeDynamoDbClient())),
  requiredEnv('LEDGER_TABLE_NAME'),
);
const notifier = new SnsNotifier(
  tracer.captureAWSv3Client(new SNSClient({})),
  requiredEnv('DRIFT_TOPIC_ARN'),
);
const flags = flagWriterFromEnvironment();

/**
 * Scheduled after the KPI job; `{"week": "2026-W47"}` judges one week, `{}` the last complete one. Emits
 * DriftPauses per workflow (1 when this run paused its lane), which the dashboard's drift alarm watches.
 */
// Read from AppConfig per invocation, through a cache shared by the container's invocations.
const registry = registryFromEnvironment();

export const handler = middy<{ week?: string }>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .handler(async (request) => {
    const outcomes = await runDriftJob(request?.week, {
      kpis,
      flags,
      notifier,
      registry: await registry.current(),
      clock: () => new Date(),
    });
    publishDriftMetrics(metrics, outcomes);
    logger.info('drift judged', { outcomes });
    return { outcomes };
  });
