import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { DynamoDbReviewQueue } from '#lib/adapters/dynamodb-review-queue.ts';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import { PriceBook } from '#lib/pricing/price-table.ts';
import { ledgerTableDesign, type TableDesign } from '#lib/storage/ledger-table.ts';
import { ensureTable, TableDesignMismatchError } from '#local-stack/provision.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local-stack/settings.ts';
import { contractTable } from '../support/contract-table.ts';
import { describeAccessStoreContract } from '../support/contracts/access-store.contract.ts';
import { describeEvalStoreContract } from '../support/contracts/eval-store.contract.ts';
import { describeEventIndexContract } from '../support/contracts/event-index.contract.ts';
import { describeKpiStoreContract } from '../support/contracts/kpi-store.contract.ts';
import { describeReviewQueueContract } from '../support/contracts/review-queue.contract.ts';

const { documents, tableName } = contractTable(inject('localStack').dynamodb);

// Pages of 7 items, so every full read of the event index here crosses pages.
describeEventIndexContract(
  'DynamoDbEventIndex on DynamoDB Local',
  () => new DynamoDbEventIndex(documents, tableName, { fullReadPageSize: 7 }),
);
describeReviewQueueContract(
  'DynamoDbReviewQueue on DynamoDB Local',
  () => new DynamoDbReviewQueue(documents, tableName),
);
describeEvalStoreContract(
  'DynamoDbEvalStore on DynamoDB Local',
  () => new DynamoDbEvalStore(documents, tableName),
);
describeAccessStoreContract(
  'DynamoDbAccessStore on DynamoDB Local',
  () => new DynamoDbAccessStore(documents, tableName),
);
describeKpiStoreContract(
  'DynamoDbKpiStore on DynamoDB Local',
  () => new DynamoDbKpiStore(documents, tableName),
);

describe('DynamoDbKpiStore: records an older job stored', () => {
  it('reads a record from before boundary checks as "not counted" (null), not as 0', async () => {
    // Prepare: a record as the job stored it before the record had boundaryViolations
    const { boundaryViolations: _, ...old } = new WeeklyKpis(
      'contract-old',
      '2026-W10',
      new PriceBook([]),
    ).finish();
    await documents.put({
      TableName: tableName,
      Item: {
        pk: 'KPI#contract-old',
        sk: '2026-W10',
        kind: 'kpi',
        computedAt: 'x',
        record: JSON.stringify(old),
      },
    });

    // Act
    const record = await new DynamoDbKpiStore(documents, tableName).getRecord('contract-old', '2026-W10');

    // Assess
    expect(record).toEqual({ ...old, boundaryViolations: null });
  });
});

describe('ensureTable: a local table of an older design', () => {
  it('is an error that says to move the data aside, not a table whose index silently misses events', async () => {
    // Prepare: the design before issue 12, where gsi2 sorted by its own attribute and projected everything
    const client = new DynamoDBClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: inject('localStack').dynamodb,
    });
    const olderDesign: TableDesign = {
      ...ledgerTableDesign,
      globalIndexes: ledgerTableDesign.globalIndexes.map((index) =>
        index.indexName === 'gsi2'
          ? { ...index, sortKey: { name: 'gsi2sk', type: 'S' }, projection: { type: 'ALL' } }
          : index,
      ),
    };
    const name = `older-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, olderDesign, name);

    try {
      // Act
      const opening = ensureTable(client, ledgerTableDesign, name);

      // Assess
      await expect(opening).rejects.toThrow(TableDesignMismatchError);
      await expect(ensureTable(client, ledgerTableDesign, name)).rejects.toThrow(
        /made by an older version of the ledger \(index gsi2 has another shape\): move the data directory/,
      );
      // The same design opens as it is.
      await expect(ensureTable(client, olderDesign, name)).resolves.toBeUndefined();
    } finally {
      await client.send(new DeleteTableCommand({ TableName: name }));
    }
  });
});
