import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BadRequestException,
  ConflictException,
  CreateApplicationCommand,
  CreateConfigurationProfileCommand,
  CreateEnvironmentCommand,
  CreateHostedConfigurationVersionCommand,
  GetApplicationCommand,
  GetDeploymentCommand,
  GetDeploymentStrategyCommand,
  GetHostedConfigurationVersionCommand,
  ListApplicationsCommand,
  ListDeploymentStrategiesCommand,
  ListDeploymentsCommand,
  ListHostedConfigurationVersionsCommand,
  paginateListApplications,
  ResourceNotFoundException,
  StartDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import {
  BadRequestException as DataBadRequestException,
  ResourceNotFoundException as DataResourceNotFoundException,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DeploymentCompleteEvent } from '#local-stack/appconfig/server.ts';
import { flagDocument, flagSetup, poll, type StandIn, session, standIn } from './stand-in.ts';

const running: StandIn[] = [];
async function start(options: Parameters<typeof standIn>[0] = {}) {
  const stand = await standIn(options);
  running.push(stand);
  return stand;
}
/** The `Message` of an error answered to a plain fetch. */
async function messageOf(response: Response): Promise<string> {
  return ((await response.json()) as { Message: string }).Message;
}

afterEach(async () => {
  for (const stand of running.splice(0)) await stand.dispose();
  vi.restoreAllMocks();
});

