import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { makeDocumentClient, makeDynamoDbClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { hashToken, issueToken } from '#lib/auth/tokens.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { ledgerTableDesign } from '#lib/storage/ledger-table.ts';
import { createApiServer, lambdaContext, localRoutes } from './api-server.ts';
import { type DeploymentCompleteEvent, startAppConfigStandIn } from './appconfig/server.ts';
import { assertPortFree, startDynamoDbLocal, startS3Server, stopProcess } from './processes.ts';
import { ensureTable } from './provision.ts';
import { ensureKillSwitch, syncKillSwitchFlags } from './provision-kill-switch.ts';
import { ensureRegistry } from './provision-registry.ts';
import {
  actorHashKeyFile,
  consoleSessionKeyFile,
  type Endpoints,
  endpointsFor,
  handlerEnvironment,
  LOCAL_ARCHIVE_BUCKET,
  LOCAL_REPORTS_BUCKET,
  LOCAL_TABLE_NAME,
  type LocalSettings,
} from './settings.ts';

export interface RunningStack {
  readonly endpoints: Endpoints;
  readonly devTokenFile: string;
  stop(): Promise<void>;
}

/**
 * Starts the whole local stack: DynamoDB Local and the S3 server as child processes, the table and
 * bucket from the shared designs, the local secrets (actor-hash key, dev token), and the API running the
 * real handlers. Whatever started is stopped again if a later step fails.
 */
export async function startLocalStack(
  settings: LocalSettings,
  log: (line: string) => void = () => {},
): Promise<RunningStack> {
  mkdirSync(settings.dataDir, { recursive: true });
  const children: ChildProcess[] = [];
  let server: Server | undefined;
  let appconfig: { close(): Promise<void> } | undefined;
  const endpointsFile = join(settings.dataDir, 'endpoints.json');
  const stop = async () => {
    // The endpoints file says "running": it goes first, so the CLI never points at a stopped stack.
    rmSync(endpointsFile, { force: true });
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeAllConnections();
    await closed;
    await appconfig?.close();
    await Promise.all(children.map(stopProcess));
  };

  try {
    await assertPortFree(settings.apiPort, 'the API');
    log('starting DynamoDB Local and the S3 server…');
    const [dynamodb, s3] = await Promise.allSettled([
      startDynamoDbLocal(settings),
      startS3Server(settings, [LOCAL_ARCHIVE_BUCKET, LOCAL_REPORTS_BUCKET]),
    ]);
    for (const started of [dynamodb, s3]) if (started.status === 'fulfilled') children.push(started.value);
    for (const started of [dynamodb, s3]) if (started.status === 'rejected') throw started.reason;

    const environment = handlerEnvironment(settings);
    Object.assign(process.env, environment);

    // The AppConfig stand-in runs in this process; like AWS's ON_DEPLOYMENT_COMPLETE extension action it
    // calls the flip recorder after each deployment (bound below, once the handlers are loaded).
    let recordDeployment: ((event: DeploymentCompleteEvent) => Promise<void>) | undefined;
    await assertPortFree(settings.appconfigPort, 'the AppConfig stand-in');
    appconfig = await startAppConfigStandIn({
      port: settings.appconfigPort,
      host: '127.0.0.1',
      dataDir: settings.dataDir,
      onDeploymentComplete: async (event) => recordDeployment?.(event),
    });
    const appconfigClient = new AppConfigClient({});
    const killSwitch = await ensureKillSwitch(appconfigClient);
    const registry = await ensureRegistry(appconfigClient, killSwitch, settings.registryFile);
    log(registry.summary);
    for (const warning of registry.registry.warnings()) log(`registry warning: ${warning}`);
    await syncKillSwitchFlags(appconfigClient, killSwitch, registry.registry);
    Object.assign(process.env, {
      [FUNCTION_ENV.killSwitchApplicationId]: killSwitch.application,
      [FUNCTION_ENV.killSwitchEnvironmentId]: killSwitch.environment,
      [FUNCTION_ENV.killSwitchProfileId]: killSwitch.profile,
      [FUNCTION_ENV.killSwitchStrategyId]: killSwitch.strategy,
      [FUNCTION_ENV.registryProfileId]: registry.profile,
    });

    const client = makeDynamoDbClient();
    await ensureTable(client, ledgerTableDesign, LOCAL_TABLE_NAME);
    ensureKeyFile(actorHashKeyFile(settings));
    ensureKeyFile(consoleSessionKeyFile(settings));
    const devTokenFile = join(settings.dataDir, 'dev-token');
    await ensureDevToken(devTokenFile, new DynamoDbAccessStore(makeDocumentClient(client), LOCAL_TABLE_NAME));

    // Imported only now: each handler module wires itself from the environment set above, as on Lambda.
    const [ingest, traces, readEvents, healthz, authorizer, autonomy, flipRecorder, kpis, reviews, console] =
      await Promise.all([
        import('#functions/ingest/handler.ts'),
        import('#functions/traces/handler.ts'),
        import('#functions/read-events/handler.ts'),
        import('#functions/healthz/handler.ts'),
        import('#functions/token-authorizer/handler.ts'),
        import('#functions/autonomy/handler.ts'),
        import('#functions/flip-recorder/handler.ts'),
        import('#functions/kpis/handler.ts'),
        import('#functions/reviews/handler.ts'),
        import('#functions/console/handler.ts'),
      ]);
    recordDeployment = async (event) => {
      const requestId = randomUUID();
      await flipRecorder.handler(event, lambdaContext('flip-recorder', requestId));
    };
    server = createApiServer({
      stage: 'local',
      authorizer: authorizer.handler,
      routes: localRoutes({
        healthz: healthz.handler,
        ingest: ingest.handler,
        traces: traces.handler,
        'read-events': readEvents.handler,
        reviews: reviews.handler,
        kpis: kpis.handler,
        autonomy: autonomy.handler,
        console: console.handler,
      }),
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(settings.apiPort, '127.0.0.1', () => resolve());
    });

    const endpoints = endpointsFor(settings);
    writeFileSync(join(settings.dataDir, 'aws-env'), awsEnvFile(environment));
    // Last and atomic: whoever sees endpoints.json sees a complete file and a stack ready to serve.
    writeFileSync(`${endpointsFile}.tmp`, `${JSON.stringify(endpoints, null, 2)}\n`);
    renameSync(`${endpointsFile}.tmp`, endpointsFile);
    return { endpoints, devTokenFile, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A key generated once and kept with the data: the actor-hash key (so pseudonyms stay stable) and the
 * console's session key (so sessions outlive a restart).
 */
function ensureKeyFile(file: string): void {
  if (existsSync(file)) return;
  writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
}

/** Every role on every workflow: the dev token is the local stack's admin, in the API and the console. */
const DEV_TOKEN_ROLES = 'viewer,reviewer,operator';

/**
 * The dev token may touch every workflow, and signs in to the console with every role. Generated once;
 * its record is put back if the table was reset (or given the roles, when made before the console).
 */
async function ensureDevToken(file: string, store: DynamoDbAccessStore): Promise<void> {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    const tokenId = /^alt_([0-9a-f]{16})_/.exec(token)?.[1];
    const stored = tokenId ? await store.getToken(tokenId) : undefined;
    if (tokenId && stored?.roles !== DEV_TOKEN_ROLES) {
      await store.putToken({
        tokenId,
        tokenHash: hashToken(token),
        workflows: '*',
        roles: DEV_TOKEN_ROLES,
        label: 'dev',
        createdAt: stored?.createdAt ?? new Date().toISOString(),
      });
    }
    if (tokenId) return;
  }
  const { token, record } = issueToken({
    workflows: '*',
    roles: DEV_TOKEN_ROLES,
    label: 'dev',
    now: new Date(),
  });
  await store.putToken(record);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
}

/** `source .local/aws-env` points the AWS CLI and SDKs at the local stack. */
function awsEnvFile(environment: Record<string, string>): string {
  const names = [
    'AWS_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_ENDPOINT_URL_DYNAMODB',
    'AWS_ENDPOINT_URL_S3',
    'AWS_ENDPOINT_URL_APPCONFIG',
    'AWS_ENDPOINT_URL_APPCONFIGDATA',
    'AWS_REQUEST_CHECKSUM_CALCULATION',
    'AWS_RESPONSE_CHECKSUM_VALIDATION',
  ];
  const lines = names.map((name) => `export ${name}=${environment[name]}`);
  // The AWS CLI v1 reads only AWS_DEFAULT_REGION.
  lines.push(`export AWS_DEFAULT_REGION=${environment.AWS_REGION}`);
  return `${lines.join('\n')}\n`;
}
