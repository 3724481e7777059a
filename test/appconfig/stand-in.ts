import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppConfigClient,
  CreateApplicationCommand,
  CreateConfigurationProfileCommand,
  CreateDeploymentStrategyCommand,
  CreateEnvironmentCommand,
  CreateHostedConfigurationVersionCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import {
  AppConfigData,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
import { type DeploymentCompleteEvent, startAppConfigStandIn } from '#local-stack/appconfig/server.ts';

/** A stand-in on a free port in its own temporary data directory, and SDK clients pointed at it. */
export async function standIn(
  options: {
    dataDir?: string;
    onDeploymentComplete?: (event: DeploymentCompleteEvent) => Promise<void>;
  } = {},
) {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'appconfig-stand-in-'));
  const server = await startAppConfigStandIn({
    port: 0,
    dataDir,
    onDeploymentComplete: options.onDeploymentComplete,
  });
  const config = {
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  };
  const appconfig = new AppConfigClient(config);
  const data = new AppConfigData(config);
  return {
    url: server.url,
    dataDir,
    appconfig,
    data,
    async close() {
      appconfig.destroy();
      data.destroy();
      await server.close();
    },
    /** Closes and removes the data directory (for tests that do not restart on it). */
    async dispose() {
      await this.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type StandIn = Awaited<ReturnType<typeof standIn>>;

/** A feature-flag document in AppConfig's format: each flag with a `reason` string attribute. */
export function flagDocument(flags: Record<string, boolean>, reason = 'test'): string {
  const keys = Object.keys(flags);
  return JSON.stringify({
    version: '1',
    flags: Object.fromEntries(
      keys.map((key) => [
        key,
        { name: `${key} flag`, attributes: { reason: { constraints: { type: 'string' } } } },
      ]),
    ),
    values: Object.fromEntries(keys.map((key) => [key, { enabled: flags[key], reason }])),
  });
}

/** An application, an environment, a feature-flag profile and an all-at-once strategy, all named. */
export async function flagSetup(stand: StandIn, names = { application: 'ledger', environment: 'local' }) {
  const application = await stand.appconfig.send(new CreateApplicationCommand({ Name: names.application }));
  const environment = await stand.appconfig.send(
    new CreateEnvironmentCommand({ ApplicationId: application.Id, Name: names.environment }),
  );
  const profile = await stand.appconfig.send(
    new CreateConfigurationProfileCommand({
      ApplicationId: application.Id,
      Name: 'kill-switch',
      LocationUri: 'hosted',
      Type: 'AWS.AppConfig.FeatureFlags',
    }),
  );
  const strategy = await stand.appconfig.send(
    new CreateDeploymentStrategyCommand({
      Name: 'immediate',
      DeploymentDurationInMinutes: 0,
      GrowthFactor: 100,
      FinalBakeTimeInMinutes: 0,
    }),
  );
  const ids = {
    application: application.Id as string,
    environment: environment.Id as string,
    profile: profile.Id as string,
    strategy: strategy.Id as string,
  };

  return {
    ids,
    /** Creates a hosted version with these flags and deploys it; returns the deployment. */
    async publish(flags: Record<string, boolean>, reason = 'test') {
      const version = await stand.appconfig.send(
        new CreateHostedConfigurationVersionCommand({
          ApplicationId: ids.application,
          ConfigurationProfileId: ids.profile,
          Content: Buffer.from(flagDocument(flags, reason)),
          ContentType: 'application/json',
        }),
      );
      return stand.appconfig.send(
        new StartDeploymentCommand({
          ApplicationId: ids.application,
          EnvironmentId: ids.environment,
          ConfigurationProfileId: ids.profile,
          ConfigurationVersion: String(version.VersionNumber),
          DeploymentStrategyId: ids.strategy,
        }),
      );
    },
  };
}

/** Starts an AppConfigData session by names, the way an application would. */
export async function session(stand: StandIn, names = { application: 'ledger', environment: 'local' }) {
  const started = await stand.data.send(
    new StartConfigurationSessionCommand({
      ApplicationIdentifier: names.application,
      EnvironmentIdentifier: names.environment,
      ConfigurationProfileIdentifier: 'kill-switch',
      RequiredMinimumPollIntervalInSeconds: 1,
    }),
  );
  return started.InitialConfigurationToken as string;
}

/** One GetLatestConfiguration: the body as text ('' when unchanged) and the next token. */
export async function poll(stand: StandIn, token: string) {
  const response = await stand.data.send(new GetLatestConfigurationCommand({ ConfigurationToken: token }));
  return {
    // The SDK gives `null` for the empty body AppConfigData sends when nothing changed.
    text: Buffer.from(response.Configuration ?? new Uint8Array()).toString('utf8'),
    next: response.NextPollConfigurationToken as string,
    response,
  };
}
