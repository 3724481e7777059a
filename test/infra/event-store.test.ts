import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  ARCHIVE_TRANSITIONS,
  NONCURRENT_VERSION_EXPIRY_DAYS,
  RETENTION_CLASSES,
} from '#lib/storage/archive-bucket.ts';
import { EVENT_FILTER_ATTRIBUTES, ledgerTableDesign } from '#lib/storage/ledger-table.ts';
import { ABORT_INCOMPLETE_UPLOAD_DAYS } from '../../infra/constructs/event-store.ts';
import { type CfnProperties, synthesizeLedger } from './helpers.ts';

// Prepare (once: every test reads the same synthesized stateful stack)
const { statefulTemplate: template } = synthesizeLedger();

/** The one EventStore bucket with `properties` (the stack also holds the finance buckets). */
function bucketWith(properties: CfnProperties): [string, CfnProperties] {
  const found = Object.entries(template.findResources('AWS::S3::Bucket', { Properties: properties })).filter(
    ([logicalId]) => logicalId.startsWith('EventStore'),
  );
  expect(found).toHaveLength(1);
  return found[0] as [string, CfnProperties];
}

describe('EventStore: ledger table', () => {
  it('is built from ledgerTableDesign: keys, and each GSI with its projection (gsi1 ALL, gsi2 the filter attributes)', () => {
    // Act
    const table = template.findResources('AWS::DynamoDB::Table');

    // Assess
    expect(Object.keys(table)).toHaveLength(1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: ledgerTableDesign.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: ledgerTableDesign.sortKey.name, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: ledgerTableDesign.globalIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection:
          index.indexName === 'gsi1'
            ? { ProjectionType: 'ALL' }
            : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...EVENT_FILTER_ATTRIBUTES] },
      })),
      // Each attribute once, though both indexes sort by gsi1sk.
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'S' },
        { AttributeName: 'gsi2pk', AttributeType: 'S' },
      ],
    });
  });

  it('expires items through TTL on the design attribute', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(ledgerTableDesign.timeToLiveAttribute).toBe('expiresAt');
  });

  it('is on-demand, point-in-time recoverable, encrypted with the customer-managed key, protected and retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
        DeletionProtectionEnabled: true,
      }),
    });
  });

  it('uses a rotated, retained KMS key', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
  });
});

describe('EventStore: archive bucket', () => {
  it('has one lifecycle rule per retention class: Standard-IA at 30 days, Glacier IR at 90, expiry per class', () => {
    // Act
    const expected = RETENTION_CLASSES.map((retention) => ({
      Id: `retention-${retention.months}m`,
      Status: 'Enabled',
      Prefix: retention.prefix,
      Transitions: [
        { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
        { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
      ],
      ExpirationInDays: retention.expirationDays,
      NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_VERSION_EXPIRY_DAYS },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS },
    }));

    // Assess
    bucketWith({ LifecycleConfiguration: { Rules: expected } });
    expect(ARCHIVE_TRANSITIONS).toEqual({ infrequentAccessDays: 30, glacierInstantRetrievalDays: 90 });
    expect(RETENTION_CLASSES.map((retention) => retention.prefix)).toEqual([
      'raw/retention=12m/',
      'raw/retention=18m/',
      'raw/retention=24m/',
    ]);
    for (const retention of RETENTION_CLASSES) {
      // "12 months" keeps an object at least a year: never less than months × 365.25 / 12 days.
      expect(retention.expirationDays).toBeGreaterThanOrEqual((retention.months * 365.25) / 12);
    }
  });

  it('expires noncurrent versions without moving them first (they expire before a transition would pay off)', () => {
    bucketWith({
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_VERSION_EXPIRY_DAYS },
            NoncurrentVersionTransitions: Match.absent(),
          }),
        ]),
      },
    });
  });

  it('is versioned, KMS-encrypted with a bucket key, fully private, lockable for legal holds, and retained', () => {
    const [logicalId] = bucketWith({ ObjectLockEnabled: true });
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'archive/' },
      }),
    });
    expect(logicalId).toMatch(/ArchiveBucket/);
  });

  it('refuses plain HTTP and TLS below 1.2, for the archive and the access-log bucket (and every other)', () => {
    // Act
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));

    // Assess: plus the finance reports and Athena results buckets (test/infra/finance.test.ts)
    expect(policies).toHaveLength(4);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          expect.objectContaining({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      );
    }
  });
});

describe('EventStore: access-log bucket', () => {
  it('receives the archive logs with SSE-S3 (log delivery cannot use SSE-KMS), stays private and expires its logs', () => {
    // Act
    const [logicalId] = bucketWith({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });

    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId } },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.objectLike({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      }),
      PublicAccessBlockConfiguration: Match.objectLike({
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      }),
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ Id: 'expire-access-logs', ExpirationInDays: 365, Status: 'Enabled' })],
      },
    });
  });
});

describe('EventStore: actor-hash key', () => {
  it('is a generated 64-character secret encrypted with the customer-managed key, never rotated', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
        KmsKeyId: Match.anyValue(),
      }),
    });
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  });
});

describe('StatefulStack outputs', () => {
  it('names the table, the archive bucket and the actor-hash secret for the CLI', () => {
    for (const name of ['LedgerTableName', 'ArchiveBucketName', 'ActorHashKeySecretArn']) {
      template.hasOutput(name, { Value: Match.anyValue() });
    }
  });
});
