import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { json } from '../commons/http.ts';
import { logger } from '../commons/powertools.ts';

/** GET /healthz: 200 when the ledger table and the archive bucket answer, 503 naming what does not. */
export function makeHealthzHandler(deps: {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  tableName: string;
  bucketName: string;
}) {
  return async (): Promise<APIGatewayProxyResult> => {
    const check = async (probe: () => Promise<unknown>): Promise<'ok' | 'unreachable'> => {
      try {
        await probe();
        return 'ok';
      } catch (error) {
        logger.warn('health check failed', { error: error as Error });
        return 'unreachable';
      }
    };
    const [table, archive] = await Promise.all([
      check(() => deps.dynamodb.send(new DescribeTableCommand({ TableName: deps.tableName }))),
      check(() => deps.s3.send(new HeadBucketCommand({ Bucket: deps.bucketName }))),
    ]);
    const healthy = table === 'ok' && archive === 'ok';
    return json(healthy ? 200 : 503, { status: healthy ? 'ok' : 'degraded', checks: { table, archive } });
  };
}
