import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { AppConfigData } from '@aws-sdk/client-appconfigdata';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { AppConfigDataFlagReader } from '#lib/adapters/appconfig-flags.ts';
import { locateKillSwitch } from '#lib/adapters/appconfig-locate.ts';
import { sdkObjects } from '#lib/adapters/aws-clients.ts';
import { isConditionalCheckFailed } from '#lib/adapters/documents.ts';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { DynamoDbReviewQueue } from '#lib/adapters/dynamodb-review-queue.ts';
import { fetchConfigurationSessions } from '#lib/aws/appconfig-data.ts';
import { fetchDocuments } from '#lib/aws/dynamodb-documents.ts';
import { fetchObjects } from '#lib/aws/s3-objects.ts';
import { LOCAL_ENVIRONMENT } from '#lib/kill-switch/names.ts';
import { LOCAL_ARCHIVE_BUCKET, LOCAL_CREDENTIALS, LOCAL_REGION } from '#local-stack/settings.ts';
import { contractTable } from '../support/contract-table.ts';
import { describeAccessStoreContract } from '../support/contracts/access-store.contract.ts';
import { describeEvalStoreContract } from '../support/contracts/eval-store.contract.ts';
import { describeEventIndexContract } from '../support/contracts/event-index.contract.ts';
import { describeKpiStoreContract } from '../support/contracts/kpi-store.contract.ts';
import { describeReviewQueueContract } from '../support/contracts/review-queue.contract.ts';

// The Lambda functions' lean AWS clients (lib/aws/) against the local stack's real servers, side by side
// with the SDK's clients on the same data: what one writes the other reads, and both answer alike.

const stack = inject('localStack');
const local = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
const env = {
  AWS_REGION: LOCAL_REGION,
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodb,
  AWS_ENDPOINT_URL_S3: stack.s3,
  AWS_ENDPOINT_URL_APPCONFIGDATA: stack.appconfig,
};

// The stores' contracts again, on a table of their own, through the lean transport (port-contracts runs
// them through the SDK's).
const { documents: sdk, tableName } = contractTable(stack.dynamodb);
const lean = fetchDocuments({ env });
describeEventIndexContract(
  'DynamoDbEventIndex through fetch',
  () => new DynamoDbEventIndex(lean, tableName, { fullReadPageSize: 7 }),
);
describeReviewQueueContract(
  'DynamoDbReviewQueue through fetch',
  () => new DynamoDbReviewQueue(lean, tableName),
);
describeEvalStoreContract('DynamoDbEvalStore through fetch', () => new DynamoDbEvalStore(lean, tableName));
describeAccessStoreContract(
  'DynamoDbAccessStore through fetch',
  () => new DynamoDbAccessStore(lean, tableName),
);
describeKpiStoreContract('DynamoDbKpiStore through fetch', () => new DynamoDbKpiStore(lean, tableName));

