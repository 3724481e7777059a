import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EventStore } from '../constructs/event-store.ts';
import { KillSwitch } from '../constructs/kill-switch.ts';

export interface StatefulStackProps extends StackProps {
  /** Names the kill switch's AppConfig environment. */
  readonly stage: string;
  /** The registered workflows: one kill-switch flag each. */
  readonly workflowIds: readonly string[];
}

/**
 * Everything that holds data: the ledger table, the archive and its access logs, the actor-hash key, and
 * the kill switch (its hosted versions hold the flags' state). Deployed apart from the stateless stack, so
 * redeploying code and APIs can never replace data.
 */
export class StatefulStack extends Stack {
  public readonly eventStore: EventStore;
  public readonly killSwitch: KillSwitch;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);

    this.eventStore = new EventStore(this, 'EventStore');
    this.killSwitch = new KillSwitch(this, 'KillSwitch', {
      stage: props.stage,
      workflowIds: props.workflowIds,
    });

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
    new CfnOutput(this, 'KillSwitchApplicationId', {
      value: this.killSwitch.applicationId,
      description: 'AppConfig application of the kill switch',
    });
    new CfnOutput(this, 'KillSwitchEnvironmentId', {
      value: this.killSwitch.environmentId,
      description: 'AppConfig environment of the kill switch (named after the stage)',
    });
    new CfnOutput(this, 'KillSwitchProfileId', {
      value: this.killSwitch.profileId,
      description: 'AppConfig feature-flag profile: a flag per workflow plus the master flag',
    });
    new CfnOutput(this, 'KillSwitchStrategyId', {
      value: this.killSwitch.strategyId,
      description: 'AppConfig deployment strategy of every flip: all at once, no bake time',
    });
  }
}
