import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { httpHandler } from '../commons/handlers.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeKpisHandler } from './make-handler.ts';

const { documents, tableName } = ledgerTableFromEnvironment();

export const handler = httpHandler(
  makeKpisHandler({
    kpis: new DynamoDbKpiStore(documents, tableName),
    grants: new DynamoDbAccessStore(documents, tableName),
    registry: registryFromEnvironment(),
    clock: () => new Date(),
  }),
);
