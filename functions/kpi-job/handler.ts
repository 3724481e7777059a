import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { fetchAsyncInvoker } from '#lib/aws/lambda-invoke.ts';
import type { KpiJobRequest } from '#lib/kpi/job.ts';
import { archiveTierFromEnvironment } from '../commons/archived-events.ts';
import { eventHandler } from '../commons/handlers.ts';
import { metrics } from '../commons/powertools.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { reportStoreFromEnvironment } from '../commons/report-store.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { traceClient } from '../commons/tracing.ts';
import { makeKpiJob } from './make-handler.ts';

const { documents, tableName } = ledgerTableFromEnvironment();
const store = new DynamoDbKpiStore(documents, tableName);
// A run of several parts hands each to an asynchronous invocation of this same function (Lambda sets the name).
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
const invokeSelf = functionName ? fetchAsyncInvoker(functionName) : undefined;

export const handler = eventHandler<KpiJobRequest | null, unknown>(
  makeKpiJob({
    index: new DynamoDbEventIndex(documents, tableName),
    // A unit started before the hot window, or a week recomputed after it: what the index let go of.
    archive: archiveTierFromEnvironment({ queryTimeoutMs: 120_000 }),
    prices: store,
    kpis: store,
    reports: reportStoreFromEnvironment(traceClient),
    registry: registryFromEnvironment(),
    clock: () => new Date(),
    evals: new DynamoDbEvalStore(documents, tableName),
    metrics,
    ...(invokeSelf ? { fanOut: invokeSelf } : {}),
  }),
);
