import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { HealthProbe } from '#lib/health/check-health.ts';

/** The table answers DescribeTable. */
export function dynamoDbTableProbe(client: DynamoDBClient, tableName: string): HealthProbe {
  return { check: () => client.send(new DescribeTableCommand({ TableName: tableName })).then(() => {}) };
}

/** The bucket answers HeadBucket (authorized by s3:ListBucket on the bucket alone). */
export function s3BucketProbe(client: S3Client, bucketName: string): HealthProbe {
  return { check: () => client.send(new HeadBucketCommand({ Bucket: bucketName })).then(() => {}) };
}
