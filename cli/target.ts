import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { AppConfigClient, ListConfigurationProfilesCommand } from '@aws-sdk/client-appconfig';
import { AppConfigData } from '@aws-sdk/client-appconfigdata';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AppConfigDataFlagReader, AppConfigFlagWriter } from '#lib/adapters/appconfig-flags.ts';
import { HostedProfile } from '#lib/adapters/appconfig-hosted.ts';
import { locateKillSwitch } from '#lib/adapters/appconfig-locate.ts';
import { readDeployedRegistry } from '#lib/adapters/appconfig-registry.ts';
import { makeDocumentClient, makeS3Client, sdkObjects } from '#lib/adapters/aws-clients.ts';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbDrillStore } from '#lib/adapters/dynamodb-drill-store.ts';
import { normalizeIamPrincipal } from '#lib/auth/tokens.ts';
import {
  archiveQueryWorkgroup,
  STATEFUL_OUTPUTS,
  STATELESS_OUTPUTS,
  statefulStackName,
  statelessStackName,
} from '#lib/deployment/stacks.ts';
import { messageOf } from '#lib/errors.ts';
import { LOCAL_ENVIRONMENT } from '#lib/kill-switch/names.ts';
import type { ArchivedEvents } from '#lib/ports.ts';
import { REGISTRY_PROFILE } from '#lib/registry/names.ts';
import { InvalidRegistryError, type WorkflowRegistry } from '#lib/registry/workflows.ts';
import {
  LOCAL_ARCHIVE_BUCKET,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_REPORTS_BUCKET,
  LOCAL_TABLE_NAME,
  localSettings,
} from '#local-stack/settings.ts';
import { CliError, UsageError } from './errors.ts';

/**
 * Where a command acts: the local stack by default (found through `$LEDGER_DATA_DIR/endpoints.json`),
 * or a deployed stage with `--stage <name>` (found through its CloudFormation outputs, with the caller's
 * usual AWS credentials and region).
 */
export interface Target {
  readonly description: string;
  readonly isLocal: boolean;
  readonly tableName: string;
  readonly dynamodb: DynamoDBClient;
  /** The kill switch's AppConfig location and clients. */
  killSwitch(): Promise<KillSwitchAccess>;
  /** The workflow registry's freeform profile (in the kill switch's application and environment). */
  registryProfile(): Promise<HostedProfile>;
  /** The API's base URL and a bearer token to read `/autonomy` with. */
  api(tokenOption: string | undefined): Promise<{ url: string; token: string }>;
  /** Who is acting, for the flag's `changedBy`. */
  whoAmI(): Promise<string>;
  /** The reports bucket (finance Parquet) and a client for it. */
  reports(): Promise<{ s3: S3Client; bucket: string }>;
  /** The raw event archive (the system of record) and a client for it. */
  archive(): Promise<{ s3: S3Client; bucket: string }>;
  /** The SNS topic drift pauses are announced on (cloud only; locally they are printed). */
  driftTopic(): Promise<string>;
  /** For `query` on a stage: the Athena workgroup and Glue database to run in. */
  athena(): Promise<{ workgroup: string; database: string }>;
  /**
   * The archive read as events, for reads past the index's hot window: DuckDB over the local archive, or
   * Athena in the stage's archive workgroup (with the caller's credentials).
   */
  archivedEvents(): Promise<ArchivedEvents>;
}

export interface KillSwitchAccess {
  readonly writer: AppConfigFlagWriter;
  readonly reader: AppConfigDataFlagReader;
}

export async function resolveTarget(stage: string | undefined): Promise<Target> {
  return stage === undefined ? localTarget() : stageTarget(stage);
}

