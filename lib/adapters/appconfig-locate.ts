import {
  type AppConfigClient,
  ListApplicationsCommand,
  ListConfigurationProfilesCommand,
  ListDeploymentStrategiesCommand,
  ListEnvironmentsCommand,
} from '@aws-sdk/client-appconfig';
import {
  KILL_SWITCH_APPLICATION,
  KILL_SWITCH_PROFILE,
  KILL_SWITCH_STRATEGY,
} from '#lib/kill-switch/names.ts';

/** The kill switch's IDs found by their names, or undefined when any part is missing. */
export async function locateKillSwitch(
  client: AppConfigClient,
  environmentName: string,
): Promise<{ application: string; environment: string; profile: string; strategy: string } | undefined> {
  const application = (await client.send(new ListApplicationsCommand({}))).Items?.find(
    (item) => item.Name === KILL_SWITCH_APPLICATION,
  )?.Id;
  if (!application) return undefined;
  const [environments, profiles, strategies] = await Promise.all([
    client.send(new ListEnvironmentsCommand({ ApplicationId: application })),
    client.send(new ListConfigurationProfilesCommand({ ApplicationId: application })),
    client.send(new ListDeploymentStrategiesCommand({})),
  ]);
  const environment = environments.Items?.find((item) => item.Name === environmentName)?.Id;
  const profile = profiles.Items?.find((item) => item.Name === KILL_SWITCH_PROFILE)?.Id;
  const strategy = strategies.Items?.find((item) => item.Name === KILL_SWITCH_STRATEGY)?.Id;
  if (!environment || !profile || !strategy) return undefined;
  return { application, environment, profile, strategy };
}
