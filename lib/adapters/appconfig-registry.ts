import { RegistryUnavailableError } from '#lib/errors.ts';
import { parseRegistryContent, type RegistrySource, type WorkflowRegistry } from '#lib/registry/workflows.ts';
import {
  type ConfigurationLocation,
  type ConfigurationSessions,
  type Deployed,
  DeployedConfiguration,
  NothingDeployedError,
} from './appconfig-data.ts';
import type { HostedProfile } from './appconfig-hosted.ts';

/**
 * The deployed workflow registry, read through AppConfigData and validated on load. A version that does
 * not validate, or a failed poll, leaves the last good registry in use (reported to `onStale`, which the
 * handlers log as an error): a bad deployment must not stop ingest. With no good version read yet, reads
 * fail with RegistryUnavailableError (503: nothing stored, retry).
 */
export class AppConfigRegistrySource implements RegistrySource {
  readonly #registry: DeployedConfiguration<WorkflowRegistry>;

  constructor(
    sessions: ConfigurationSessions,
    location: ConfigurationLocation,
    options: { pollSeconds: number; onStale?: (error: unknown) => void; now?: () => number },
  ) {
    this.#registry = new DeployedConfiguration(sessions, location, {
      pollSeconds: options.pollSeconds,
      parse: (content, version) => parseRegistryContent(content, `workflow registry version ${version}`),
      onError: 'keep-last-good',
      ...(options.onStale ? { onStale: options.onStale } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  }

  async current(): Promise<WorkflowRegistry> {
    return (await this.deployed()).value;
  }

  /** The registry with its AppConfig version label. */
  async deployed(): Promise<Deployed<WorkflowRegistry>> {
    try {
      return await this.#registry.read();
    } catch (error) {
      const why =
        error instanceof NothingDeployedError
          ? 'no version is deployed to AppConfig'
          : error instanceof Error
            ? error.message
            : String(error);
      throw new RegistryUnavailableError(`the workflow registry cannot be read: ${why}`, { cause: error });
    }
  }
}

/**
 * The registry version the profile has deployed, read through the control plane (the CLI and the local
 * stack's start, which need the version number), validated; undefined when none is deployed. `where`
 * names it in errors, e.g. "on the local stack".
 */
export async function readDeployedRegistry(
  profile: HostedProfile,
  where: string,
): Promise<{ registry: WorkflowRegistry; versionNumber: number; source: string } | undefined> {
  const version = await profile.deployedVersion();
  if (version === undefined) return undefined;
  const source = `the workflow registry deployed ${where} (version ${version})`;
  const registry = parseRegistryContent(await profile.content(version), source);
  return { registry, versionNumber: Number(version), source };
}

export interface RegistryDeployment {
  /** The hosted version now deployed. */
  readonly versionNumber: number;
  /** False when the latest version already had this content: nothing new was written or deployed. */
  readonly changed: boolean;
  readonly deploymentNumber?: number;
}

/**
 * Deploys a registry document as a new hosted version of the freeform profile, after validating it
 * (`source` names it in errors). Content equal to the latest version's (ignoring formatting) writes
 * nothing (when it is deployed), so restarts and repeated deploys do not pile up versions.
 */
export async function deployRegistry(
  profile: HostedProfile,
  content: string,
  input: { source: string; description: string },
): Promise<RegistryDeployment & { registry: WorkflowRegistry }> {
  const registry = parseRegistryContent(content, input.source);
  const canonical = JSON.stringify(JSON.parse(content.replace(/^\uFEFF/, '')));
  const latest = await profile.latestVersionNumber();
  if (latest !== undefined && (await sameContent(profile, latest, canonical))) {
    if ((await profile.deployedVersion()) === String(latest)) {
      return { registry, versionNumber: latest, changed: false };
    }
    // Written but never deployed (a deployment that failed): deploy it now.
    const deploymentNumber = await profile.deploy(latest, input.description);
    return { registry, versionNumber: latest, changed: true, deploymentNumber };
  }
  const versionNumber = await profile.createVersion({
    content: canonical,
    description: input.description,
    latestVersionNumber: latest,
  });
  const deploymentNumber = await profile.deploy(versionNumber, input.description);
  return { registry, versionNumber, changed: true, deploymentNumber };
}

async function sameContent(profile: HostedProfile, version: number, canonical: string): Promise<boolean> {
  try {
    return JSON.stringify(JSON.parse(await profile.content(String(version)))) === canonical;
  } catch {
    return false;
  }
}