function localTarget(): Target {
  const settings = localSettings();
  const file = join(settings.dataDir, 'endpoints.json');
  let endpoints: { api?: string; dynamodb?: string; appconfig?: string; s3?: string };
  try {
    endpoints = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new CliError(
      `no local stack found (${file} is missing); start it with \`npm start\`, or pass --stage <name> for a deployed stage`,
    );
  }
  if (!endpoints.dynamodb || !endpoints.api || !endpoints.appconfig || !endpoints.s3) {
    throw new CliError(`${file} lacks an endpoint; restart the local stack`);
  }
  const local = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 };
  const description = `the local stack (${settings.dataDir})`;
  const localS3 = () =>
    new S3Client({
      ...local,
      endpoint: endpoints.s3,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  return {
    description,
    isLocal: true,
    tableName: LOCAL_TABLE_NAME,
    dynamodb: new DynamoDBClient({ ...local, endpoint: endpoints.dynamodb }),
    killSwitch: async () => {
      const appconfig = new AppConfigClient({ ...local, endpoint: endpoints.appconfig });
      const location = await locateKillSwitch(appconfig, LOCAL_ENVIRONMENT);
      if (!location)
        throw new CliError(`${description} has no kill switch yet; restart it with \`npm start\``);
      return {
        writer: new AppConfigFlagWriter(appconfig, location),
        reader: new AppConfigDataFlagReader(
          new AppConfigData({ ...local, endpoint: endpoints.appconfig }),
          location,
          0,
        ),
      };
    },
    registryProfile: async () => {
      const appconfig = new AppConfigClient({ ...local, endpoint: endpoints.appconfig });
      const location = await locateKillSwitch(appconfig, LOCAL_ENVIRONMENT);
      const profile =
        location &&
        (
          await appconfig.send(new ListConfigurationProfilesCommand({ ApplicationId: location.application }))
        ).Items?.find((item) => item.Name === REGISTRY_PROFILE)?.Id;
      if (!location || !profile)
        throw new CliError(`${description} has no workflow registry yet; restart it with \`npm start\``);
      return new HostedProfile(appconfig, { ...location, profile });
    },
    api: async (tokenOption) => ({
      url: endpoints.api as string,
      token: tokenOption ?? readFileSync(join(settings.dataDir, 'dev-token'), 'utf8').trim(),
    }),
    whoAmI: async () => `${userInfo().username}@${hostname()}`,
    reports: async () => ({ s3: localS3(), bucket: LOCAL_REPORTS_BUCKET }),
    archive: async () => ({ s3: localS3(), bucket: LOCAL_ARCHIVE_BUCKET }),
    athena: async () => {
      throw new CliError('the local stack has no Athena: `agent-ledger query` runs DuckDB locally');
    },
    driftTopic: async () => {
      throw new CliError('the local stack has no SNS: drift notifications are printed');
    },
    archivedEvents: async () => {
      // DuckDB is a native module: loaded by the commands that read the archive only.
      const { DuckDbArchivedEvents } = await import('#lib/adapters/duckdb-archived-events.ts');
      return new DuckDbArchivedEvents(localS3(), LOCAL_ARCHIVE_BUCKET);
    },
  };
}

async function stackOutputs(stackName: string, stage: string): Promise<Record<string, string>> {
  try {
    const { Stacks } = await new CloudFormationClient({}).send(
      new DescribeStacksCommand({ StackName: stackName }),
    );
    return Object.fromEntries(
      (Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
    );
  } catch (error) {
    throw new CliError(
      `could not read stack ${stackName}: ${messageOf(error)}. Is stage '${stage}' deployed, and are your AWS credentials and region set?`,
    );
  }
}

async function stageTarget(stage: string): Promise<Target> {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,30}$/.test(stage)) throw new CliError(`'${stage}' is not a stage name`, 2);
  const stackName = statefulStackName(stage);
  const outputs = await stackOutputs(stackName, stage);
  const required = (key: string, stack = stackName, from = outputs) => {
    const value = from[key];
    if (!value) throw new CliError(`stack ${stack} has no ${key} output; redeploy it`);
    return value;
  };
  return {
    description: `stage ${stage}`,
    isLocal: false,
    tableName: required(STATEFUL_OUTPUTS.ledgerTableName),
    dynamodb: new DynamoDBClient({}),
    killSwitch: async () => {
      const location = {
        application: required(STATEFUL_OUTPUTS.killSwitchApplicationId),
        environment: required(STATEFUL_OUTPUTS.killSwitchEnvironmentId),
        profile: required(STATEFUL_OUTPUTS.killSwitchProfileId),
        strategy: required(STATEFUL_OUTPUTS.killSwitchStrategyId),
      };
      return {
        writer: new AppConfigFlagWriter(new AppConfigClient({}), location),
        // The CLI reads each time it is asked, so no poll interval of its own.
        reader: new AppConfigDataFlagReader(new AppConfigData({}), location, 15),
      };
    },
    registryProfile: async () =>
      new HostedProfile(new AppConfigClient({}), {
        application: required(STATEFUL_OUTPUTS.killSwitchApplicationId),
        environment: required(STATEFUL_OUTPUTS.killSwitchEnvironmentId),
        profile: required(STATEFUL_OUTPUTS.registryProfileId),
        strategy: required(STATEFUL_OUTPUTS.killSwitchStrategyId),
      }),
    api: async (tokenOption) => {
      const token = tokenOption ?? process.env.LEDGER_TOKEN;
      if (!token)
        throw new CliError('reading /autonomy on a stage needs a token: pass --token or set LEDGER_TOKEN', 2);
      return { url: await stageApiUrl(stage), token };
    },
    whoAmI: async () => {
      const identity = await new STSClient({}).send(new GetCallerIdentityCommand({}));
      return normalizeIamPrincipal(identity.Arn ?? 'unknown');
    },
    // makeS3Client: the SDK's own settings (region, credentials, AWS_ENDPOINT_URL_S3), as the functions use it.
    reports: async () => ({ s3: makeS3Client(), bucket: required(STATEFUL_OUTPUTS.reportsBucketName) }),
    archive: async () => ({ s3: makeS3Client(), bucket: required(STATEFUL_OUTPUTS.archiveBucketName) }),
    athena: async () => {
      const all = { ...outputs, ...(await stackOutputs(statelessStackName(stage), stage)) };
      return {
        workgroup: required(STATEFUL_OUTPUTS.athenaWorkgroup, stackName, all),
        database: required(STATEFUL_OUTPUTS.glueDatabase, stackName, all),
      };
    },
    driftTopic: async () => {
      const all = { ...outputs, ...(await stackOutputs(statelessStackName(stage), stage)) };
      return required(STATEFUL_OUTPUTS.driftTopicArn, stackName, all);
    },
    archivedEvents: async () => {
      const [{ Athena }, { AthenaArchivedEvents }] = await Promise.all([
        import('@aws-sdk/client-athena'),
        import('#lib/adapters/athena-archived-events.ts'),
      ]);
      return new AthenaArchivedEvents({
        athena: new Athena({}),
        s3: sdkObjects(makeS3Client()),
        bucketName: required(STATEFUL_OUTPUTS.archiveBucketName),
        database: required(STATEFUL_OUTPUTS.glueDatabase),
        workgroup: archiveQueryWorkgroup(required(STATEFUL_OUTPUTS.athenaWorkgroup)),
        // An operator's run waits longer for a query than an API request can.
        timeoutMs: 120_000,
      });
    },
  };
}

