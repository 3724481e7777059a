import { ArnFormat, type CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import { Construct } from 'constructs';
import { type FeatureFlagDocument, initialFlagDocument } from '#lib/kill-switch/flag-document.ts';
import {
  KILL_SWITCH_APPLICATION,
  KILL_SWITCH_PROFILE,
  KILL_SWITCH_STRATEGY,
} from '#lib/kill-switch/names.ts';

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

/**
 * The `changedAt` stamped on every flag of the initial document. Fixed, never "now": the hosted version's
 * content must be the same on every synth, or a redeploy would create and deploy a new initial version
 * and silently turn every paused lane back on.
 */
export const INITIAL_FLAGS_AT = '1970-01-01T00:00:00.000Z';

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
  /** The stage: names the AppConfig environment. */
  readonly stage: string;
  /** The registered workflows: one flag each, next to the master flag. */
  readonly workflowIds: readonly string[];
}

/**
 * The kill switch (SPEC "Kill switch"): an AppConfig application, an environment for this stage, a
 * feature-flag profile with a flag per workflow whose `enabled` means "the autonomous lane is allowed",
 * plus the master flag, and a deployment strategy that takes effect at once.
 *
 * Stateful: after the first deploy the flags' state lives in hosted versions that flips create, not in
 * this stack. CloudFormation only creates the initial version and deploys it once. Its content is
 * deterministic (sorted workflow IDs, a fixed `changedAt`), so a redeploy leaves it, and the flags,
 * alone. But every property of that version and of its deployment is replace-only in CloudFormation:
 * changing the content (registering a new workflow), the description, the strategy's name, or the
 * logical IDs here creates a new version or deployment, which turns every paused lane back on (a
 * deployment the flip recorder sees like any other). test/infra/kill-switch.test.ts pins all of these,
 * so such a change is always a deliberate one.
 */
export class KillSwitch extends Construct implements KillSwitchIds {
  public readonly application: appconfig.Application;
  public readonly environment: appconfig.Environment;
  public readonly strategy: appconfig.DeploymentStrategy;
  public readonly profile: appconfig.HostedConfiguration;
  /** What the initial hosted version holds. */
  public readonly initialDocument: FeatureFlagDocument;
  /** The one deployment CloudFormation makes: the initial version, with the immediate strategy. */
  public readonly initialDeployment: appconfig.CfnDeployment;

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

    this.initialDocument = initialFlagDocument([...props.workflowIds].sort(), INITIAL_FLAGS_AT);
    this.profile = new appconfig.HostedConfiguration(this, 'Flags', {
      application: this.application,
      name: KILL_SWITCH_PROFILE,
      type: appconfig.ConfigurationType.FEATURE_FLAGS,
      // Keep this description stable: it is also the initial version's, and changing it resets the flags.
      description: 'Agent Ledger kill switch: one flag per workflow autonomous lane, plus the master flag',
      content: appconfig.ConfigurationContent.fromInlineJson(JSON.stringify(this.initialDocument)),
      deploymentStrategy: this.strategy,
      deployTo: [this.environment],
    });
    this.initialDeployment = this.profile.node.children.find(
      (child): child is appconfig.CfnDeployment => child instanceof appconfig.CfnDeployment,
    ) as appconfig.CfnDeployment;
    // The L2 already retains the hosted version; the profile holds every version a flip creates.
    (this.profile.node.findChild('ConfigurationProfile') as CfnResource).applyRemovalPolicy(
      RemovalPolicy.RETAIN,
    );
    // Every property of AWS::AppConfig::Deployment is create-only, Tags included: a new app-wide tag would
    // replace this deployment, i.e. deploy the initial flags again. A deployment needs no tags.
    this.initialDeployment.addPropertyDeletionOverride('Tags');

    this.applicationId = this.application.applicationId;
    this.environmentId = this.environment.environmentId;
    this.profileId = this.profile.configurationProfileId;
    this.strategyId = this.strategy.deploymentStrategyId;
    this.arns = killSwitchArns(this, this);
  }
}
