import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbReviewQueue } from '#lib/adapters/dynamodb-review-queue.ts';
import { workflowRouteFromEnvironment } from '../commons/dependencies.ts';
import { httpHandler } from '../commons/handlers.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeReviewsHandler } from './make-handler.ts';

const table = ledgerTableFromEnvironment();

export const handler = httpHandler(
  makeReviewsHandler({
    ...workflowRouteFromEnvironment(table),
    reviews: new DynamoDbReviewQueue(table.documents, table.tableName),
    index: new DynamoDbEventIndex(table.documents, table.tableName),
  }),
);
