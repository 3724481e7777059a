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
import type { ConfigurationLocation } from './appconfig-data.ts';

/** A hosted profile, its environment, and the strategy its deployments use. */
export interface HostedLocation extends ConfigurationLocation {
  readonly strategy: string;
}

export interface HostedProfileOptions {
  /** How long `deploy` waits for a deployment to complete (20 s: inside API Gateway's 29 s). */
  readonly deploymentTimeoutMs?: number;
  /** How long `deploy` keeps retrying while another deployment holds the environment. */
  readonly conflictRetryMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const decoder = new TextDecoder();
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The control-plane calls on one hosted configuration profile: its versions, and deployments of them to
 * one environment. AppConfig runs one deployment per environment at a time, and the kill switch and the
 * workflow registry share the environment, so `deploy` waits its turn (ConflictException) instead of
 * failing a flip because the registry was being deployed a second earlier.
 */
export class HostedProfile {
  readonly #deploymentTimeoutMs: number;
  readonly #conflictRetryMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: AppConfigClient,
    readonly location: HostedLocation,
    options: HostedProfileOptions = {},
  ) {
    this.#deploymentTimeoutMs = options.deploymentTimeoutMs ?? 20_000;
    this.#conflictRetryMs = options.conflictRetryMs ?? 15_000;
    this.#sleep = options.sleep ?? wait;
  }

  /** The highest hosted version number, or undefined when there is none. */
  async latestVersionNumber(): Promise<number | undefined> {
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
    return versionNumber === 0 ? undefined : versionNumber;
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

  /**
   * Writes a JSON version labelled `v<n>`. With `latestVersionNumber` it is guarded by
   * Latest-Version-Number: a concurrent writer makes it throw ConflictException.
   */
  async createVersion(input: {
    content: string;
    description: string;
    latestVersionNumber: number | undefined;
  }): Promise<number> {
    const latest = input.latestVersionNumber ?? 0;
    const created = await this.client.send(
      new CreateHostedConfigurationVersionCommand({
        ApplicationId: this.location.application,
        ConfigurationProfileId: this.location.profile,
        Content: new TextEncoder().encode(input.content),
        ContentType: 'application/json',
        Description: input.description.slice(0, 1024),
        ...(input.latestVersionNumber === undefined ? {} : { LatestVersionNumber: latest }),
        VersionLabel: `v${latest + 1}`,
      }),
    );
    return created.VersionNumber ?? latest + 1;
  }

  /** Deploys a version with the location's strategy and waits until AppConfig says it is complete. */
  async deploy(versionNumber: number, description: string): Promise<number> {
    const deadline = Date.now() + this.#conflictRetryMs;
    for (;;) {
      try {
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
        return deploymentNumber;
      } catch (error) {
        // Another deployment to the environment is in progress: with immediate strategies, seconds.
        if (!(error instanceof ConflictException) || Date.now() >= deadline) throw error;
        await this.#sleep(500);
      }
    }
  }

  /** The configuration version of this profile's newest completed deployment, if any. */
  deployedVersion(): Promise<string | undefined> {
    return this.previousVersion(Number.MAX_SAFE_INTEGER);
  }

  /** The configuration version this profile had deployed before `deploymentNumber`, if any. */
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

  async #awaitDeployment(deploymentNumber: number): Promise<void> {
    const deadline = Date.now() + this.#deploymentTimeoutMs;
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
      if (Date.now() > deadline) {
        throw new Error(
          `AppConfig deployment ${deploymentNumber} did not complete within ${Math.round(this.#deploymentTimeoutMs / 1000)} s`,
        );
      }
      await this.#sleep(500);
    }
  }
}
