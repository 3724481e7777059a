import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbReviewQueue } from '#lib/adapters/dynamodb-review-queue.ts';
import { ingestFromEnvironment } from '../commons/dependencies.ts';
import { INGEST_METRICS } from '../commons/ingest-metrics.ts';
import { httpStack } from '../commons/middy-stack.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeIngestHandler } from './make-handler.ts';

/**
 * The hottest function, so the leanest (issue 12, item 5): no Powertools tracer and no X-Ray SDK, and no
 * AWS SDK client either: the table, the archive, AppConfigData and Secrets Manager through the lean
 * clients on `fetch` (`lib/aws/`). Active tracing still gives each invocation its Lambda segment
 * (initialization, invocation, overhead); what it does without are the tracer's `## index.handler`
 * subsegment and one subsegment per DynamoDB and S3 call.
 */
const table = ledgerTableFromEnvironment();

export const handler = httpStack(
  undefined,
  makeIngestHandler({
    ...(await ingestFromEnvironment(table)),
    grants: new DynamoDbAccessStore(table.documents, table.tableName),
    reviews: new DynamoDbReviewQueue(table.documents, table.tableName),
  }),
  { errorMetrics: { rejected: INGEST_METRICS.rejected, failed: INGEST_METRICS.failed } },
);
