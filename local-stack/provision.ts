import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { TableDesign } from '#lib/storage/ledger-table.ts';

/** How an existing table's indexes differ from the design's (keys and projection), as sentences. */
function indexDifferences(
  design: TableDesign,
  tableName: string,
  existing: readonly {
    IndexName?: string;
    KeySchema?: { AttributeName?: string; KeyType?: string }[];
    Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
  }[],
): string[] {
  const wanted = createTableInput(design, tableName).GlobalSecondaryIndexes ?? [];
  const shape = (index: (typeof existing)[number]) =>
    JSON.stringify({
      keys: (index.KeySchema ?? []).map((key) => `${key.KeyType}:${key.AttributeName}`),
      projection: index.Projection?.ProjectionType,
      include: [...(index.Projection?.NonKeyAttributes ?? [])].sort(),
    });
  const differences: string[] = [];
  for (const index of wanted) {
    const found = existing.find((candidate) => candidate.IndexName === index.IndexName);
    if (!found) differences.push(`no index ${index.IndexName}`);
    else if (shape(found) !== shape(index)) differences.push(`index ${index.IndexName} has another shape`);
  }
  return differences;
}

/** CreateTable input from the table design the CDK stack also builds from. */
export function createTableInput(design: TableDesign, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, string>();
  for (const key of [design.partitionKey, design.sortKey]) attributes.set(key.name, key.type);
  for (const index of design.globalIndexes) {
    attributes.set(index.partitionKey.name, index.partitionKey.type);
    attributes.set(index.sortKey.name, index.sortKey.type);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType: AttributeType as 'S' | 'N' | 'B',
    })),
    KeySchema: [
      { AttributeName: design.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: design.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: design.globalIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection:
        index.projection.type === 'INCLUDE'
          ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection.attributes] }
          : { ProjectionType: index.projection.type },
    })),
  };
}

/** A local table made to an older design than this checkout's (its indexes differ): the data must move aside. */
export class TableDesignMismatchError extends Error {
  override name = 'TableDesignMismatchError';
}

/**
 * Creates the table (and its TTL) when it is not there yet. An existing table is left as it is if its
 * indexes are the design's; one made by an older version is an error that says what to do, since reads
 * through an index of another shape would silently miss events.
 */
export async function ensureTable(
  client: DynamoDBClient,
  design: TableDesign,
  tableName: string,
): Promise<void> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const differences = indexDifferences(design, tableName, Table?.GlobalSecondaryIndexes ?? []);
    if (differences.length > 0) {
      throw new TableDesignMismatchError(
        `the local table '${tableName}' was made by an older version of the ledger (${differences.join('; ')}): move the data directory (.local, or LEDGER_DATA_DIR) aside and start again`,
      );
    }
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(createTableInput(design, tableName)));
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: design.timeToLiveAttribute, Enabled: true },
    }),
  );
}
