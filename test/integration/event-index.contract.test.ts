import { inject } from 'vitest';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { contractTable } from '../support/contract-table.ts';
import { describeEventIndexContract } from '../support/contracts/event-index.contract.ts';

const { documents, tableName } = contractTable(inject('localStack').dynamodb);

// Pages of 7 items, so every full read here crosses pages of the index.
describeEventIndexContract(
  'DynamoDbEventIndex on DynamoDB Local',
  () => new DynamoDbEventIndex(documents, tableName, { fullReadPageSize: 7 }),
);
