import {
  type AppConfigClient,
  CreateApplicationCommand,
  CreateConfigurationProfileCommand,
  CreateDeploymentStrategyCommand,
  CreateEnvironmentCommand,
  ListApplicationsCommand,
  ListConfigurationProfilesCommand,
  ListDeploymentStrategiesCommand,
  ListEnvironmentsCommand,
} from '@aws-sdk/client-appconfig';
import { AppConfigFlagWriter } from '#lib/adapters/appconfig-flags.ts';
import {
  KILL_SWITCH_APPLICATION,
  KILL_SWITCH_PROFILE,
  KILL_SWITCH_STRATEGY,
  LOCAL_ENVIRONMENT,
} from '#lib/kill-switch/names.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';

export interface KillSwitchIds {
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
  readonly strategy: string;
}

/**
 * The local twin of the CDK kill-switch construct, through the AppConfig API itself: the application,
 * the `local` environment, the feature-flag profile and the immediate strategy. What exists is kept, so
 * paused lanes stay paused across restarts; `syncKillSwitchFlags` then adds the registry's flags.
 */
export async function ensureKillSwitch(client: AppConfigClient): Promise<KillSwitchIds> {
  const application =
    (await client.send(new ListApplicationsCommand({}))).Items?.find(
      (item) => item.Name === KILL_SWITCH_APPLICATION,
    )?.Id ?? (await client.send(new CreateApplicationCommand({ Name: KILL_SWITCH_APPLICATION }))).Id;
  if (!application) throw new Error('the AppConfig stand-in created no application');

  const environment =
    (await client.send(new ListEnvironmentsCommand({ ApplicationId: application }))).Items?.find(
      (item) => item.Name === LOCAL_ENVIRONMENT,
    )?.Id ??
    (await client.send(new CreateEnvironmentCommand({ ApplicationId: application, Name: LOCAL_ENVIRONMENT })))
      .Id;

  const profile = await ensureProfile(client, application, KILL_SWITCH_PROFILE, 'AWS.AppConfig.FeatureFlags');

  const strategy =
    (await client.send(new ListDeploymentStrategiesCommand({}))).Items?.find(
      (item) => item.Name === KILL_SWITCH_STRATEGY,
    )?.Id ??
    (
      await client.send(
        new CreateDeploymentStrategyCommand({
          Name: KILL_SWITCH_STRATEGY,
          Description: 'A stop takes effect at once: no gradual rollout, no bake time.',
          DeploymentDurationInMinutes: 0,
          GrowthFactor: 100,
          FinalBakeTimeInMinutes: 0,
          ReplicateTo: 'NONE',
        }),
      )
    ).Id;
  if (!environment || !strategy) throw new Error('the AppConfig stand-in did not create the kill switch');
  return { application, environment, profile, strategy };
}

/** The profile's ID by name, created (hosted, of `type`) when missing. */
export async function ensureProfile(
  client: AppConfigClient,
  application: string,
  name: string,
  type: string,
): Promise<string> {
  const profile =
    (await client.send(new ListConfigurationProfilesCommand({ ApplicationId: application }))).Items?.find(
      (item) => item.Name === name,
    )?.Id ??
    (
      await client.send(
        new CreateConfigurationProfileCommand({
          ApplicationId: application,
          Name: name,
          LocationUri: 'hosted',
          Type: type,
        }),
      )
    ).Id;
  if (!profile) throw new Error(`the AppConfig stand-in did not create the ${name} profile`);
  return profile;
}

/** The same sync the CDK's custom resource runs: add missing flags, never touch existing ones. */
export async function syncKillSwitchFlags(
  client: AppConfigClient,
  killSwitch: KillSwitchIds,
  registry: WorkflowRegistry,
): Promise<string[]> {
  return new AppConfigFlagWriter(client, killSwitch).ensureFlags(registry.ids());
}
