import type { Documents } from '#lib/adapters/documents.ts';
import type { DrillRecord, DrillStore } from '#lib/kill-switch/drills.ts';

/** Drill records in the ledger table: pk `DRILL#<workflowId>`, sk the start time, newest read first. */
export class DynamoDbDrillStore implements DrillStore {
  constructor(
    private readonly documents: Documents,
    private readonly tableName: string,
  ) {}

  async putDrill(record: DrillRecord): Promise<void> {
    await this.documents.put({
      TableName: this.tableName,
      Item: {
        pk: `DRILL#${record.workflowId}`,
        sk: `${record.startedAt}#${record.drillId}`,
        kind: 'drill',
        ...record,
      },
    });
  }

  async listDrills(workflowId: string, limit: number): Promise<DrillRecord[]> {
    const { Items } = await this.documents.query({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `DRILL#${workflowId}` },
      ScanIndexForward: false,
      Limit: limit,
    });
    return (Items ?? []).map(({ pk: _pk, sk: _sk, kind: _kind, ...record }) => record as DrillRecord);
  }
}
