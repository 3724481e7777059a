import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AppConfigClient,
  ConflictException,
  CreateHostedConfigurationVersionCommand,
  ListHostedConfigurationVersionsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { afterEach, describe, expect, it } from 'vitest';
import { HostedProfile } from '#lib/adapters/appconfig-hosted.ts';
import { AppConfigRegistrySource, deployRegistry } from '#lib/adapters/appconfig-registry.ts';
import { RegistryUnavailableError } from '#lib/errors.ts';
import { LOCAL_ENVIRONMENT } from '#lib/kill-switch/names.ts';
import { defaultRegistry, demoWorkflows } from '#lib/registry/default-registry.ts';
import { REGISTRY_PROFILE, REGISTRY_PROFILE_TYPE } from '#lib/registry/names.ts';
import { InvalidRegistryError } from '#lib/registry/workflows.ts';
import { ensureKillSwitch, ensureProfile, type KillSwitchIds } from '#local-stack/provision-kill-switch.ts';
import { ensureRegistry } from '#local-stack/provision-registry.ts';
import { type StandIn, standIn } from './stand-in.ts';

const running: StandIn[] = [];
afterEach(async () => {
  for (const stand of running.splice(0)) await stand.dispose();
});

/** A stand-in with the kill switch's application, environment and strategy, as `npm start` makes them. */
async function provisioned(): Promise<{ stand: StandIn; killSwitch: KillSwitchIds }> {
  const stand = await standIn();
  running.push(stand);
  return { stand, killSwitch: await ensureKillSwitch(stand.appconfig) };
}

function registryFile(workflows: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'registry-')), 'registry.json');
  writeFileSync(path, JSON.stringify(workflows, null, 2));
  return path;
}

const withInvoiceMatching = [
  ...demoWorkflows,
  { ...demoWorkflows[1], workflowId: 'invoice-matching', unitOfValue: 'invoice matched' },
];

async function versionCount(client: AppConfigClient, application: string, profile: string) {
  const { Items } = await client.send(
    new ListHostedConfigurationVersionsCommand({
      ApplicationId: application,
      ConfigurationProfileId: profile,
    }),
  );
  return Items?.length ?? 0;
}

/** Writes and deploys content straight through the AppConfig API, as the console would (no validation). */
async function deployRaw(stand: StandIn, killSwitch: KillSwitchIds, profile: string, content: string) {
  const version = await stand.appconfig.send(
    new CreateHostedConfigurationVersionCommand({
      ApplicationId: killSwitch.application,
      ConfigurationProfileId: profile,
      Content: Buffer.from(content),
      ContentType: 'application/json',
    }),
  );
  await stand.appconfig.send(
    new StartDeploymentCommand({
      ApplicationId: killSwitch.application,
      EnvironmentId: killSwitch.environment,
      ConfigurationProfileId: profile,
      ConfigurationVersion: String(version.VersionNumber),
      DeploymentStrategyId: killSwitch.strategy,
    }),
  );
}

describe('ensureRegistry: the local stack provisions the registry into the stand-in', () => {
  it('deploys the shipped registry once, and keeps the deployed one across restarts', async () => {
    // Prepare
    const { stand, killSwitch } = await provisioned();

    // Act
    const first = await ensureRegistry(stand.appconfig, killSwitch, undefined);
    const restart = await ensureRegistry(stand.appconfig, killSwitch, undefined);

    // Assess
    expect(first.versionNumber).toBe(1);
    expect(first.registry.all()).toEqual(defaultRegistry.all());
    expect(restart).toMatchObject({ profile: first.profile, versionNumber: 1 });
    expect(restart.summary).toContain('kept');
    expect(await versionCount(stand.appconfig, killSwitch.application, first.profile)).toBe(1);
  });

  it('deploys LEDGER_REGISTRY_FILE as a new version when it differs, and writes nothing when it does not', async () => {
    // Prepare
    const { stand, killSwitch } = await provisioned();
    await ensureRegistry(stand.appconfig, killSwitch, undefined);
    const file = registryFile(withInvoiceMatching);

    // Act
    const changed = await ensureRegistry(stand.appconfig, killSwitch, file);
    const unchanged = await ensureRegistry(stand.appconfig, killSwitch, file);

    // Assess
    expect(changed.versionNumber).toBe(2);
    expect(changed.registry.ids()).toEqual(['support-triage', 'code-review', 'invoice-matching']);
    expect(unchanged.versionNumber).toBe(2);
    expect(unchanged.summary).toContain('unchanged');
    expect(await versionCount(stand.appconfig, killSwitch.application, changed.profile)).toBe(2);
  });

  it('refuses an invalid file, naming it and each problem, and leaves the deployed version alone', async () => {
    // Prepare
    const { stand, killSwitch } = await provisioned();
    const { profile } = await ensureRegistry(stand.appconfig, killSwitch, undefined);
    const file = registryFile([{ ...demoWorkflows[0], reviewSampleRate: 0.5, owner: '' }]);

    // Act
    const attempt = ensureRegistry(stand.appconfig, killSwitch, file);

    // Assess
    await expect(attempt).rejects.toThrow(InvalidRegistryError);
    await expect(attempt).rejects.toThrow(
      `workflow registry file ${file} is invalid: $[0].owner: must not be empty; $[0].reviewSampleRate: must be at most 10%`,
    );
    expect(await versionCount(stand.appconfig, killSwitch.application, profile)).toBe(1);
  });
});

