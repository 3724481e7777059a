import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import {
  KILL_SWITCH_APPLICATION,
  KILL_SWITCH_PROFILE,
  KILL_SWITCH_STRATEGY,
} from '#lib/kill-switch/names.ts';
import { functionEntry } from '../paths.ts';
import { LedgerFunction } from './ledger-function.ts';

/**
 * How often a reader asks AppConfigData for new flags: 15 s is the smallest poll interval AppConfigData
 * allows (`RequiredMinimumPollIntervalInSeconds`).
 *
 * Time to effect in the cloud: a flip creates a hosted version and deploys it with the kill switch's
 * strategy (0 minutes, 100 %, no bake), so the deployment is COMPLETE within seconds; each `/autonomy`
 * container keeps the flags it last read for at most `FLAG_POLL_SECONDS`. A flip therefore shows in
 * `/autonomy` within about 15 s (the poll interval) plus the few seconds the deployment takes, plus a
 * request already in flight in a container that read the flags just before. The token authorizer's cache
 * (60 s) only caches who may call, never the answer, so it adds nothing.
 */
export const FLAG_POLL_SECONDS = 15;

/** The kill switch's AppConfig IDs, which is all another stack needs to reference it. */
export interface KillSwitchIds {
  readonly applicationId: string;
  readonly environmentId: string;
  readonly profileId: string;
  readonly strategyId: string;
}

/** The ARNs IAM authorizes AppConfig actions against (Service Authorization Reference, AWS AppConfig). */
export interface KillSwitchArns {
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
  readonly strategy: string;
  /** What AppConfigData reads: the profile as deployed to the environment. */
  readonly configuration: string;
  /** Every hosted version of the profile: a flip creates a new one, so their numbers are not known ahead. */
  readonly hostedVersions: string;
  /** Every deployment to the environment: one per flip, numbered by AppConfig. */
  readonly deployments: string;
}

