import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { listObjectKeys } from '#lib/adapters/s3-keys.ts';
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
      const scan = paginateScan(
        { client: dynamodb },
        {
          TableName: LOCAL_TABLE_NAME,
          Select: 'COUNT',
          FilterExpression: 'sk = :evt',
          ExpressionAttributeValues: { ':evt': { S: 'EVT' } },
        },
      );
      for await (const page of scan) eventItems += page.Count ?? 0;
      let archiveObjects = 0;
      for await (const _ of listObjectKeys(s3, { bucket: LOCAL_ARCHIVE_BUCKET, prefix: '' }))
        archiveObjects++;
      return { eventItems, archiveObjects };
    },
  };
}
