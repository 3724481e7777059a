import { RemovalPolicy } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import { Construct } from 'constructs';
import { REGISTRY_PROFILE, REGISTRY_PROFILE_TYPE } from '#lib/registry/names.ts';
import type { KillSwitch } from './kill-switch.ts';

/**
 * How often a handler asks AppConfigData for a new registry: 45 s, the default of AppConfig's own Lambda
 * extension. A registry change is a deliberate, reviewed deployment, so a minute is fast enough.
 */
export const REGISTRY_POLL_SECONDS = 45;

/** What a function needs to read the registry: the profile, in the kill switch's application and environment. */
export interface WorkflowRegistryIds {
  readonly applicationId: string;
  readonly environmentId: string;
  readonly registryProfileId: string;
}

export interface WorkflowRegistryConfigProps {
  /** The kill switch's application, environment and immediate strategy, which the registry shares. */
  readonly killSwitch: KillSwitch;
  /** The registry document to deploy (validated JSON, as `config/workflow-registry.json`). */
  readonly content: string;
  /** A JSON Schema (draft-04, what AppConfig validators accept) that every deployed version must pass. */
  readonly jsonSchema: string;
}

/**
 * The workflow registry as versioned configuration: a freeform AppConfig profile (`workflow-registry`) in
 * the kill switch's application, a hosted version of the registry this app was synthesized with, and its
 * deployment to the stage's environment. A changed registry is a new version and a new deployment on the
 * next `cdk deploy`; earlier versions are retained, so an operator can roll back by deploying one. The
 * JSON Schema validator makes AppConfig refuse a malformed version deployed by any other route (console,
 * AWS CLI); the handlers validate again on load and keep the last good registry.
 *
 * AppConfig runs one deployment per environment at a time: the kill switch's flag sync waits for this
 * deployment (a dependency), and flips at run time wait their turn (`HostedProfile.deploy`).
 */
export class WorkflowRegistryConfig extends Construct implements WorkflowRegistryIds {
  public readonly profile: appconfig.CfnConfigurationProfile;
  public readonly version: appconfig.CfnHostedConfigurationVersion;
  public readonly deployment: appconfig.CfnDeployment;
  public readonly applicationId: string;
  public readonly environmentId: string;
  public readonly registryProfileId: string;

  constructor(scope: Construct, id: string, props: WorkflowRegistryConfigProps) {
    super(scope, id);
    const { killSwitch } = props;

    this.profile = new appconfig.CfnConfigurationProfile(this, 'Profile', {
      applicationId: killSwitch.applicationId,
      name: REGISTRY_PROFILE,
      type: REGISTRY_PROFILE_TYPE,
      locationUri: 'hosted',
      description:
        'Agent Ledger workflow registry: owners, units of value, selection scores, retention, review sampling, rollout phase and autonomy boundaries',
      validators: [{ type: 'JSON_SCHEMA', content: props.jsonSchema }],
    });
    this.profile.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.version = new appconfig.CfnHostedConfigurationVersion(this, 'Version', {
      applicationId: killSwitch.applicationId,
      configurationProfileId: this.profile.ref,
      content: props.content,
      contentType: 'application/json',
      description: 'workflow registry deployed by cdk deploy',
    });
    // A new registry replaces this resource; keeping the old version lets operators roll back to it.
    this.version.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.deployment = new appconfig.CfnDeployment(this, 'Deployment', {
      applicationId: killSwitch.applicationId,
      environmentId: killSwitch.environmentId,
      configurationProfileId: this.profile.ref,
      configurationVersion: this.version.attrVersionNumber,
      deploymentStrategyId: killSwitch.strategyId,
      description: 'workflow registry deployed by cdk deploy',
    });
    // One deployment per environment at a time: the flag sync deploys to the same environment.
    killSwitch.flags.node.addDependency(this.deployment);

    this.applicationId = killSwitch.applicationId;
    this.environmentId = killSwitch.environmentId;
    this.registryProfileId = this.profile.ref;
  }
}
