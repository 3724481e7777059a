import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  LOCAL_ARCHIVE_BUCKET,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_TABLE_NAME,
} from '#local-stack/settings.ts';

/** SDK clients on the local stack, to look at what the API stored without going through it. */
export function localClients(endpoints: { dynamodb: string; s3: string }) {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb });
  const s3 = new S3Client({
    ...common,
    endpoint: endpoints.s3,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    dynamodb,
    s3,
    /** Event items and archive objects right now: what "stores nothing" is measured against. */
    async storeCounts(): Promise<{ eventItems: number; archiveObjects: number }> {
      let eventItems = 0;
      let startKey: Record<string, never> | undefined;
      do {
        const page = await dynamodb.send(
          new ScanCommand({
            TableName: LOCAL_TABLE_NAME,
            Select: 'COUNT',
            FilterExpression: 'sk = :evt',
            ExpressionAttributeValues: { ':evt': { S: 'EVT' } },
            ExclusiveStartKey: startKey,
          }),
        );
        eventItems += page.Count ?? 0;
        startKey = page.LastEvaluatedKey as typeof startKey;
      } while (startKey);
      let archiveObjects = 0;
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: LOCAL_ARCHIVE_BUCKET, ContinuationToken: token }),
        );
        archiveObjects += page.KeyCount ?? 0;
        token = page.NextContinuationToken;
      } while (token);
      return { eventItems, archiveObjects };
    },
  };
}
