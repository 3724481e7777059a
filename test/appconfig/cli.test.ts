import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentCompleteEvent } from '#local-stack/appconfig/server.ts';
import { flagDocument, flagSetup, poll, type StandIn, session, standIn } from './stand-in.ts';

// The AWS CLI is how operators flip flags by hand (SPEC "Kill switch"); CI machines may not have it.
const cliVersion = spawnSync('aws', ['--version'], { encoding: 'utf8' });
const cliMissing = cliVersion.error !== undefined || cliVersion.status !== 0;
const suiteName = cliMissing
  ? 'the AWS CLI against the stand-in (skipped: `aws` is not installed on this machine)'
  : `the AWS CLI against the stand-in (${(cliVersion.stdout || cliVersion.stderr).trim()})`;
const run = promisify(execFile);

/**
 * Runs `aws <command> --endpoint-url <stand-in>`, the command written as an operator types it (split on
 * spaces, so no argument may contain one). Asynchronous: the stand-in lives in this process.
 */
async function aws(stand: StandIn, command: string): Promise<{ stdout: string; stderr: string }> {
  return run('aws', [...command.split(' '), '--endpoint-url', stand.url], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_DEFAULT_REGION: 'us-east-1',
      // Whatever profile the machine has must not leak in.
      AWS_CONFIG_FILE: join(stand.dataDir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(stand.dataDir, 'no-aws-credentials'),
      AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1',
    },
  });
}

async function awsJson(stand: StandIn, command: string) {
  return JSON.parse((await aws(stand, command)).stdout);
}

/** The CLI's stderr when it fails (it exits non-zero on any service error). */
async function awsError(stand: StandIn, command: string): Promise<string> {
  return aws(stand, command).then(
    () => 'the command succeeded',
    (error: { stderr: string }) => error.stderr,
  );
}

describe.skipIf(cliMissing)(suiteName, () => {
  let stand: StandIn | undefined;
  afterEach(async () => {
    await stand?.dispose();
    stand = undefined;
  });

  it('creates, versions, deploys and reads configuration end to end', { timeout: 60_000 }, async () => {
    // Prepare
    const events: DeploymentCompleteEvent[] = [];
    stand = await standIn({ onDeploymentComplete: async (event) => void events.push(event) });
    const content = join(stand.dataDir, 'flags.json');
    writeFileSync(content, flagDocument({ checkout: true }, 'from the CLI'));
    const written = join(stand.dataDir, 'created.out');
    const read = join(stand.dataDir, 'latest.out');

    // Act
    const app = await awsJson(stand, 'appconfig create-application --name ledger');
    const env = await awsJson(stand, `appconfig create-environment --application-id ${app.Id} --name local`);
    const profile = await awsJson(
      stand,
      `appconfig create-configuration-profile --application-id ${app.Id} --name kill-switch --location-uri hosted --type AWS.AppConfig.FeatureFlags`,
    );
    const version = await awsJson(
      stand,
      `appconfig create-hosted-configuration-version --application-id ${app.Id} --configuration-profile-id ${profile.Id} --content fileb://${content} --content-type application/json --version-label cli-1 ${written}`,
    );
    const deployment = await awsJson(
      stand,
      `appconfig start-deployment --application-id ${app.Id} --environment-id ${env.Id} --configuration-profile-id ${profile.Id} --configuration-version ${version.VersionNumber} --deployment-strategy-id AppConfig.AllAtOnce`,
    );
    const listed = await awsJson(stand, 'appconfig list-applications');
    const started = await awsJson(
      stand,
      'appconfigdata start-configuration-session --application-identifier ledger --environment-identifier local --configuration-profile-identifier kill-switch --required-minimum-poll-interval-in-seconds 15',
    );
    const latest = await awsJson(
      stand,
      `appconfigdata get-latest-configuration --configuration-token ${started.InitialConfigurationToken} ${read}`,
    );
    await stand.close();

    // Assess
    expect(app.Id).toMatch(/^[a-z0-9]{7}$/);
    expect(env.State).toBe('READY_FOR_DEPLOYMENT');
    expect(version).toMatchObject({
      VersionNumber: 1,
      ContentType: 'application/json',
      VersionLabel: 'cli-1',
    });
    expect(readFileSync(written, 'utf8')).toBe(readFileSync(content, 'utf8'));
    expect(deployment).toMatchObject({ DeploymentNumber: 1, State: 'COMPLETE', PercentageComplete: 100 });
    expect(listed.Items).toEqual([{ Id: app.Id, Name: 'ledger' }]);
    expect(latest).toMatchObject({
      NextPollIntervalInSeconds: 15,
      ContentType: 'application/json',
      VersionLabel: 'cli-1',
    });
    expect(JSON.parse(readFileSync(read, 'utf8'))).toEqual({
      checkout: { enabled: true, reason: 'from the CLI' },
    });
    expect(events.map((event) => [event.DeploymentNumber, event.ConfigurationProfile.Name])).toEqual([
      [1, 'kill-switch'],
    ]);
  });

  it('flips a flag that an SDK poller then sees, as an operator would by hand', {
    timeout: 60_000,
  }, async () => {
    // Prepare
    stand = await standIn();
    const setup = await flagSetup(stand);
    await setup.publish({ checkout: true });
    const first = await poll(stand, await session(stand));
    const content = join(stand.dataDir, 'off.json');
    writeFileSync(content, flagDocument({ checkout: false }, 'paged at 3am'));

    // Act
    const version = await awsJson(
      stand,
      `appconfig create-hosted-configuration-version --application-id ledger --configuration-profile-id kill-switch --content fileb://${content} --content-type application/json --latest-version-number 1 ${join(stand.dataDir, 'out')}`,
    );
    await aws(
      stand,
      `appconfig start-deployment --application-id ledger --environment-id local --configuration-profile-id kill-switch --configuration-version ${version.VersionNumber} --deployment-strategy-id ${setup.ids.strategy}`,
    );
    const after = await poll(stand, first.next);

    // Assess
    expect(version.VersionNumber).toBe(2);
    expect(JSON.parse(after.text)).toEqual({ checkout: { enabled: false } });
  });

  it('reports AWS-shaped errors as the CLI prints them', { timeout: 60_000 }, async () => {
    // Prepare
    stand = await standIn();
    const { ids } = await flagSetup(stand);
    const invalid = join(stand.dataDir, 'invalid.json');
    writeFileSync(invalid, '{"version":"2","flags":{}}');
    const valid = join(stand.dataDir, 'valid.json');
    writeFileSync(valid, flagDocument({ checkout: true }));

    // Act
    const missing = await awsError(stand, 'appconfig get-application --application-id nope123');
    const rejected = await awsError(
      stand,
      `appconfig create-hosted-configuration-version --application-id ${ids.application} --configuration-profile-id ${ids.profile} --content fileb://${invalid} --content-type application/json ${join(stand.dataDir, 'out')}`,
    );
    const stale = await awsError(
      stand,
      `appconfig create-hosted-configuration-version --application-id ${ids.application} --configuration-profile-id ${ids.profile} --content fileb://${valid} --content-type application/json --latest-version-number 3 ${join(stand.dataDir, 'out')}`,
    );

    // Assess
    expect(missing).toContain(
      "An error occurred (ResourceNotFoundException) when calling the GetApplication operation: Application 'nope123' not found",
    );
    expect(rejected).toContain('(BadRequestException)');
    expect(rejected).toContain('/version must be the string "1"');
    expect(stale).toContain('An error occurred (ConflictException)');
  });
});
