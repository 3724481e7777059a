import { randomUUID } from 'node:crypto';
import { marshall, type NativeAttributeValue, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Documents } from '#lib/adapters/documents.ts';
import type { AwsClientOptions } from './aws-request.ts';
import { callJson, DYNAMODB } from './json-service.ts';

/**
 * The `Documents` port over DynamoDB's JSON API, on `fetch`: the Lambda functions' transport. Items are
 * converted as the SDK's document client converts them (`@aws-sdk/util-dynamodb`, undefined values
 * removed), in the same fields of each operation, so a store reads and writes the same items through
 * either transport (`test/integration/documents-transports.test.ts`). Errors keep DynamoDB's wire form in
 * their extra fields (a failed condition's `Item`, a cancelled transaction's `CancellationReasons`), as the
 * SDK's errors do.
 */
export function fetchDocuments(options: AwsClientOptions = {}): Documents {
  const call = async <T>(operation: string, input: object): Promise<T> => {
    const output = await callJson<Record<string, unknown>>(DYNAMODB, operation, input, options);
    return { ...output, $metadata: {} } as T;
  };
  return {
    async get(input) {
      const output = await call<Wire>('GetItem', { ...input, Key: toWire(input.Key) });
      return { ...output, ...(output.Item ? { Item: fromWire(output.Item as WireItem) } : {}) };
    },
    async put(input) {
      const output = await call<Wire>('PutItem', withValues({ ...input, Item: toWire(input.Item) }));
      return withAttributes(output);
    },
    async update(input) {
      const output = await call<Wire>('UpdateItem', withValues({ ...input, Key: toWire(input.Key) }));
      return withAttributes(output);
    },
    async delete(input) {
      const output = await call<Wire>('DeleteItem', withValues({ ...input, Key: toWire(input.Key) }));
      return withAttributes(output);
    },
    async query(input) {
      return itemPage(await call<Wire>('Query', withValues(withStartKey(input))));
    },
    async scan(input) {
      return itemPage(await call<Wire>('Scan', withValues(withStartKey(input))));
    },
    async batchGet(input) {
      const requestItems = mapValues(input.RequestItems ?? {}, (request) => ({
        ...request,
        Keys: (request.Keys ?? []).map(toWire),
      }));
      const output = await call<Wire>('BatchGetItem', { ...input, RequestItems: requestItems });
      return {
        ...output,
        ...(output.Responses
          ? { Responses: mapValues(output.Responses as WireTables, (items) => items.map(fromWire)) }
          : {}),
        ...(output.UnprocessedKeys
          ? {
              UnprocessedKeys: mapValues(
                output.UnprocessedKeys as Record<string, { Keys?: WireItem[] }>,
                (request) => ({
                  ...request,
                  Keys: (request.Keys ?? []).map(fromWire),
                }),
              ),
            }
          : {}),
      };
    },
    async batchWrite(input) {
      const requestItems = mapValues(input.RequestItems ?? {}, (requests) =>
        requests.map(writeRequestToWire),
      );
      const output = await call<Wire>('BatchWriteItem', { ...input, RequestItems: requestItems });
      return {
        ...output,
        ...(output.UnprocessedItems
          ? {
              UnprocessedItems: mapValues(
                output.UnprocessedItems as Record<string, WireWriteRequest[]>,
                (requests) => requests.map(writeRequestFromWire),
              ),
            }
          : {}),
      };
    },
    async transactWrite(input) {
      const transactItems = (input.TransactItems ?? []).map((item) => {
        const wire: Record<string, unknown> = {};
        if (item.Put) wire.Put = withValues({ ...item.Put, Item: toWire(item.Put.Item) });
        if (item.Update) wire.Update = withValues({ ...item.Update, Key: toWire(item.Update.Key) });
        if (item.Delete) wire.Delete = withValues({ ...item.Delete, Key: toWire(item.Delete.Key) });
        if (item.ConditionCheck)
          wire.ConditionCheck = withValues({ ...item.ConditionCheck, Key: toWire(item.ConditionCheck.Key) });
        return wire;
      });
      // As the SDK does (the field's idempotency-token trait): a retry of a transaction whose answer was
      // lost is then the same transaction, not a second one that fails its own conditions.
      return call('TransactWriteItems', {
        ...input,
        ClientRequestToken: input.ClientRequestToken ?? randomUUID(),
        TransactItems: transactItems,
      });
    },
  };
}

type Wire = Record<string, unknown> & { $metadata: object };
type WireItem = Record<string, unknown>;
type WireTables = Record<string, WireItem[]>;
type WireWriteRequest = { PutRequest?: { Item: WireItem }; DeleteRequest?: { Key: WireItem } };
type Item = Record<string, NativeAttributeValue>;

function toWire(item: Item | undefined): WireItem {
  return marshall(item ?? {}, { removeUndefinedValues: true }) as WireItem;
}

function fromWire(item: WireItem): Item {
  return unmarshall(item as Parameters<typeof unmarshall>[0]);
}

function withValues<T extends { ExpressionAttributeValues?: Item }>(input: T): T {
  return input.ExpressionAttributeValues
    ? { ...input, ExpressionAttributeValues: toWire(input.ExpressionAttributeValues) }
    : input;
}

function withStartKey<T extends { ExclusiveStartKey?: Item }>(input: T): T {
  return input.ExclusiveStartKey ? { ...input, ExclusiveStartKey: toWire(input.ExclusiveStartKey) } : input;
}

function withAttributes(output: Wire) {
  return { ...output, ...(output.Attributes ? { Attributes: fromWire(output.Attributes as WireItem) } : {}) };
}

function itemPage(output: Wire) {
  return {
    ...output,
    ...(output.Items ? { Items: (output.Items as WireItem[]).map(fromWire) } : {}),
    ...(output.LastEvaluatedKey ? { LastEvaluatedKey: fromWire(output.LastEvaluatedKey as WireItem) } : {}),
  };
}

function writeRequestToWire(request: { PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }) {
  return {
    ...(request.PutRequest ? { PutRequest: { Item: toWire(request.PutRequest.Item) } } : {}),
    ...(request.DeleteRequest ? { DeleteRequest: { Key: toWire(request.DeleteRequest.Key) } } : {}),
  };
}

function writeRequestFromWire(request: WireWriteRequest) {
  return {
    ...(request.PutRequest ? { PutRequest: { Item: fromWire(request.PutRequest.Item) } } : {}),
    ...(request.DeleteRequest ? { DeleteRequest: { Key: fromWire(request.DeleteRequest.Key) } } : {}),
  };
}

function mapValues<V, W>(record: Record<string, V>, map: (value: V) => W): Record<string, W> {
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [name, map(value)]));
}
