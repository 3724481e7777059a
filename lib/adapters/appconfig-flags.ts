import { type AppConfigClient, ConflictException } from '@aws-sdk/client-appconfig';
import {
  type FeatureFlagDocument,
  parseFlagDocument,
  parseFlagValues,
  UnreadableFlagsError,
  withFlag,
  withRegisteredFlags,
} from '#lib/kill-switch/flag-document.ts';
import type {
  DeployedVersions,
  FlagChange,
  FlagReader,
  FlagSnapshot,
  FlagWriter,
  FlipResult,
} from '#lib/kill-switch/ports.ts';
import {
  type ConfigurationLocation,
  type ConfigurationSessions,
  DeployedConfiguration,
  NothingDeployedError,
} from './appconfig-data.ts';
import { type HostedLocation, HostedProfile, type HostedProfileOptions } from './appconfig-hosted.ts';

/** Where the kill switch lives in AppConfig (IDs or, for AppConfigData, names). */
export type KillSwitchLocation = ConfigurationLocation;

/**
 * Reads the flags the way agents' own SDKs do: one AppConfigData session, polled no more often than
 * `pollSeconds` (AppConfig's minimum in the cloud is 15 s, which bounds the time a flip takes to show).
 * Any failure drops the cached flags and throws, so callers fail closed instead of trusting stale ones.
 */
export class AppConfigDataFlagReader implements FlagReader {
  readonly #flags: DeployedConfiguration<FlagSnapshot['values']>;

  constructor(
    sessions: ConfigurationSessions,
    location: KillSwitchLocation,
    pollSeconds: number,
    now: () => number = Date.now,
  ) {
    this.#flags = new DeployedConfiguration(sessions, location, {
      pollSeconds,
      parse: parseFlagValues,
      onError: 'fail-closed',
      now,
    });
  }

  async read(): Promise<FlagSnapshot> {
    try {
      const { value, version } = await this.#flags.read();
      return { values: value, version };
    } catch (error) {
      if (error instanceof NothingDeployedError)
        throw new UnreadableFlagsError('no flag configuration is deployed');
      throw error;
    }
  }
}

/**
 * Flips flags the way an operator would with the AppConfig API: a new hosted version (guarded by
 * Latest-Version-Number against a concurrent flip), deployed with the kill switch's immediate strategy.
 */
export class AppConfigFlagWriter implements FlagWriter, DeployedVersions {
  readonly #profile: HostedProfile;

  constructor(
    client: AppConfigClient,
    location: HostedLocation,
    private readonly now: () => Date = () => new Date(),
    options: HostedProfileOptions = {},
  ) {
    this.#profile = new HostedProfile(client, location, options);
  }

  async currentDocument(): Promise<FeatureFlagDocument> {
    const latest = await this.#latest();
    if (!latest) throw new UnreadableFlagsError('the kill-switch profile has no hosted version yet');
    return latest.document;
  }

  async setFlag(flag: string, change: FlagChange): Promise<FlipResult> {
    const description = `${flag} ${change.enabled ? 'on' : 'off'} by ${change.changedBy}: ${change.reason}`;
    const result = await this.#writeAndDeploy(description, (latest) => {
      if (!latest) throw new UnreadableFlagsError('the kill-switch profile has no hosted version yet');
      return withFlag(latest, flag, { ...change, changedAt: this.now().toISOString() });
    });
    if (!result) throw new Error('a flip always writes a version');
    return result;
  }

  async ensureFlags(workflowIds: readonly string[]): Promise<string[]> {
    let added: string[] = [];
    await this.#writeAndDeploy('kill-switch flags for newly registered workflows', (latest) => {
      const synced = withRegisteredFlags(latest, workflowIds, this.now().toISOString());
      added = synced.added;
      return added.length > 0 ? synced.document : undefined;
    });
    return added;
  }

  /**
   * Reads the latest document, lets `change` derive the next one (undefined: nothing to write), writes it
   * guarded by Latest-Version-Number and deploys it. When a concurrent writer makes the guard fail, it
   * starts again from their version, so no change is lost.
   */
  async #writeAndDeploy(
    description: string,
    change: (latest: FeatureFlagDocument | undefined) => FeatureFlagDocument | undefined,
  ): Promise<FlipResult | undefined> {
    for (let attempt = 1; ; attempt++) {
      const latest = await this.#latest();
      const document = change(latest?.document);
      if (!document) return undefined;
      let versionNumber: number;
      try {
        versionNumber = await this.#profile.createVersion({
          content: JSON.stringify(document),
          description,
          latestVersionNumber: latest?.versionNumber,
        });
      } catch (error) {
        if (error instanceof ConflictException && attempt < 3) continue;
        throw error;
      }
      const deploymentNumber = await this.#profile.deploy(versionNumber, description);
      return { deploymentNumber, configurationVersion: String(versionNumber) };
    }
  }

  content(configurationVersion: string): Promise<string> {
    return this.#profile.content(configurationVersion);
  }

  previousVersion(deploymentNumber: number): Promise<string | undefined> {
    return this.#profile.previousVersion(deploymentNumber);
  }

  async #latest(): Promise<{ versionNumber: number; document: FeatureFlagDocument } | undefined> {
    const versionNumber = await this.#profile.latestVersionNumber();
    if (versionNumber === undefined) return undefined;
    return { versionNumber, document: parseFlagDocument(await this.content(String(versionNumber))) };
  }
}