describe('AppConfig and AppConfigData through the AWS SDK v3', () => {
  it('serves the deployed flags flat, then a flip deployed later, each once per token chain', async () => {
    // Prepare
    const stand = await start();
    const setup = await flagSetup(stand);
    await setup.publish({ checkout: true, refunds: true }, 'initial');
    const token = await session(stand);

    // Act
    const first = await poll(stand, token);
    const unchanged = await poll(stand, first.next);
    await setup.publish({ checkout: false, refunds: true }, 'incident 42');
    const flipped = await poll(stand, unchanged.next);
    const settled = await poll(stand, flipped.next);

    // Assess
    expect(JSON.parse(first.text)).toEqual({
      checkout: { enabled: true, reason: 'initial' },
      refunds: { enabled: true, reason: 'initial' },
    });
    expect(first.response.ContentType).toBe('application/json');
    expect(first.response.NextPollIntervalInSeconds).toBe(1);
    expect(unchanged.text).toBe('');
    // AppConfig serves a disabled flag as `{ enabled: false }` only: attributes come with enabled flags.
    expect(JSON.parse(flipped.text)).toEqual({
      checkout: { enabled: false },
      refunds: { enabled: true, reason: 'incident 42' },
    });
    expect(settled.text).toBe('');
    expect(new Set([token, first.next, unchanged.next, flipped.next, settled.next]).size).toBe(5);
  });

  it('creates hosted versions with their metadata in headers and lists them newest first', async () => {
    // Prepare
    const stand = await start();
    const { ids } = await flagSetup(stand);
    const content = flagDocument({ checkout: true });

    // Act
    const created = await stand.appconfig.send(
      new CreateHostedConfigurationVersionCommand({
        ApplicationId: ids.application,
        ConfigurationProfileId: ids.profile,
        Content: Buffer.from(content),
        ContentType: 'application/json',
        Description: 'first cut',
        VersionLabel: 'v1.0',
        LatestVersionNumber: 0,
      }),
    );
    await stand.appconfig.send(
      new CreateHostedConfigurationVersionCommand({
        ApplicationId: ids.application,
        ConfigurationProfileId: ids.profile,
        Content: Buffer.from(flagDocument({ checkout: false })),
        ContentType: 'application/json',
        LatestVersionNumber: 1,
      }),
    );
    const read = await stand.appconfig.send(
      new GetHostedConfigurationVersionCommand({
        ApplicationId: ids.application,
        ConfigurationProfileId: ids.profile,
        VersionNumber: 1,
      }),
    );
    const listed = await stand.appconfig.send(
      new ListHostedConfigurationVersionsCommand({
        ApplicationId: ids.application,
        ConfigurationProfileId: ids.profile,
      }),
    );

    // Assess
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created).toMatchObject({
      ApplicationId: ids.application,
      ConfigurationProfileId: ids.profile,
      VersionNumber: 1,
      ContentType: 'application/json',
      Description: 'first cut',
      VersionLabel: 'v1.0',
    });
    expect(Buffer.from(created.Content ?? new Uint8Array()).toString()).toBe(content);
    expect(Buffer.from(read.Content ?? new Uint8Array()).toString()).toBe(content);
    expect(listed.Items?.map((item) => item.VersionNumber)).toEqual([2, 1]);
    expect(listed.NextToken).toBeUndefined();
  });

  it('records deployments as complete at once, newest first, and resolves names as well as IDs', async () => {
    // Prepare
    const stand = await start();
    const setup = await flagSetup(stand);

    // Act
    const first = await setup.publish({ checkout: true });
    const second = await setup.publish({ checkout: false });
    const byName = await stand.appconfig.send(
      new GetDeploymentCommand({ ApplicationId: 'ledger', EnvironmentId: 'local', DeploymentNumber: 1 }),
    );
    const listed = await stand.appconfig.send(
      new ListDeploymentsCommand({
        ApplicationId: setup.ids.application,
        EnvironmentId: setup.ids.environment,
      }),
    );
    const application = await stand.appconfig.send(new GetApplicationCommand({ ApplicationId: 'ledger' }));

    // Assess
    expect(first.$metadata.httpStatusCode).toBe(201);
    expect(first).toMatchObject({
      DeploymentNumber: 1,
      State: 'COMPLETE',
      PercentageComplete: 100,
      ConfigurationName: 'kill-switch',
      ConfigurationLocationUri: 'hosted',
      ConfigurationVersion: '1',
      DeploymentStrategyId: setup.ids.strategy,
    });
    expect(first.StartedAt).toBeInstanceOf(Date);
    expect(first.EventLog?.map((event) => event.EventType)).toEqual([
      'DEPLOYMENT_COMPLETED',
      'PERCENTAGE_UPDATED',
      'DEPLOYMENT_STARTED',
    ]);
    expect(second.DeploymentNumber).toBe(2);
    expect(byName.ConfigurationVersion).toBe('1');
    expect(listed.Items?.map((item) => [item.DeploymentNumber, item.State])).toEqual([
      [2, 'COMPLETE'],
      [1, 'COMPLETE'],
    ]);
    expect(application.Id).toBe(setup.ids.application);
    expect(application.Id).toMatch(/^[a-z0-9]{7}$/);
  });

  it("serves AWS's predefined deployment strategies by ID", async () => {
    // Prepare
    const stand = await start();

    // Act
    const listed = await stand.appconfig.send(new ListDeploymentStrategiesCommand({}));
    const allAtOnce = await stand.appconfig.send(
      new GetDeploymentStrategyCommand({ DeploymentStrategyId: 'AppConfig.AllAtOnce' }),
    );

    // Assess
    expect(listed.Items?.map((item) => item.Id)).toContain('AppConfig.Linear50PercentEvery30Seconds');
    expect(allAtOnce).toMatchObject({ Name: 'AppConfig.AllAtOnce', GrowthType: 'LINEAR', GrowthFactor: 100 });
  });

  it('pages lists when asked to, and the SDK paginator walks them', async () => {
    // Prepare
    const stand = await start();
    for (const name of ['one', 'two', 'three'])
      await stand.appconfig.send(new CreateApplicationCommand({ Name: name }));

    // Act
    const firstPage = await stand.appconfig.send(new ListApplicationsCommand({ MaxResults: 2 }));
    const names: string[] = [];
    for await (const page of paginateListApplications({ client: stand.appconfig, pageSize: 1 }, {}))
      names.push(...(page.Items ?? []).map((item) => item.Name as string));

    // Assess
    expect(firstPage.Items).toHaveLength(2);
    expect(firstPage.NextToken).toEqual(expect.any(String));
    expect(names).toEqual(['one', 'two', 'three']);
  });

  it('serves a freeform profile as stored, with its own content type and version label', async () => {
    // Prepare
    const stand = await start();
    const { ids } = await flagSetup(stand);
    const profile = await stand.appconfig.send(
      new CreateConfigurationProfileCommand({
        ApplicationId: ids.application,
        Name: 'settings',
        LocationUri: 'hosted',
      }),
    );
    await stand.appconfig.send(
      new CreateHostedConfigurationVersionCommand({
        ApplicationId: ids.application,
        ConfigurationProfileId: profile.Id,
        Content: Buffer.from('retries: 3\n'),
        ContentType: 'application/x-yaml',
        VersionLabel: 'yaml-1',
      }),
    );
    await stand.appconfig.send(
      new StartDeploymentCommand({
        ApplicationId: ids.application,
        EnvironmentId: ids.environment,
        ConfigurationProfileId: 'settings',
        ConfigurationVersion: '1',
        DeploymentStrategyId: 'AppConfig.AllAtOnce',
      }),
    );

    // Act
    const started = await stand.data.send(
      new StartConfigurationSessionCommand({
        ApplicationIdentifier: ids.application,
        EnvironmentIdentifier: ids.environment,
        ConfigurationProfileIdentifier: profile.Id,
      }),
    );
    const read = await poll(stand, started.InitialConfigurationToken as string);

    // Assess
    expect(profile.Type).toBe('AWS.Freeform');
    expect(read.text).toBe('retries: 3\n');
    expect(read.response.ContentType).toBe('application/x-yaml');
    expect(read.response.VersionLabel).toBe('yaml-1');
    expect(read.response.NextPollIntervalInSeconds).toBe(60); // AppConfigData's default
  });
});

