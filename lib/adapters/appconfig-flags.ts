import { createHash } from 'node:crypto';
import {
  type AppConfigClient,
  ConflictException,
  CreateHostedConfigurationVersionCommand,
  GetDeploymentCommand,
  GetHostedConfigurationVersionCommand,
  ListDeploymentsCommand,
  ListHostedConfigurationVersionsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import {
  type AppConfigDataClient,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
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

/** Where the kill switch lives in AppConfig (IDs or, for AppConfigData, names). */
export interface KillSwitchLocation {
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
}

const decoder = new TextDecoder();

/**
 * Reads the flags the way agents' own SDKs do: one AppConfigData session, polled no more often than
 * `pollSeconds` (AppConfig's minimum in the cloud is 15 s, which bounds the time a flip takes to show).
 * Any failure drops the cached flags and throws, so callers fail closed instead of trusting stale ones.
 */
export class AppConfigDataFlagReader implements FlagReader {
  #token: string | undefined;
  #snapshot: FlagSnapshot | undefined;
  #nextPollAt = 0;

  constructor(
    private readonly client: AppConfigDataClient,
    private readonly location: KillSwitchLocation,
    private readonly pollSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  #inFlight: Promise<FlagSnapshot> | undefined;

  async read(): Promise<FlagSnapshot> {
    if (this.#snapshot && this.now() < this.#nextPollAt) return this.#snapshot;
    // A configuration token is good for one poll: concurrent readers share the poll in flight.
    this.#inFlight ??= this.#poll().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #poll(): Promise<FlagSnapshot> {
    try {
      this.#token ??= (
        await this.client.send(
          new StartConfigurationSessionCommand({
            ApplicationIdentifier: this.location.application,
            EnvironmentIdentifier: this.location.environment,
            ConfigurationProfileIdentifier: this.location.profile,
            RequiredMinimumPollIntervalInSeconds: this.pollSeconds,
          }),
        )
      ).InitialConfigurationToken;
      const latest = await this.client.send(
        new GetLatestConfigurationCommand({ ConfigurationToken: this.#token }),
      );
      this.#token = latest.NextPollConfigurationToken;
      this.#nextPollAt =
        this.now() + Math.max(this.pollSeconds, latest.NextPollIntervalInSeconds ?? 0) * 1000;
      const content = latest.Configuration ? decoder.decode(latest.Configuration) : '';
      // An empty body means "unchanged since the last poll".
      if (content.length > 0) {
        this.#snapshot = {
          values: parseFlagValues(content),
          version: latest.VersionLabel ?? contentVersion(content),
        };
      }
      if (!this.#snapshot) throw new UnreadableFlagsError('no flag configuration is deployed');
      return this.#snapshot;
    } catch (error) {
      this.#token = undefined;
      this.#snapshot = undefined;
      throw error;
    }
  }
}

/** Versions written outside the CLI may carry no label; the content hash still names them exactly. */
function contentVersion(content: string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
}

/**
 * Flips flags the way an operator would with the AppConfig API: a new hosted version (guarded by
 * Latest-Version-Number against a concurrent flip), deployed with the kill switch's immediate strategy.
 */
export class AppConfigFlagWriter implements FlagWriter, DeployedVersions {
  constructor(
    private readonly client: AppConfigClient,
    private readonly location: KillSwitchLocation & { readonly strategy: string },
    private readonly now: () => Date = () => new Date(),
    private readonly deploymentTimeoutMs = 20_000,
  ) {}

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
      const latestNumber = latest?.versionNumber ?? 0;
      let versionNumber: number;
      try {
        const created = await this.client.send(
          new CreateHostedConfigurationVersionCommand({
            ApplicationId: this.location.application,
            ConfigurationProfileId: this.location.profile,
            Content: new TextEncoder().encode(JSON.stringify(document)),
            ContentType: 'application/json',
            Description: description.slice(0, 1024),
            ...(latest ? { LatestVersionNumber: latestNumber } : {}),
            VersionLabel: `v${latestNumber + 1}`,
          }),
        );
        versionNumber = created.VersionNumber ?? latestNumber + 1;
      } catch (error) {
        if (error instanceof ConflictException && attempt < 3) continue;
        throw error;
      }
      const deployment = await this.client.send(
        new StartDeploymentCommand({
          ApplicationId: this.location.application,
          EnvironmentId: this.location.environment,
          ConfigurationProfileId: this.location.profile,
          DeploymentStrategyId: this.location.strategy,
          ConfigurationVersion: String(versionNumber),
          Description: description.slice(0, 1024),
        }),
      );
      const deploymentNumber = deployment.DeploymentNumber ?? 0;
      await this.#awaitDeployment(deploymentNumber);
      return { deploymentNumber, configurationVersion: String(versionNumber) };
    }
  }

  async content(configurationVersion: string): Promise<string> {
    const version = await this.client.send(
      new GetHostedConfigurationVersionCommand({
        ApplicationId: this.location.application,
        ConfigurationProfileId: this.location.profile,
        VersionNumber: Number(configurationVersion),
      }),
    );
    return decoder.decode(version.Content ?? new Uint8Array());
  }

  async previousVersion(deploymentNumber: number): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListDeploymentsCommand({
          ApplicationId: this.location.application,
          EnvironmentId: this.location.environment,
          NextToken: nextToken,
        }),
      );
      const earlier = (page.Items ?? [])
        .filter((item) => (item.DeploymentNumber ?? 0) < deploymentNumber && item.State === 'COMPLETE')
        .sort((a, b) => (b.DeploymentNumber ?? 0) - (a.DeploymentNumber ?? 0));
      for (const item of earlier) {
        const deployment = await this.client.send(
          new GetDeploymentCommand({
            ApplicationId: this.location.application,
            EnvironmentId: this.location.environment,
            DeploymentNumber: item.DeploymentNumber,
          }),
        );
        if (deployment.ConfigurationProfileId === this.location.profile)
          return deployment.ConfigurationVersion;
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return undefined;
  }

  async #latest(): Promise<{ versionNumber: number; document: FeatureFlagDocument } | undefined> {
    let versionNumber = 0;
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListHostedConfigurationVersionsCommand({
          ApplicationId: this.location.application,
          ConfigurationProfileId: this.location.profile,
          NextToken: nextToken,
        }),
      );
      for (const item of page.Items ?? []) versionNumber = Math.max(versionNumber, item.VersionNumber ?? 0);
      nextToken = page.NextToken;
    } while (nextToken);
    if (versionNumber === 0) return undefined;
    return { versionNumber, document: parseFlagDocument(await this.content(String(versionNumber))) };
  }

  /**
   * The kill switch's strategy completes within seconds; this waits for AppConfig to say so, at most
   * `deploymentTimeoutMs` (20 s by default, inside API Gateway's 29 s for the flip route).
   */
  async #awaitDeployment(deploymentNumber: number): Promise<void> {
    const deadline = Date.now() + this.deploymentTimeoutMs;
    for (;;) {
      const deployment = await this.client.send(
        new GetDeploymentCommand({
          ApplicationId: this.location.application,
          EnvironmentId: this.location.environment,
          DeploymentNumber: deploymentNumber,
        }),
      );
      if (deployment.State === 'COMPLETE') return;
      if (deployment.State === 'ROLLED_BACK' || deployment.State === 'REVERTED') {
        throw new Error(`AppConfig deployment ${deploymentNumber} was ${deployment.State.toLowerCase()}`);
      }
      if (Date.now() > deadline)
        throw new Error(`AppConfig deployment ${deploymentNumber} did not complete within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
