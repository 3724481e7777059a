import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import type { Documents } from '#lib/adapters/documents.ts';
import { ledgerTableDesign } from '#lib/storage/ledger-table.ts';
import { ensureTable } from '#local-stack/provision.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local-stack/settings.ts';

/**
 * A ledger table of its own on the local stack's DynamoDB Local, for the contract suites: created from
 * the same design as the real one before the file's tests, deleted after them, so what the suites write
 * never shows in the counts other integration tests take of the shared table.
 */
export function contractTable(dynamodbEndpoint: string): {
  documents: Documents;
  tableName: string;
} {
  const client = new DynamoDBClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: dynamodbEndpoint,
  });
  const tableName = `contract-${randomUUID().slice(0, 8)}`;
  beforeAll(() => ensureTable(client, ledgerTableDesign, tableName));
  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  });
  return { documents: makeDocumentClient(client), tableName };
}
