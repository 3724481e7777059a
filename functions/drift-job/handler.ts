import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { SnsNotifier } from '#lib/adapters/sns-notifier.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { requiredEnv } from '../commons/environment.ts';
import { eventHandler } from '../commons/handlers.ts';
import { flagWriterFromEnvironment } from '../commons/kill-switch.ts';
import { metrics } from '../commons/powertools.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { traceClient } from '../commons/tracing.ts';
import { makeDriftJob } from './make-handler.ts';

const { documents, tableName } = ledgerTableFromEnvironment();

export const handler = eventHandler<{ week?: string } | null, unknown>(
  makeDriftJob({
    kpis: new DynamoDbKpiStore(documents, tableName),
    flags: flagWriterFromEnvironment(),
    notifier: new SnsNotifier(traceClient(new SNSClient({})), requiredEnv(FUNCTION_ENV.driftTopicArn)),
    registry: registryFromEnvironment(),
    clock: () => new Date(),
    metrics,
  }),
);
