import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EventStore } from '../constructs/event-store.ts';

/**
 * Everything that holds data: the ledger table, the archive and its access logs, the actor-hash key.
 * Deployed apart from the stateless stack, so redeploying code and APIs can never replace data.
 */
export class StatefulStack extends Stack {
  public readonly eventStore: EventStore;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);

    this.eventStore = new EventStore(this, 'EventStore');

    // Read by the CLI (`agent-ledger … --stage <stage>`) through CloudFormation DescribeStacks.
    new CfnOutput(this, 'LedgerTableName', {
      value: this.eventStore.table.tableName,
      description: 'DynamoDB table: the queryable index of agent events, tokens and grants',
    });
    new CfnOutput(this, 'ArchiveBucketName', {
      value: this.eventStore.archiveBucket.bucketName,
      description: 'S3 bucket: the raw event archive, partitioned for Athena, expired by retention class',
    });
    new CfnOutput(this, 'ActorHashKeySecretArn', {
      value: this.eventStore.actorHashKey.secretArn,
      description: 'Secrets Manager secret: the HMAC key that pseudonymizes actor IDs',
    });
  }
}
