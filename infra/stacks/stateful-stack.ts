import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { STATEFUL_OUTPUTS } from '#lib/deployment/stacks.ts';
import { ConsoleUserPool } from '../constructs/console.ts';
import { allowAlarmNotifications } from '../constructs/dashboard.ts';
import { DriftNotifications } from '../constructs/drift-notifications.ts';
import { EventStore } from '../constructs/event-store.ts';
import { Finance } from '../constructs/finance.ts';
import { KillSwitch } from '../constructs/kill-switch.ts';
import { WorkflowRegistryConfig } from '../constructs/workflow-registry.ts';

export interface StatefulStackProps extends StackProps {
  /** Names the kill switch's AppConfig environment, the Glue database and the Athena workgroup. */
  readonly stage: string;
  /**
   * The registered workflows: one kill-switch flag each, the Glue table's `workflow` partitions, and the
   * console's role groups on each.
   */
  readonly workflowIds: readonly string[];
  /** The workflow registry document deployed to AppConfig, and the JSON Schema its versions must pass. */
  readonly registry: { readonly content: string; readonly jsonSchema: string };
}

/**
 * Everything that holds data: the ledger table, the archive and its access logs, the actor-hash key, the
 * kill switch (its hosted versions hold the flags' state), the workflow registry's AppConfig profile, the finance reports with their Glue table and
 * Athena workgroup, the drift topic (operators' subscriptions), and the console's user pool with its role
 * groups (people and their roles). Deployed apart from the stateless
 * stack, so redeploying code and APIs can never replace data.
 */
export class StatefulStack extends Stack {
  public readonly eventStore: EventStore;
  public readonly killSwitch: KillSwitch;
  public readonly registry: WorkflowRegistryConfig;
  public readonly finance: Finance;
  public readonly driftNotifications: DriftNotifications;
  public readonly consoleUsers: ConsoleUserPool;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);

    this.eventStore = new EventStore(this, 'EventStore');
    this.killSwitch = new KillSwitch(this, 'KillSwitch', {
      stage: props.stage,
      workflowIds: props.workflowIds,
    });
    this.registry = new WorkflowRegistryConfig(this, 'WorkflowRegistry', {
      killSwitch: this.killSwitch,
      ...props.registry,
    });
    this.finance = new Finance(this, 'Finance', {
      stage: props.stage,
      workflowIds: props.workflowIds,
      accessLogBucket: this.eventStore.accessLogBucket,
      archiveBucket: this.eventStore.archiveBucket,
      archiveKey: this.eventStore.key,
    });
    this.driftNotifications = new DriftNotifications(this, 'DriftNotifications', { stage: props.stage });
    // The stateless stack's alarms (LedgerDashboard) notify operators on the drift topic.
    allowAlarmNotifications(this.driftNotifications.topic, this.driftNotifications.key, props.stage);

    this.consoleUsers = new ConsoleUserPool(this, 'ConsoleUsers', {
      stage: props.stage,
      workflowIds: props.workflowIds,
    });

    // Read by the CLI (`agent-ledger … --stage <stage>`) through CloudFormation DescribeStacks; output IDs
    // are the output keys.
    new CfnOutput(this, STATEFUL_OUTPUTS.ledgerTableName, {
      value: this.eventStore.table.tableName,
      description: 'DynamoDB table: the queryable index of agent events, tokens and grants',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.archiveBucketName, {
      value: this.eventStore.archiveBucket.bucketName,
      description: 'S3 bucket: the raw event archive, partitioned for Athena, expired by retention class',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.actorHashKeySecretArn, {
      value: this.eventStore.actorHashKey.secretArn,
      description: 'Secrets Manager secret: the HMAC key that pseudonymizes actor IDs',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.killSwitchApplicationId, {
      value: this.killSwitch.applicationId,
      description: 'AppConfig application of the kill switch',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.killSwitchEnvironmentId, {
      value: this.killSwitch.environmentId,
      description: 'AppConfig environment of the kill switch (named after the stage)',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.killSwitchProfileId, {
      value: this.killSwitch.profileId,
      description: 'AppConfig feature-flag profile: a flag per workflow plus the master flag',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.killSwitchStrategyId, {
      value: this.killSwitch.strategyId,
      description: 'AppConfig deployment strategy of every flip: all at once, no bake time',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.registryProfileId, {
      value: this.registry.registryProfileId,
      description:
        'AppConfig freeform profile: the workflow registry (deployed from config/workflow-registry.json)',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.reportsBucketName, {
      value: this.finance.reportsBucket.bucketName,
      description: 'S3 bucket: weekly cost-per-unit Parquet under cost-per-unit/week=YYYY-Www/workflow=<id>/',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.athenaResultsBucketName, {
      value: this.finance.athenaResultsBucket.bucketName,
      description: 'S3 bucket: results of the finance workgroup queries, expired after 30 days',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.glueDatabase, {
      value: this.finance.database.ref,
      description: 'Glue database of the finance reports (table cost_per_unit)',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.athenaWorkgroup, {
      value: this.finance.workgroup.ref,
      description:
        'Athena workgroup of the finance queries: enforced result location, encryption and scan limit',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.financeReadPolicyArn, {
      value: this.finance.readPolicy.managedPolicyArn,
      description: 'IAM managed policy that allows running the finance queries: attach it to analysts',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.driftTopicArn, {
      value: this.driftNotifications.topic.topicArn,
      description: 'SNS topic: an autonomous lane was paused by drift (subscribe operators to it)',
    });
    new CfnOutput(this, STATEFUL_OUTPUTS.consoleUserPoolId, {
      value: this.consoleUsers.userPool.userPoolId,
      description:
        'Cognito user pool of the console: add people with admin-create-user, give them roles with admin-add-user-to-group (viewer, reviewer, operator, or <role>:<workflowId>)',
    });
  }
}
