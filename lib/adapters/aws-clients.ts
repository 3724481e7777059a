import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Documents } from '#lib/adapters/documents.ts';
import type { ObjectStore } from '#lib/adapters/objects.ts';
import { isObjectNotFound } from '#lib/adapters/store-errors.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';

/**
 * SDK clients, for the CLI, the bench, the local stack and tests (the Lambda functions use the lean ones
 * in `lib/aws/` where a port allows). Endpoints come from the SDK's own environment variables
 * (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_S3`), which the local stack sets and the cloud leaves
 * unset, so the same code reaches DynamoDB Local and the S3 server or the AWS services.
 * `LEDGER_S3_FORCE_PATH_STYLE=true` is for S3 servers without virtual-host buckets (the local one).
 */
export function makeDynamoDbClient(endpoint?: string): DynamoDBClient {
  return new DynamoDBClient(endpoint ? { endpoint } : {});
}

/**
 * The stores' `Documents` through the SDK's document client on `client`; attributes that are `undefined`
 * are left out of the items written rather than refused.
 */
export function makeDocumentClient(client: DynamoDBClient = makeDynamoDbClient()): Documents {
  return sdkDocuments(
    DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
  );
}

/** `Documents` as the SDK's document client's commands: each method sends its command. */
export function sdkDocuments(client: DynamoDBDocumentClient): Documents {
  return {
    get: (input) => client.send(new GetCommand(input)),
    put: (input) => client.send(new PutCommand(input)),
    update: (input) => client.send(new UpdateCommand(input)),
    delete: (input) => client.send(new DeleteCommand(input)),
    query: (input) => client.send(new QueryCommand(input)),
    scan: (input) => client.send(new ScanCommand(input)),
    batchGet: (input) => client.send(new BatchGetCommand(input)),
    batchWrite: (input) => client.send(new BatchWriteCommand(input)),
    transactWrite: (input) => client.send(new TransactWriteCommand(input)),
  };
}

export function makeS3Client(endpoint?: string): S3Client {
  return new S3Client({
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: process.env[FUNCTION_ENV.s3ForcePathStyle] === 'true' || endpoint !== undefined,
  });
}

/** The `ObjectStore` port over the SDK's S3 client. */
export function sdkObjects(s3: S3Client): ObjectStore {
  return {
    async put({ bucket, key, body, contentType }) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    },
    async get(bucket, key) {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await object.Body?.transformToByteArray();
      } catch (error) {
        if (isObjectNotFound(error)) return undefined;
        throw error;
      }
    },
  };
}