/** The stateless stack's ApiUrl (only the drill needs it, so it is looked up only then). */
async function stageApiUrl(stage: string): Promise<string> {
  const stack = statelessStackName(stage);
  const outputs = await stackOutputs(stack, stage);
  const url = outputs[STATELESS_OUTPUTS.apiUrl];
  if (!url) throw new CliError(`stack ${stack} has no ${STATELESS_OUTPUTS.apiUrl} output; redeploy it`);
  return url.replace(/\/$/, '');
}

/** The workflow registry deployed on the target, validated, with its version number. */
export async function deployedRegistry(
  target: Target,
): Promise<{ registry: WorkflowRegistry; versionNumber: number }> {
  const profile = await target.registryProfile().catch((error) => explainTargetFailure(error, target));
  const deployed = await readDeployedRegistry(profile, `on ${target.description}`).catch((error) => {
    if (error instanceof InvalidRegistryError) throw new CliError(error.message);
    return explainTargetFailure(error, target);
  });
  if (!deployed) {
    throw new CliError(
      `${target.description} has no workflow registry deployed; ${target.isLocal ? 'restart it with `npm start`' : 'deploy the stage with `npx cdk deploy --all`'}`,
    );
  }
  return deployed;
}

/** The deployed registry's workflow, or a usage error naming the registered ones. */
export async function registeredWorkflow(target: Target, workflowId: string): Promise<WorkflowRegistry> {
  const { registry } = await deployedRegistry(target);
  if (!registry.get(workflowId)) {
    throw new UsageError(`unknown workflow ${workflowId}; registered: ${registry.ids().join(', ')}`);
  }
  return registry;
}

export function accessStore(target: Target): DynamoDbAccessStore {
  return new DynamoDbAccessStore(makeDocumentClient(target.dynamodb), target.tableName);
}

export function drillStore(target: Target): DynamoDbDrillStore {
  return new DynamoDbDrillStore(makeDocumentClient(target.dynamodb), target.tableName);
}

/** Turns an unreachable local store into advice instead of a socket error. */
export function explainTargetFailure(error: unknown, target: Target): never {
  if (error instanceof CliError) throw error;
  const message = messageOf(error);
  if (/ECONNREFUSED|connect|socket/i.test(message) && target.isLocal) {
    throw new CliError(`${target.description} is not answering (${message}); start it with \`npm start\``);
  }
  throw new CliError(`${target.description}: ${message}`);
}
