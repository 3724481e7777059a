import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbReviewQueue } from '#lib/adapters/dynamodb-review-queue.ts';
import { ingestFromEnvironment } from '../commons/dependencies.ts';
import { httpHandler } from '../commons/handlers.ts';
import { INGEST_METRICS } from '../commons/ingest-metrics.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeTracesHandler, presentOtlpError } from './make-handler.ts';

const table = ledgerTableFromEnvironment();

export const handler = httpHandler(
  makeTracesHandler({
    ...(await ingestFromEnvironment(table)),
    grants: new DynamoDbAccessStore(table.documents, table.tableName),
    reviews: new DynamoDbReviewQueue(table.documents, table.tableName),
  }),
  {
    errorMetrics: { rejected: INGEST_METRICS.rejected, failed: INGEST_METRICS.failed },
    presentError: presentOtlpError,
  },
);
