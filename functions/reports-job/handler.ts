import { DynamoDbDrillStore } from '#lib/adapters/dynamodb-drill-store.ts';
import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { DynamoDbPostmortemStore } from '#lib/adapters/dynamodb-postmortem-store.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import type { ReportsJobRequest } from '#lib/reports/job.ts';
import { archiveTierFromEnvironment } from '../commons/archived-events.ts';
import { eventHandler } from '../commons/handlers.ts';
import { flagReaderFromEnvironment } from '../commons/kill-switch.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { reportStoreFromEnvironment } from '../commons/report-store.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { traceClient } from '../commons/tracing.ts';
import { makeReportsJob } from './make-handler.ts';

const { documents, tableName } = ledgerTableFromEnvironment();
const kpis = new DynamoDbKpiStore(documents, tableName);
const stage = process.env[FUNCTION_ENV.stage];

export const handler = eventHandler<ReportsJobRequest | null, unknown>(
  makeReportsJob({
    index: new DynamoDbEventIndex(documents, tableName),
    // A page of the quarter's archived part may read weeks of objects: the job can wait (15 min timeout).
    archive: archiveTierFromEnvironment({ queryTimeoutMs: 120_000 }),
    kpis,
    prices: kpis,
    drills: new DynamoDbDrillStore(documents, tableName),
    evals: new DynamoDbEvalStore(documents, tableName),
    postmortems: new DynamoDbPostmortemStore(documents, tableName),
    registry: registryFromEnvironment(),
    flags: flagReaderFromEnvironment(),
    reports: reportStoreFromEnvironment(traceClient),
    clock: () => new Date(),
    ...(stage ? { stage, killSwitchEnvironment: stage } : {}),
  }),
);
