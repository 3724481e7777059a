import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DrillRecord, DrillStore } from '#lib/kill-switch/drills.ts';

/** Drill records in the ledger table: pk `DRILL#<workflowId>`, sk the start time, newest read first. */
export class DynamoDbDrillStore implements DrillStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putDrill(record: DrillRecord): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `DRILL#${record.workflowId}`,
          sk: `${record.startedAt}#${record.drillId}`,
          kind: 'drill',
          ...record,
        },
      }),
    );
  }

  async listDrills(workflowId: string, limit: number): Promise<DrillRecord[]> {
    const { Items } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `DRILL#${workflowId}` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (Items ?? []).map(({ pk: _pk, sk: _sk, kind: _kind, ...record }) => record as DrillRecord);
  }
}
