import type { Documents } from '#lib/adapters/documents.ts';
import { scanItems } from '#lib/adapters/dynamodb-pages.ts';
import type { AccessGrant, GrantStore, TokenRecord, TokenStore } from '#lib/auth/tokens.ts';

/** Token and IAM-grant items in the ledger table (see `lib/storage/ledger-table.ts`). */
export class DynamoDbAccessStore implements TokenStore, GrantStore {
  constructor(
    private readonly documents: Documents,
    private readonly tableName: string,
  ) {}

  async putToken(record: TokenRecord): Promise<void> {
    await this.documents.put({
      TableName: this.tableName,
      Item: { pk: `TOKEN#${record.tokenId}`, sk: 'TOKEN', kind: 'token', ...record },
    });
  }

  async getToken(tokenId: string): Promise<TokenRecord | undefined> {
    const { Item } = await this.documents.get({
      TableName: this.tableName,
      Key: { pk: `TOKEN#${tokenId}`, sk: 'TOKEN' },
      ConsistentRead: true,
    });
    return Item ? toTokenRecord(Item) : undefined;
  }

  async deleteToken(tokenId: string): Promise<boolean> {
    const { Attributes } = await this.documents.delete({
      TableName: this.tableName,
      Key: { pk: `TOKEN#${tokenId}`, sk: 'TOKEN' },
      ReturnValues: 'ALL_OLD',
    });
    return Attributes !== undefined;
  }

  /** Tokens are few (one per agent service), so a filtered scan is the simple, honest choice here. */
  async listTokens(): Promise<TokenRecord[]> {
    const records: TokenRecord[] = [];
    const items = scanItems(this.documents, {
      TableName: this.tableName,
      FilterExpression: 'kind = :kind',
      ExpressionAttributeValues: { ':kind': 'token' },
    });
    for await (const item of items) records.push(toTokenRecord(item));
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async putGrant(grant: AccessGrant): Promise<void> {
    await this.documents.put({
      TableName: this.tableName,
      Item: { pk: `PRINCIPAL#${grant.principal}`, sk: 'GRANT', kind: 'grant', ...grant },
    });
  }

  async getGrant(principal: string): Promise<AccessGrant | undefined> {
    const { Item } = await this.documents.get({
      TableName: this.tableName,
      Key: { pk: `PRINCIPAL#${principal}`, sk: 'GRANT' },
    });
    return Item
      ? {
          principal: String(Item.principal),
          workflows: String(Item.workflows),
          createdAt: String(Item.createdAt),
        }
      : undefined;
  }

  async deleteGrant(principal: string): Promise<boolean> {
    const { Attributes } = await this.documents.delete({
      TableName: this.tableName,
      Key: { pk: `PRINCIPAL#${principal}`, sk: 'GRANT' },
      ReturnValues: 'ALL_OLD',
    });
    return Attributes !== undefined;
  }
}

function toTokenRecord(item: Record<string, unknown>): TokenRecord {
  return {
    tokenId: String(item.tokenId),
    tokenHash: String(item.tokenHash),
    workflows: String(item.workflows),
    ...(item.roles ? { roles: String(item.roles) } : {}),
    ...(item.label ? { label: String(item.label) } : {}),
    createdAt: String(item.createdAt),
  };
}
