import type { Documents } from '#lib/adapters/documents.ts';
import { queryItems } from '#lib/adapters/dynamodb-pages.ts';
import type { KpiStore } from '#lib/kpi/job.ts';
import { type KpiRecord, kpiRecordSchema } from '#lib/kpi/record.ts';
import { type PriceStore, type PriceTable, priceTableSchema } from '#lib/pricing/price-table.ts';

/**
 * KPI records (pk `KPI#<workflowId>`, sk the week) and price tables (pk `PRICES`, sk `effectiveFrom`) in
 * the ledger table. Records are kept as JSON so they come back exactly as computed, and read through
 * their schema, so a record computed by an older job reads as what it knows (see `kpiRecordSchema`).
 */
export class DynamoDbKpiStore implements KpiStore, PriceStore {
  constructor(
    private readonly documents: Documents,
    private readonly tableName: string,
  ) {}

  async putRecord(record: KpiRecord, computedAt: string): Promise<void> {
    await this.documents.put({
      TableName: this.tableName,
      Item: {
        pk: `KPI#${record.workflowId}`,
        sk: record.week,
        kind: 'kpi',
        computedAt,
        record: JSON.stringify(record),
      },
    });
  }

  async getRecord(workflowId: string, week: string): Promise<KpiRecord | undefined> {
    const { Item } = await this.documents.get({
      TableName: this.tableName,
      Key: { pk: `KPI#${workflowId}`, sk: week },
      ConsistentRead: true,
    });
    return Item ? kpiRecordSchema.parse(JSON.parse(String(Item.record))) : undefined;
  }

  /** Every week's record of a workflow, oldest week first (the rollout gates count the baseline weeks). */
  async listRecords(workflowId: string): Promise<KpiRecord[]> {
    const records: KpiRecord[] = [];
    const items = queryItems(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `KPI#${workflowId}` },
      ConsistentRead: true,
    });
    for await (const item of items) records.push(kpiRecordSchema.parse(JSON.parse(String(item.record))));
    return records;
  }

  async putTable(table: PriceTable): Promise<void> {
    await this.documents.put({
      TableName: this.tableName,
      Item: { pk: 'PRICES', sk: table.effectiveFrom, kind: 'prices', table: JSON.stringify(table) },
    });
  }

  async listTables(): Promise<PriceTable[]> {
    const tables: PriceTable[] = [];
    const items = queryItems(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'PRICES' },
      ConsistentRead: true,
    });
    for await (const item of items) tables.push(priceTableSchema.parse(JSON.parse(String(item.table))));
    return tables;
  }
}