describe('the ON_DEPLOYMENT_COMPLETE hook', () => {
  it('is called once per deployment with the payload AppConfig sends an extension', async () => {
    // Prepare
    const events: DeploymentCompleteEvent[] = [];
    const stand = await start({ onDeploymentComplete: async (event) => void events.push(event) });
    const setup = await flagSetup(stand);

    // Act
    const first = await setup.publish({ checkout: true });
    await stand.appconfig.send(
      new StartDeploymentCommand({
        ApplicationId: setup.ids.application,
        EnvironmentId: setup.ids.environment,
        ConfigurationProfileId: setup.ids.profile,
        ConfigurationVersion: '1',
        DeploymentStrategyId: 'AppConfig.AllAtOnce',
        Description: 'redeploy',
      }),
    );
    await stand.close();

    // Assess
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({
      InvocationId: expect.stringMatching(/^[a-z0-9]{7}$/),
      Type: 'OnDeploymentComplete',
      Parameters: {},
      Application: { Id: setup.ids.application, Name: 'ledger' },
      Environment: { Id: setup.ids.environment, Name: 'local' },
      ConfigurationProfile: { Id: setup.ids.profile, Name: 'kill-switch' },
      DeploymentNumber: 1,
      ConfigurationVersion: '1',
    });
    expect(events[0]?.InvocationId).toBe(first.EventLog?.[0]?.ActionInvocations?.[0]?.InvocationId);
    expect(events[1]).toMatchObject({
      DeploymentNumber: 2,
      Description: 'redeploy',
      ConfigurationVersion: '1',
    });
  });

  it('runs after StartDeployment has answered, and close() waits for it', async () => {
    // Prepare
    let release: () => void = () => {};
    let finished = false;
    const stand = await start({
      onDeploymentComplete: async () => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        finished = true;
      },
    });
    const setup = await flagSetup(stand);

    // Act
    const deployment = await setup.publish({ checkout: true });
    const closing = stand.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const finishedBeforeRelease = finished;
    release();
    await closing;

    // Assess
    expect(deployment.State).toBe('COMPLETE');
    expect(finishedBeforeRelease).toBe(false);
    expect(finished).toBe(true);
  });

  it('never fails the deployment when it throws: the error is logged and kept in the event log', async () => {
    // Prepare
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const stand = await start({
      onDeploymentComplete: async () => {
        throw new Error('extension unreachable');
      },
    });
    const setup = await flagSetup(stand);

    // Act
    const deployment = await setup.publish({ checkout: true });
    // The hook runs after the response, so its error reaches the event log a moment later.
    const later = await vi.waitFor(async () => {
      const read = await stand.appconfig.send(
        new GetDeploymentCommand({ ApplicationId: 'ledger', EnvironmentId: 'local', DeploymentNumber: 1 }),
      );
      if (!read.EventLog?.[0]?.ActionInvocations?.[0]?.ErrorMessage) throw new Error('not recorded yet');
      return read;
    });

    // Assess
    expect(deployment.State).toBe('COMPLETE');
    expect(later.State).toBe('COMPLETE');
    expect(later.EventLog?.[0]?.ActionInvocations?.[0]?.ErrorMessage).toBe('extension unreachable');
    expect(logged).toHaveBeenCalledWith(
      expect.stringContaining('onDeploymentComplete failed for deployment 1'),
      expect.any(Error),
    );
  });
});

