import { type Documents, isConditionalCheckFailed } from '#lib/adapters/documents.ts';
import { eventItemKey } from '#lib/adapters/dynamodb-event-index.ts';
import { queryItems, sendUntilProcessed } from '#lib/adapters/dynamodb-pages.ts';
import type {
  HeldEvent,
  Hold,
  HoldMembers,
  HoldStore,
  HoldTarget,
  IndexRetention,
} from '#lib/holds/holds.ts';
import type { EventKey } from '#lib/ports.ts';
import { HOLDS_PARTITION, holdMembersPartitionKey, ledgerTableDesign } from '#lib/storage/ledger-table.ts';
import { collect } from '#lib/util/async-iterables.ts';
import { chunk } from '#lib/util/concurrency.ts';

const TTL = ledgerTableDesign.timeToLiveAttribute;

/** Legal holds in the ledger table (items documented in lib/storage/ledger-table.ts). */
export class DynamoDbHoldStore implements HoldStore {
  constructor(
    private readonly documents: Documents,
    private readonly tableName: string,
  ) {}

  async get(target: HoldTarget): Promise<Hold | undefined> {
    const { Item } = await this.documents.get({
      TableName: this.tableName,
      Key: { pk: HOLDS_PARTITION, sk: holdSortKey(target) },
      ConsistentRead: true,
    });
    return Item ? holdOf(Item) : undefined;
  }

  async put(hold: Hold): Promise<void> {
    await this.documents.put({
      TableName: this.tableName,
      Item: { pk: HOLDS_PARTITION, sk: holdSortKey(hold), kind: 'hold', hold: JSON.stringify(hold) },
    });
  }

  async list(): Promise<Hold[]> {
    const items = await collect(
      queryItems(this.documents, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': HOLDS_PARTITION },
        ConsistentRead: true,
      }),
    );
    return items.map(holdOf);
  }

  async members(target: HoldTarget): Promise<HoldMembers> {
    const items = await collect(
      queryItems(this.documents, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': holdMembersPartitionKey(target) },
        ConsistentRead: true,
      }),
    );
    const events: HeldEvent[] = [];
    const objects: string[] = [];
    for (const item of items) {
      const sk = String(item.sk);
      if (sk.startsWith('EVT#'))
        events.push({
          eventId: sk.slice('EVT#'.length),
          expiresAt: Number(item.unheldExpiresAt),
          indexed: item.indexed === true,
        });
      else if (sk.startsWith('OBJ#')) objects.push(sk.slice('OBJ#'.length));
    }
    return { events, objects };
  }

  async putMembers(target: HoldTarget, members: HoldMembers): Promise<void> {
    const pk = holdMembersPartitionKey(target);
    await this.#batchWrite([
      ...members.events.map((event) => ({
        PutRequest: {
          Item: {
            pk,
            sk: `EVT#${event.eventId}`,
            kind: 'hold-member',
            unheldExpiresAt: event.expiresAt,
            indexed: event.indexed,
          },
        },
      })),
      ...members.objects.map((key) => ({
        PutRequest: { Item: { pk, sk: `OBJ#${key}`, kind: 'hold-member' } },
      })),
    ]);
  }

  async deleteMembers(target: HoldTarget): Promise<void> {
    const pk = holdMembersPartitionKey(target);
    const keys = await collect(
      queryItems(this.documents, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
      }),
    );
    await this.#batchWrite(keys.map((key) => ({ DeleteRequest: { Key: { pk: key.pk, sk: key.sk } } })));
  }

  /** BatchWrite in 25s, sending again what DynamoDB left unprocessed (throttling). */
  async #batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    for (const batch of chunk(requests, 25)) {
      await sendUntilProcessed(batch, async (pending) => {
        const response = await this.documents.batchWrite({ RequestItems: { [this.tableName]: pending } });
        return (response.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
      });
    }
  }
}

/**
 * The index's event items by key (pk `EVT#<workflowId>#<eventId>`, sk `EVT`), touching only their TTL
 * attribute: whatever else an event item holds is the event index's (lib/adapters/dynamodb-event-index.ts).
 */
export class DynamoDbIndexRetention implements IndexRetention {
  constructor(
    private readonly documents: Documents,
    private readonly tableName: string,
  ) {}

  async removeExpiry(
    key: EventKey,
    nowSeconds: number,
  ): Promise<{ indexed: false } | { indexed: true; expiresAt?: number }> {
    try {
      const { Attributes } = await this.documents.update({
        TableName: this.tableName,
        Key: eventItemKey(key),
        UpdateExpression: 'REMOVE #ttl',
        // An item past its TTL is gone to every read already (DynamoDB deletes it within days): not revived.
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#ttl) OR #ttl > :now)',
        ExpressionAttributeNames: { '#ttl': TTL },
        ExpressionAttributeValues: { ':now': nowSeconds },
        ReturnValues: 'UPDATED_OLD',
      });
      const old = Attributes?.[TTL];
      return typeof old === 'number' ? { indexed: true, expiresAt: old } : { indexed: true };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { indexed: false };
      throw error;
    }
  }

  async restoreExpiry(key: EventKey, expiresAt: number): Promise<boolean> {
    try {
      await this.documents.update({
        TableName: this.tableName,
        Key: eventItemKey(key),
        UpdateExpression: 'SET #ttl = :expiresAt',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#ttl': TTL },
        ExpressionAttributeValues: { ':expiresAt': expiresAt },
      });
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

function holdSortKey(target: HoldTarget): string {
  return `${target.workflowId}#${target.kind}#${target.targetId}`;
}

function holdOf(item: Record<string, unknown>): Hold {
  return JSON.parse(String(item.hold)) as Hold;
}
