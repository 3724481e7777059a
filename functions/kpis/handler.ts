import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { workflowRouteFromEnvironment } from '../commons/dependencies.ts';
import { httpHandler } from '../commons/handlers.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeKpisHandler } from './make-handler.ts';

const table = ledgerTableFromEnvironment();

export const handler = httpHandler(
  makeKpisHandler({
    ...workflowRouteFromEnvironment(table),
    kpis: new DynamoDbKpiStore(table.documents, table.tableName),
  }),
);
