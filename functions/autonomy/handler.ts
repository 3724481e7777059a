import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { workflowRouteFromEnvironment } from '../commons/dependencies.ts';
import { httpHandler } from '../commons/handlers.ts';
import { flagReaderFromEnvironment } from '../commons/kill-switch.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeAutonomyHandler } from './make-handler.ts';

const table = ledgerTableFromEnvironment();

export const handler = httpHandler(
  makeAutonomyHandler({
    ...workflowRouteFromEnvironment(table),
    // Lives as long as the container, so the flags it caches are at most FLAG_POLL_SECONDS old.
    flags: flagReaderFromEnvironment(),
    index: new DynamoDbEventIndex(table.documents, table.tableName),
  }),
);
