import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbReviewQueue } from '#lib/adapters/dynamodb-review-queue.ts';
import { httpHandler } from '../commons/handlers.ts';
import { registryFromEnvironment } from '../commons/registry.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeReviewsHandler } from './make-handler.ts';

const { documents, tableName } = ledgerTableFromEnvironment();

export const handler = httpHandler(
  makeReviewsHandler({
    reviews: new DynamoDbReviewQueue(documents, tableName),
    index: new DynamoDbEventIndex(documents, tableName),
    grants: new DynamoDbAccessStore(documents, tableName),
    registry: registryFromEnvironment(),
    clock: () => new Date(),
  }),
);
