import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { eventHandler } from '../commons/handlers.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { traceClient } from '../commons/tracing.ts';
import { makeTokenAuthorizer } from './make-handler.ts';

const { documents, tableName } = ledgerTableFromEnvironment(traceClient);

export const handler = eventHandler(
  makeTokenAuthorizer({ tokens: new DynamoDbAccessStore(documents, tableName) }),
);
