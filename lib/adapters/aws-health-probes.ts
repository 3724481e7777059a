import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { HealthProbe } from '#lib/health/check-health.ts';

/** The ledger table answers DescribeTable. */
export class DynamoDbTableProbe implements HealthProbe {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async check(): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
  }
}

/** The bucket answers HeadBucket (authorized by s3:ListBucket on the bucket alone). */
export class S3BucketProbe implements HealthProbe {
  constructor(
    private readonly client: S3Client,
    private readonly bucketName: string,
  ) {}

  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucketName }));
  }
}