describe('persistence', () => {
  it('keeps resources, versions and deployments across a restart, and its tokens stay good', async () => {
    // Prepare
    const first = await standIn();
    const setup = await flagSetup(first);
    await setup.publish({ checkout: true });
    const token = await session(first);
    const before = await poll(first, token);
    await first.close();

    // Act
    const second = await start({ dataDir: first.dataDir });
    const applications = await second.appconfig.send(new ListApplicationsCommand({}));
    const deployments = await second.appconfig.send(
      new ListDeploymentsCommand({ ApplicationId: 'ledger', EnvironmentId: 'local' }),
    );
    const afterRestart = await poll(second, before.next);
    const fresh = await poll(second, await session(second));

    // Assess
    const stateFile = join(first.dataDir, 'appconfig', 'state.json');
    expect(existsSync(stateFile)).toBe(true);
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).applications).toHaveLength(1);
    expect(applications.Items).toEqual([{ Id: setup.ids.application, Name: 'ledger' }]);
    expect(deployments.Items?.map((item) => item.DeploymentNumber)).toEqual([1]);
    expect(afterRestart.text).toBe('');
    expect(JSON.parse(fresh.text)).toEqual({ checkout: { enabled: true, reason: 'test' } });
  });

  it('refuses to start on a state file it cannot read instead of overwriting it', async () => {
    // Prepare
    const stand = await start();
    await stand.appconfig.send(new CreateApplicationCommand({ Name: 'kept' }));
    await stand.close();
    const stateFile = join(stand.dataDir, 'appconfig', 'state.json');
    writeFileSync(stateFile, '{ not json');

    // Act
    const outcome = await standIn({ dataDir: stand.dataDir }).then(
      () => 'started',
      (error: Error) => error.message,
    );

    // Assess
    expect(outcome).toContain('not readable JSON');
    expect(readFileSync(stateFile, 'utf8')).toBe('{ not json');
    rmSync(stateFile);
  });
});

