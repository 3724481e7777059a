import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { httpHandler } from '../commons/handlers.ts';
import { flagReaderFromEnvironment } from '../commons/kill-switch.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeAutonomyHandler } from './make-handler.ts';

const { documents, tableName } = ledgerTableFromEnvironment();

export const handler = httpHandler(
  makeAutonomyHandler({
    // Lives as long as the container, so the flags it caches are at most FLAG_POLL_SECONDS old.
    flags: flagReaderFromEnvironment(),
    grants: new DynamoDbAccessStore(documents, tableName),
    index: new DynamoDbEventIndex(documents, tableName),
    registry: registryFromEnvironment(),
    clock: () => new Date(),
  }),
);
