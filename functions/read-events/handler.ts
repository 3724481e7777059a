import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { hotIndexDaysFrom } from '#lib/storage/ledger-table.ts';
import { archivedEventsFromEnvironment } from '../commons/archived-events.ts';
import { workflowRouteFromEnvironment } from '../commons/dependencies.ts';
import { httpHandler } from '../commons/handlers.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeReadEventsHandler } from './make-handler.ts';

const table = ledgerTableFromEnvironment();

export const handler = httpHandler(
  makeReadEventsHandler({
    ...workflowRouteFromEnvironment(table),
    index: new DynamoDbEventIndex(table.documents, table.tableName),
    archive: archivedEventsFromEnvironment(),
    hotIndexDays: hotIndexDaysFrom(process.env[FUNCTION_ENV.hotIndexDays]),
  }),
);