describe('errors, shaped the way AWS sends them', () => {
  it('raises ResourceNotFoundException for an unknown application', async () => {
    // Prepare
    const stand = await start();

    // Act
    const error = await stand.appconfig
      .send(new CreateEnvironmentCommand({ ApplicationId: 'nope123', Name: 'dev' }))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as ResourceNotFoundException).message).toBe("Application 'nope123' not found");
    expect((error as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
  });

  it('raises BadRequestException saying what is wrong with an invalid feature-flag document', async () => {
    // Prepare
    const stand = await start();
    const { ids } = await flagSetup(stand);
    const invalid = {
      version: '1',
      flags: { checkout: { name: 'Checkout' } },
      values: { checkout: { enabled: 'yes' } },
    };

    // Act
    const error = await stand.appconfig
      .send(
        new CreateHostedConfigurationVersionCommand({
          ApplicationId: ids.application,
          ConfigurationProfileId: ids.profile,
          Content: Buffer.from(JSON.stringify(invalid)),
          ContentType: 'application/json',
        }),
      )
      .catch((caught: unknown) => caught);
    const versions = await stand.appconfig.send(
      new ListHostedConfigurationVersionsCommand({
        ApplicationId: ids.application,
        ConfigurationProfileId: ids.profile,
      }),
    );

    // Assess
    expect(error).toBeInstanceOf(BadRequestException);
    expect((error as BadRequestException).message).toContain(
      '/values/checkout/enabled must be true or false',
    );
    expect((error as BadRequestException).Reason).toBe('InvalidConfiguration');
    expect((error as BadRequestException).Details?.InvalidConfiguration?.[0]?.Location).toBe(
      '/values/checkout/enabled',
    );
    expect(versions.Items).toEqual([]);
  });

  it('raises ConflictException when Latest-Version-Number is stale', async () => {
    // Prepare
    const stand = await start();
    const { ids } = await flagSetup(stand);
    const create = (latest: number) =>
      stand.appconfig.send(
        new CreateHostedConfigurationVersionCommand({
          ApplicationId: ids.application,
          ConfigurationProfileId: ids.profile,
          Content: Buffer.from(flagDocument({ checkout: true })),
          ContentType: 'application/json',
          LatestVersionNumber: latest,
        }),
      );
    await create(0);
    await create(1);

    // Act
    const error = await create(1).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ConflictException);
    expect((error as ConflictException).message).toContain('the latest version');
    expect((error as ConflictException).$metadata.httpStatusCode).toBe(409);
  });

  it('raises BadRequestException for a reused or forged configuration token', async () => {
    // Prepare
    const stand = await start();
    const setup = await flagSetup(stand);
    await setup.publish({ checkout: true });
    const token = await session(stand);
    await poll(stand, token);

    // Act
    const reused = await poll(stand, token).catch((caught: unknown) => caught);
    const forged = await poll(stand, 'not-a-token').catch((caught: unknown) => caught);

    // Assess
    expect(reused).toBeInstanceOf(DataBadRequestException);
    expect((reused as DataBadRequestException).message).toContain('already used');
    expect((reused as DataBadRequestException).Details?.InvalidParameters?.ConfigurationToken?.Problem).toBe(
      'Expired',
    );
    expect(forged).toBeInstanceOf(DataBadRequestException);
    expect((forged as DataBadRequestException).Details?.InvalidParameters?.ConfigurationToken?.Problem).toBe(
      'Corrupted',
    );
  });

  it('raises ResourceNotFoundException from AppConfigData for unknown names and before any deployment', async () => {
    // Prepare
    const stand = await start();
    await flagSetup(stand);

    // Act
    const unknown = await stand.data
      .send(
        new StartConfigurationSessionCommand({
          ApplicationIdentifier: 'ledger',
          EnvironmentIdentifier: 'prod',
          ConfigurationProfileIdentifier: 'kill-switch',
        }),
      )
      .catch((caught: unknown) => caught);
    const token = await session(stand);
    const undeployed = await poll(stand, token).catch((caught: unknown) => caught);

    // Assess
    expect(unknown).toBeInstanceOf(DataResourceNotFoundException);
    expect((unknown as DataResourceNotFoundException).ResourceType).toBe('Environment');
    expect(undeployed).toBeInstanceOf(DataResourceNotFoundException);
    expect((undeployed as DataResourceNotFoundException).ResourceType).toBe('Deployment');
  });

  it('keeps a token usable after "nothing deployed yet", so a poller can start early', async () => {
    // Prepare
    const stand = await start();
    const setup = await flagSetup(stand);
    const token = await session(stand);
    await poll(stand, token).catch(() => undefined);
    await setup.publish({ checkout: true });

    // Act
    const read = await poll(stand, token);

    // Assess
    expect(JSON.parse(read.text)).toEqual({ checkout: { enabled: true, reason: 'test' } });
  });

  it('refuses to stop a deployment that is already complete, and a stale LatestDeploymentNumber', async () => {
    // Prepare
    const stand = await start();
    const setup = await flagSetup(stand);
    await setup.publish({ checkout: true });

    // Act
    const stop = await stand.appconfig
      .send(
        new StopDeploymentCommand({ ApplicationId: 'ledger', EnvironmentId: 'local', DeploymentNumber: 1 }),
      )
      .catch((caught: unknown) => caught);
    const stale = await stand.appconfig
      .send(
        new StartDeploymentCommand({
          ApplicationId: 'ledger',
          EnvironmentId: 'local',
          ConfigurationProfileId: 'kill-switch',
          ConfigurationVersion: '1',
          DeploymentStrategyId: 'AppConfig.AllAtOnce',
          LatestDeploymentNumber: 0,
        }),
      )
      .catch((caught: unknown) => caught);

    // Assess
    expect(stop).toBeInstanceOf(BadRequestException);
    expect((stop as BadRequestException).message).toContain('is COMPLETE');
    expect(stale).toBeInstanceOf(ConflictException);
  });

  it('answers malformed JSON, bad fields and unknown routes with AWS-shaped errors, and keeps serving', async () => {
    // Prepare
    const stand = await start();
    await flagSetup(stand);

    // Act
    const malformed = await fetch(`${stand.url}/applications`, { method: 'POST', body: '{"Name":' });
    const wrongShape = await fetch(`${stand.url}/applications`, { method: 'POST', body: '{"Name":42}' });
    const unknownRoute = await fetch(`${stand.url}/nowhere`);
    const badNumber = await fetch(`${stand.url}/applications/ledger/environments/local/deployments/x`);
    const stillServing = await stand.appconfig.send(new ListApplicationsCommand({}));

    // Assess
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    expect(await messageOf(malformed)).toContain('not valid JSON');
    expect(wrongShape.status).toBe(400);
    expect(await messageOf(wrongShape)).toContain('Name');
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await messageOf(unknownRoute)).toBe(
      'the local AppConfig stand-in has no operation for GET /nowhere',
    );
    expect(badNumber.status).toBe(400);
    expect(await messageOf(badNumber)).toBe("DeploymentNumber must be an integer, got 'x'");
    expect(stillServing.Items?.map((item) => item.Name)).toEqual(['ledger']);
  });

  it('rejects profiles it cannot host', async () => {
    // Prepare
    const stand = await start();
    const application = await stand.appconfig.send(new CreateApplicationCommand({ Name: 'ledger' }));

    // Act
    const error = await stand.appconfig
      .send(
        new CreateConfigurationProfileCommand({
          ApplicationId: application.Id,
          Name: 'from-s3',
          LocationUri: 's3://bucket/key',
        }),
      )
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(BadRequestException);
    expect((error as BadRequestException).message).toContain(
      "only hosts configurations (LocationUri 'hosted')",
    );
  });
});

describe('GetLatestConfiguration with the raw SDK command', () => {
  it('gives a null Configuration for an unchanged poll (what callers must expect)', async () => {
    // Prepare
    const stand = await start();
    const setup = await flagSetup(stand);
    await setup.publish({ checkout: true });
    const first = await poll(stand, await session(stand));

    // Act
    const second = await stand.data.send(
      new GetLatestConfigurationCommand({ ConfigurationToken: first.next }),
    );

    // Assess
    expect(second.Configuration ?? null).toBeNull();
    expect(second.VersionLabel).toBeUndefined();
    expect(second.NextPollConfigurationToken).toEqual(expect.any(String));
  });
});
