import type { AppConfigClient } from '@aws-sdk/client-appconfig';
import { HostedProfile } from '#lib/adapters/appconfig-hosted.ts';
import { deployRegistry, readDeployedRegistry } from '#lib/adapters/appconfig-registry.ts';
import { DEFAULT_REGISTRY_FILE } from '#lib/registry/default-registry.ts';
import { REGISTRY_PROFILE, REGISTRY_PROFILE_TYPE } from '#lib/registry/names.ts';
import { InvalidRegistryError, readRegistryFile, type WorkflowRegistry } from '#lib/registry/workflows.ts';
import { ensureProfile, type KillSwitchIds } from './provision-kill-switch.ts';

export interface ProvisionedRegistry {
  readonly profile: string;
  readonly versionNumber: number;
  readonly registry: WorkflowRegistry;
  /** What happened, for the start-up log. */
  readonly summary: string;
}

/**
 * The local twin of the CDK's registry profile: the freeform profile in the kill switch's application,
 * and a deployed version. `registryFile` (LEDGER_REGISTRY_FILE) is deployed when given (nothing is
 * written when it is unchanged); otherwise the deployed version is kept across restarts, and the shipped
 * registry is deployed only when none is.
 */
export async function ensureRegistry(
  client: AppConfigClient,
  killSwitch: KillSwitchIds,
  registryFile: string | undefined,
): Promise<ProvisionedRegistry> {
  const profileId = await ensureProfile(
    client,
    killSwitch.application,
    REGISTRY_PROFILE,
    REGISTRY_PROFILE_TYPE,
  );
  const profile = new HostedProfile(client, { ...killSwitch, profile: profileId });
  if (registryFile === undefined) {
    try {
      const deployed = await readDeployedRegistry(profile, 'locally');
      if (deployed) {
        const { registry, versionNumber, source } = deployed;
        return { profile: profileId, versionNumber, registry, summary: `${source} kept` };
      }
    } catch (error) {
      if (!(error instanceof InvalidRegistryError)) throw error;
      throw new InvalidRegistryError(
        `${error.message}. Deploy a valid registry at start with LEDGER_REGISTRY_FILE=<file> npm start (the shipped one is ${DEFAULT_REGISTRY_FILE})`,
        error.problems,
      );
    }
  }
  const file = registryFile ?? DEFAULT_REGISTRY_FILE;
  const result = await deployRegistry(profile, readRegistryFile(file), {
    source: `workflow registry file ${file}`,
    description: `workflow registry from ${file}`,
  });
  const summary = result.changed
    ? `workflow registry version ${result.versionNumber} deployed from ${file}`
    : `workflow registry version ${result.versionNumber} kept (${file} is unchanged)`;
  return { profile: profileId, versionNumber: result.versionNumber, registry: result.registry, summary };
}
