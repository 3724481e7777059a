import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { eventHandler } from '../commons/handlers.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeTokenAuthorizer } from './make-handler.ts';

const { documents, tableName } = ledgerTableFromEnvironment();

export const handler = eventHandler(
  makeTokenAuthorizer({ tokens: new DynamoDbAccessStore(documents, tableName) }),
);