describe('Documents through fetch and through the SDK, on the same items', () => {
  const item = {
    pk: `LEAN#${randomUUID()}`,
    sk: 'EVT',
    text: 'héllo, 世界',
    empty: '',
    count: 42,
    ratio: 0.125,
    flag: false,
    nothing: null,
    list: [1, 'two', { three: 3 }],
    nested: { a: { b: ['c'] } },
  };

  it('each reads back exactly what the other wrote, with undefined attributes left out', async () => {
    await lean.put({ TableName: tableName, Item: { ...item, dropped: undefined } });
    const viaSdk = await sdk.get({ TableName: tableName, Key: { pk: item.pk, sk: 'EVT' } });
    expect(viaSdk.Item).toEqual(item);

    const other = { ...item, pk: `${item.pk}-2` };
    await sdk.put({ TableName: tableName, Item: other });
    const viaLean = await lean.get({ TableName: tableName, Key: { pk: other.pk, sk: 'EVT' } });
    expect(viaLean.Item).toEqual(other);
  });

  it('fails a condition alike, with the old item in its wire form', async () => {
    const failures = await Promise.all(
      [lean, sdk].map((documents) =>
        documents
          .put({
            TableName: tableName,
            Item: { pk: item.pk, sk: 'EVT' },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          })
          .catch((error: unknown) => error),
      ),
    );
    for (const failure of failures) {
      expect(isConditionalCheckFailed(failure)).toBe(true);
      expect((failure as { Item?: Record<string, unknown> }).Item?.count).toEqual({ N: '42' });
    }
  });

  it('pages a query, batch-gets and cancels a transaction alike', async () => {
    const pk = `LEAN-PAGES#${randomUUID()}`;
    await lean.batchWrite({
      RequestItems: {
        [tableName]: [1, 2, 3].map((n) => ({ PutRequest: { Item: { pk: `${pk}#${n}`, sk: 'EVT', n } } })),
      },
    });
    const keys = [1, 2, 3].map((n) => ({ pk: `${pk}#${n}`, sk: 'EVT' }));
    const [leanGot, sdkGot] = await Promise.all(
      [lean, sdk].map((documents) => documents.batchGet({ RequestItems: { [tableName]: { Keys: keys } } })),
    );
    const byN = (items: Record<string, unknown>[] | undefined) =>
      [...(items ?? [])].sort((a, b) => Number(a.n) - Number(b.n));
    expect(byN(leanGot?.Responses?.[tableName])).toEqual(byN(sdkGot?.Responses?.[tableName]));
    expect(byN(leanGot?.Responses?.[tableName]).map((got) => got.n)).toEqual([1, 2, 3]);

    const cancelled = await Promise.all(
      [lean, sdk].map((documents) =>
        documents
          .transactWrite({
            TransactItems: [
              { Put: { TableName: tableName, Item: { pk: `${pk}#4`, sk: 'EVT' } } },
              {
                Put: {
                  TableName: tableName,
                  Item: { pk: `${pk}#1`, sk: 'EVT' },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          })
          .catch((error: unknown) => error),
      ),
    );
    for (const error of cancelled) {
      expect(error).toMatchObject({ name: 'TransactionCanceledException' });
      expect(
        (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons?.map((r) => r.Code),
      ).toEqual(['None', 'ConditionalCheckFailed']);
    }
    // Nothing of the cancelled transaction was written.
    expect(
      (await lean.get({ TableName: tableName, Key: { pk: `${pk}#4`, sk: 'EVT' } })).Item,
    ).toBeUndefined();
  });
});

// The S3 server takes any SigV4 signature (it checks V2 ones only): the signing itself is checked against
// AWS's published examples in test/unit/aws-request.test.ts.
describe('S3 objects on fetch, against the S3 server', () => {
  const s3 = new S3Client({ ...local, endpoint: stack.s3, forcePathStyle: true });
  const objects = fetchObjects({ env });

  it('writes what the SDK reads back byte for byte, under a key with characters to encode', async () => {
    const key = `test/retention=24m/workflow=lean/dt=2026-12-01/${randomUUID()} (a+b).ndjson.gz`;
    const body = gzipSync('{"eventId":"e-1"}\n');

    await objects.put({ bucket: LOCAL_ARCHIVE_BUCKET, key, body, contentType: 'application/gzip' });

    const object = await s3.send(new GetObjectCommand({ Bucket: LOCAL_ARCHIVE_BUCKET, Key: key }));
    expect(Buffer.from((await object.Body?.transformToByteArray()) ?? [])).toEqual(body);
    expect(object.ContentType).toBe('application/gzip');
    expect(Buffer.from((await objects.get(LOCAL_ARCHIVE_BUCKET, key)) ?? [])).toEqual(body);
  });

  it('answers undefined for a missing key, as the SDK transport does', async () => {
    const key = `test/${randomUUID()}/_outcome.json`;
    await expect(objects.get(LOCAL_ARCHIVE_BUCKET, key)).resolves.toBeUndefined();
    await expect(sdkObjects(s3).get(LOCAL_ARCHIVE_BUCKET, key)).resolves.toBeUndefined();
  });
});

describe('AppConfigData on fetch, against the AppConfig stand-in', () => {
  it('reads the deployed kill switch as the SDK reader reads it', async () => {
    const location = await locateKillSwitch(
      new AppConfigClient({ ...local, endpoint: stack.appconfig }),
      LOCAL_ENVIRONMENT,
    );
    if (!location) throw new Error('no kill switch in the local stack');

    const lean = await new AppConfigDataFlagReader(fetchConfigurationSessions({ env }), location, 0).read();
    const sdk = await new AppConfigDataFlagReader(
      new AppConfigData({ ...local, endpoint: stack.appconfig }),
      location,
      0,
    ).read();

    expect(Object.keys(lean.values).length).toBeGreaterThan(0);
    expect(lean).toEqual(sdk);
  });
});
