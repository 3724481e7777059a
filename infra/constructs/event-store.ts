import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  ARCHIVE_TRANSITIONS,
  NONCURRENT_VERSION_EXPIRY_DAYS,
  RETENTION_CLASSES,
} from '#lib/storage/archive-bucket.ts';
import {
  type IndexProjection,
  type KeyAttribute,
  type KeyType,
  ledgerTableDesign,
} from '#lib/storage/ledger-table.ts';

export interface EventStoreProps {
  /** Days the archive bucket's server access logs are kept. @default 365 */
  readonly accessLogExpiryDays?: number;
}

/** Days after which an upload that was started but never completed is aborted. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 7;

/**
 * Where the ledger keeps what agents did: the queryable index (DynamoDB), the raw archive (S3, with
 * lifecycle retention per retention class), the archive's access logs, and the key that pseudonymizes
 * actor IDs. Everything here is stateful: retained on stack deletion, encrypted with one
 * customer-managed key, and never replaced by a redeploy of the stateless stack.
 */
export class EventStore extends Construct {
  /** Customer-managed key (rotated yearly) for the table, the archive and the actor-hash secret. */
  public readonly key: kms.Key;
  public readonly table: dynamodb.Table;
  public readonly archiveBucket: s3.Bucket;
  public readonly accessLogBucket: s3.Bucket;
  /** HMAC-SHA256 key for hashing `actor.userId` / `actor.customerId` on ingest. */
  public readonly actorHashKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: EventStoreProps = {}) {
    super(scope, id);

    this.key = new kms.Key(this, 'DataKey', {
      description: 'Agent Ledger: encrypts the ledger table, the raw archive and the actor-hash key',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.table = this.createLedgerTable();
    this.accessLogBucket = this.createAccessLogBucket(props.accessLogExpiryDays ?? 365);
    this.archiveBucket = this.createArchiveBucket();
    this.actorHashKey = this.createActorHashKey();
  }

  private createLedgerTable(): dynamodb.Table {
    const table = new dynamodb.Table(this, 'LedgerTable', {
      partitionKey: toAttribute(ledgerTableDesign.partitionKey),
      sortKey: toAttribute(ledgerTableDesign.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ledgerTableDesign.timeToLiveAttribute,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of ledgerTableDesign.globalIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: toAttribute(index.partitionKey),
        sortKey: toAttribute(index.sortKey),
        ...toProjection(index.projection),
      });
    }
    return table;
  }

  /** Server access logs cannot be delivered to an SSE-KMS bucket, hence SSE-S3 here. */
  private createAccessLogBucket(expiryDays: number): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(expiryDays),
          abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the destination of the archive bucket server access logs; logging it too would need a third bucket and log the log deliveries themselves.',
    });
    return bucket;
  }

  private createArchiveBucket(): s3.Bucket {
    return new s3.Bucket(this, 'ArchiveBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      // Lets operators put a legal hold on single objects (rollback events, reviewed samples), which keeps
      // them past their lifecycle expiry; no default retention is set, so nothing else changes.
      objectLockEnabled: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: archiveLifecycleRules(),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private createActorHashKey(): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'ActorHashKey', {
      description: 'Agent Ledger: HMAC-SHA256 key that pseudonymizes actor IDs on ingest',
      encryptionKey: this.key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the actor-hash HMAC key would change the pseudonym of every actor, breaking the link between events of the same user or customer across the 12-24 month retention; the key never leaves Secrets Manager and the ingest function, and is replaced only by a deliberate re-keying.',
    });
    return secret;
  }
}

/**
 * One lifecycle rule per retention class, all from `lib/storage/archive-bucket.ts`: cheaper storage
 * classes on the way, expiry at the end of the class's retention, and overwritten or deleted versions
 * kept only `NONCURRENT_VERSION_EXPIRY_DAYS` for recovery.
 */
export function archiveLifecycleRules(): s3.LifecycleRule[] {
  const transitions: s3.Transition[] = [
    {
      storageClass: s3.StorageClass.INFREQUENT_ACCESS,
      transitionAfter: Duration.days(ARCHIVE_TRANSITIONS.infrequentAccessDays),
    },
    {
      storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
      transitionAfter: Duration.days(ARCHIVE_TRANSITIONS.glacierInstantRetrievalDays),
    },
  ];
  // A noncurrent version only moves to a cheaper class if it lives there long enough to pay off: S3
  // requires the transition to come before the noncurrent expiry (and 30+ days for Standard-IA).
  const noncurrentVersionTransitions: s3.NoncurrentVersionTransition[] = transitions
    .filter((transition) => (transition.transitionAfter?.toDays() ?? 0) < NONCURRENT_VERSION_EXPIRY_DAYS)
    .map((transition) => ({
      storageClass: transition.storageClass,
      transitionAfter: transition.transitionAfter ?? Duration.days(0),
    }));

  return RETENTION_CLASSES.map((retention) => ({
    id: `retention-${retention.months}m`,
    prefix: retention.prefix,
    transitions,
    expiration: Duration.days(retention.expirationDays),
    noncurrentVersionTransitions:
      noncurrentVersionTransitions.length > 0 ? noncurrentVersionTransitions : undefined,
    noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_EXPIRY_DAYS),
    abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
  }));
}

function toProjection(
  projection: IndexProjection,
): Pick<dynamodb.GlobalSecondaryIndexProps, 'projectionType' | 'nonKeyAttributes'> {
  if (projection.type === 'INCLUDE') {
    return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...projection.attributes] };
  }
  return {
    projectionType:
      projection.type === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY,
  };
}

const ATTRIBUTE_TYPES: Record<KeyType, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

function toAttribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: ATTRIBUTE_TYPES[key.type] };
}