describe('AppConfigRegistrySource: what the handlers read', () => {
  // By names for the environment and profile, IDs for the application: AppConfigData takes either.
  const location = (killSwitch: KillSwitchIds) => ({
    application: killSwitch.application,
    environment: LOCAL_ENVIRONMENT,
    profile: REGISTRY_PROFILE,
  });

  it('reads the deployed registry, and a newly deployed one at the next poll', async () => {
    // Prepare
    const { stand, killSwitch } = await provisioned();
    const { profile } = await ensureRegistry(stand.appconfig, killSwitch, undefined);
    const source = new AppConfigRegistrySource(stand.data, location(killSwitch), { pollSeconds: 0 });
    const before = await source.deployed();

    // Act
    await deployRegistry(
      new HostedProfile(stand.appconfig, { ...killSwitch, profile }),
      JSON.stringify(withInvoiceMatching),
      { source: 'test', description: 'invoice matching registered' },
    );
    const after = await source.deployed();

    // Assess
    expect(before.value.ids()).toEqual(['support-triage', 'code-review']);
    expect(after.value.ids()).toEqual(['support-triage', 'code-review', 'invoice-matching']);
    expect(after.version).not.toBe(before.version);
  });

  it('keeps serving the last good registry when an invalid version is deployed, and reports why', async () => {
    // Prepare
    const { stand, killSwitch } = await provisioned();
    const { profile } = await ensureRegistry(stand.appconfig, killSwitch, undefined);
    const stale: unknown[] = [];
    const source = new AppConfigRegistrySource(stand.data, location(killSwitch), {
      pollSeconds: 0,
      onStale: (error) => stale.push(error),
    });
    await source.current();

    // Act
    await deployRaw(
      stand,
      killSwitch,
      profile,
      JSON.stringify([{ ...demoWorkflows[0], retentionMonths: 6 }]),
    );
    const served = await source.current();

    // Assess
    expect(served.ids()).toEqual(['support-triage', 'code-review']);
    expect(stale).toHaveLength(1);
    expect(stale[0]).toBeInstanceOf(InvalidRegistryError);
    expect((stale[0] as InvalidRegistryError).problems).toEqual([
      expect.stringMatching(/^\$\[0\]\.retentionMonths: /),
    ]);
  });

  it('fails with RegistryUnavailableError when no good version was ever read', async () => {
    // Prepare
    const { stand, killSwitch } = await provisioned();
    const { profile } = await ensureRegistry(stand.appconfig, killSwitch, undefined);
    await deployRaw(stand, killSwitch, profile, '{"not": "a list"');
    const fresh = new AppConfigRegistrySource(stand.data, location(killSwitch), { pollSeconds: 0 });

    // Act
    const read = fresh.current();

    // Assess
    await expect(read).rejects.toThrow(RegistryUnavailableError);
    await expect(read).rejects.toThrow(
      /the workflow registry cannot be read: workflow registry version .* is not valid JSON/,
    );
  });

  it('says nothing is deployed when the profile has no deployment', async () => {
    // Prepare
    const { stand, killSwitch } = await provisioned();
    await ensureProfile(stand.appconfig, killSwitch.application, REGISTRY_PROFILE, REGISTRY_PROFILE_TYPE);
    const source = new AppConfigRegistrySource(stand.data, location(killSwitch), { pollSeconds: 0 });

    // Act / Assess
    // AppConfig's own answer is passed on.
    await expect(source.current()).rejects.toThrow(
      /^the workflow registry cannot be read: no configuration has been deployed for configuration profile/,
    );
  });
});

describe('HostedProfile.deploy: one deployment per environment at a time', () => {
  /** AppConfig answers ConflictException while another deployment holds the environment; the stand-in completes at once. */
  function conflictingFor(client: AppConfigClient, conflicts: number): AppConfigClient {
    let left = conflicts;
    return new Proxy(client, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return (command: unknown) => {
          if (command instanceof StartDeploymentCommand && left-- > 0) {
            return Promise.reject(
              new ConflictException({ message: 'deployment in progress', $metadata: {} }),
            );
          }
          return target.send(command as never);
        };
      },
    });
  }

  it('waits its turn while another deployment is in progress', async () => {
    // Prepare
    const { stand, killSwitch } = await provisioned();
    const { profile } = await ensureRegistry(stand.appconfig, killSwitch, undefined);
    const hosted = new HostedProfile(
      conflictingFor(stand.appconfig, 2),
      { ...killSwitch, profile },
      {
        sleep: async () => {},
      },
    );

    // Act
    const result = await deployRegistry(hosted, JSON.stringify(withInvoiceMatching), {
      source: 'test',
      description: 'while a flip deploys',
    });

    // Assess
    expect(result).toMatchObject({ changed: true, versionNumber: 2 });
    expect(await hosted.deployedVersion()).toBe('2');
  });

  it('gives up with the conflict once its wait is over', async () => {
    // Prepare
    const { stand, killSwitch } = await provisioned();
    const { profile } = await ensureRegistry(stand.appconfig, killSwitch, undefined);
    const hosted = new HostedProfile(
      conflictingFor(stand.appconfig, 1_000),
      { ...killSwitch, profile },
      {
        conflictRetryMs: 50,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 10))),
      },
    );

    // Act / Assess
    await expect(hosted.deploy(1, 'never gets its turn')).rejects.toThrow(ConflictException);
  });
});