/** The kill switch's ARNs, rendered in `scope`'s stack (so only the IDs cross stacks). */
export function killSwitchArns(scope: Construct, ids: KillSwitchIds): KillSwitchArns {
  const stack = Stack.of(scope);
  const arn = (resource: string, resourceName: string): string =>
    stack.formatArn({
      service: 'appconfig',
      resource,
      resourceName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  const application = arn('application', ids.applicationId);
  const environment = `${application}/environment/${ids.environmentId}`;
  const profile = `${application}/configurationprofile/${ids.profileId}`;
  return {
    application,
    environment,
    profile,
    strategy: arn('deploymentstrategy', ids.strategyId),
    configuration: `${environment}/configuration/${ids.profileId}`,
    hostedVersions: `${profile}/hostedconfigurationversion/*`,
    deployments: `${environment}/deployment/*`,
  };
}

export interface KillSwitchProps {
  /** The stage: names the AppConfig environment (and the sync provider's function). */
  readonly stage: string;
  /** The registered workflows: one flag each, next to the master flag. */
  readonly workflowIds: readonly string[];
}

/** The CloudFormation type of the custom resource that syncs the flags with the registry. */
export const FLAG_SYNC_RESOURCE_TYPE = 'Custom::KillSwitchFlags';

/**
 * The kill switch (SPEC "Kill switch"): an AppConfig application, an environment for this stage, a
 * feature-flag profile with a flag per workflow whose `enabled` means "the autonomous lane is allowed",
 * plus the master flag, and a deployment strategy that takes effect at once.
 *
 * Stateful: the flags' state lives in the hosted versions of the profile, which only flips and the sync
 * below create; CloudFormation never writes a version itself. The flags are provisioned by a custom
 * resource (`functions/kill-switch-sync`, the same `AppConfigFlagWriter.ensureFlags` the local stack runs):
 * on Create and Update it adds, lane allowed, each registered workflow's flag (and the master flag) the
 * latest hosted version lacks, and deploys that with the kill-switch strategy; with no version at all it
 * writes the initial document. It never touches an existing flag, so a redeploy, even one that registers
 * a new workflow, never turns a paused lane back on. Its only property is the sorted workflow IDs, so it
 * runs again exactly when the registry changes. Delete does nothing: the flags stay, like the profile.
 */
export class KillSwitch extends Construct implements KillSwitchIds {
  public readonly application: appconfig.Application;
  public readonly environment: appconfig.Environment;
  public readonly strategy: appconfig.DeploymentStrategy;
  /** The hosted feature-flag profile (an L1: the L2 would also create and deploy a version). */
  public readonly profile: appconfig.CfnConfigurationProfile;
  /** Adds the flags of newly registered workflows (`functions/kill-switch-sync`). */
  public readonly syncFunction: LedgerFunction;
  /** The CDK provider framework in front of `syncFunction`. */
  public readonly syncProvider: Provider;
  /** The custom resource whose `WorkflowIds` trigger the sync. */
  public readonly flags: CustomResource;

  public readonly applicationId: string;
  public readonly environmentId: string;
  public readonly profileId: string;
  public readonly strategyId: string;
  public readonly arns: KillSwitchArns;

  constructor(scope: Construct, id: string, props: KillSwitchProps) {
    super(scope, id);

    this.application = new appconfig.Application(this, 'Application', {
      applicationName: KILL_SWITCH_APPLICATION,
      description: 'Agent Ledger: the kill switch of every autonomous agent lane',
    });
    this.application.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.environment = new appconfig.Environment(this, 'Environment', {
      application: this.application,
      environmentName: props.stage,
      description: `Agent Ledger kill switch, stage ${props.stage}`,
    });
    this.environment.applyRemovalPolicy(RemovalPolicy.RETAIN);

    // No slow rollout for a stop (SPEC): every reader gets the new flags at its next poll.
    this.strategy = new appconfig.DeploymentStrategy(this, 'ImmediateStrategy', {
      deploymentStrategyName: KILL_SWITCH_STRATEGY,
      description: 'Agent Ledger kill switch: all at once, no bake time',
      rolloutStrategy: appconfig.RolloutStrategy.linear({
        growthFactor: 100,
        deploymentDuration: Duration.minutes(0),
        finalBakeTime: Duration.minutes(0),
      }),
    });

    // At `Flags/ConfigurationProfile`, where the HostedConfiguration L2 used to put it: the same logical
    // ID, so existing stacks keep their profile (a new one would start with every lane allowed).
    this.profile = new appconfig.CfnConfigurationProfile(
      new Construct(this, 'Flags'),
      'ConfigurationProfile',
      {
        applicationId: this.application.applicationId,
        name: KILL_SWITCH_PROFILE,
        type: 'AWS.AppConfig.FeatureFlags',
        locationUri: 'hosted',
        description: 'Agent Ledger kill switch: one flag per workflow autonomous lane, plus the master flag',
      },
    );
    // The profile holds every version the sync and the flips create.
    this.profile.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.applicationId = this.application.applicationId;
    this.environmentId = this.environment.environmentId;
    this.profileId = this.profile.ref;
    this.strategyId = this.strategy.deploymentStrategyId;
    this.arns = killSwitchArns(this, this);

    this.syncFunction = new LedgerFunction(this, 'Sync', {
      entry: functionEntry('kill-switch-sync'),
      description:
        'Agent Ledger: adds the kill-switch flags of newly registered workflows, never touching existing ones (custom resource)',
      memorySize: 256,
      // Not behind API Gateway: reading, writing and deploying a version, then waiting up to 20 s for it.
      timeout: Duration.seconds(60),
    }).useKillSwitch(this, 'write');
    Validations.of(this.syncFunction.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        "Invoked only synchronously (RequestResponse) by the provider framework's onEvent function, which reports a failure to CloudFormation as a FAILED custom resource, so the stack operation fails visibly; Lambda never queues an event of it to dead-letter.",
    });

    this.syncProvider = this.createProvider(props.stage);

    this.flags = new CustomResource(this, 'FlagSync', {
      serviceToken: this.syncProvider.serviceToken,
      resourceType: FLAG_SYNC_RESOURCE_TYPE,
      // Sorted: the registry's order must not trigger a sync (it would do nothing, but still run).
      properties: { WorkflowIds: [...props.workflowIds].sort() },
      // Fail the stack operation within minutes if a response never arrives (CloudFormation's default is an hour).
      serviceTimeout: Duration.minutes(5),
    });
    this.flags.node.addDependency(this.environment, this.profile, this.strategy);
  }

  /**
   * The CDK provider framework's onEvent function, as close to `LedgerFunction` as its props allow: a
   * name, a role of its own (no managed policy), JSON logs into a log group with a retention. What its
   * props cannot change is acknowledged on that function and its role only.
   */
  private createProvider(stage: string): Provider {
    const role = new iam.Role(this, 'SyncProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs: the CDK provider framework in front of the kill-switch flag sync',
    });
    const logGroup = new logs.LogGroup(this, 'SyncProviderLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      // Operational logs only: the flags live in AppConfig.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    logGroup.grantWrite(role);

    const provider = new Provider(this, 'SyncProvider', {
      onEventHandler: this.syncFunction.function,
      providerFunctionName: `agent-ledger-${stage}-kill-switch-sync-provider`,
      frameworkOnEventRole: role,
      logGroup,
      frameworkLambdaLoggingLevel: lambda.ApplicationLogLevel.INFO,
    });

    const framework = provider.node.findChild('framework-onEvent');
    Validations.of(framework).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          "CloudFormation invokes the provider framework's function asynchronously, and only to get an answer for one stack operation: an event that failed every retry is worthless afterwards, because CloudFormation has by then failed the custom resource at its 5-minute service timeout (visibly, in the stack events) and a redeploy sends a fresh event; a dead-letter queue would keep nothing worth replaying.",
      },
      {
        id: 'Serverless-LambdaDefaultMemorySize',
        reason:
          "aws-cdk-lib's provider framework function only forwards the CloudFormation event to the sync function and posts the answer back; the Provider props offer no memory setting and Lambda's 128 MB is what the framework is built and tested with.",
      },
      {
        id: 'Serverless-LambdaTracing',
        reason:
          'The provider framework function only relays the event to the sync function, which has active tracing; the Provider props offer no tracing setting, and forcing it would add an xray:Put* on Resource::* grant to a role that otherwise only invokes one function and writes one log group.',
      },
    );
    // grantInvoke names the function's ARN and "<ARN>:*"; cdk-nag names the latter after the logical ID.
    const frameworkPolicy = role.node.tryFindChild('DefaultPolicy');
    const syncFunctionId = Stack.of(this).getLogicalId(
      this.syncFunction.function.node.defaultChild as lambda.CfnFunction,
    );
    if (frameworkPolicy) {
      Validations.of(frameworkPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${syncFunctionId}.Arn>:*]`,
        reason:
          'The Provider grants the framework lambda:InvokeFunction on the sync function through grantInvoke, which also names its versions and aliases ("<function ARN>:*"); the function is this one sync function, and it publishes no version or alias.',
      });
    }
    return provider;
  }
}
