import { resolve } from 'node:path';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';

/**
 * Where the local stack lives: `LEDGER_DATA_DIR` (default `.local/`) and `PORT` (default 3000) for the
 * API; DynamoDB Local, the S3 server and the AppConfig stand-in take the next three ports, so one PORT
 * moves the whole stack.
 */
export interface LocalSettings {
  readonly dataDir: string;
  readonly apiPort: number;
  readonly dynamodbPort: number;
  readonly s3Port: number;
  readonly appconfigPort: number;
  /** LEDGER_REGISTRY_FILE: a workflow registry to deploy at start (unset: keep the deployed one). */
  readonly registryFile: string | undefined;
}

export const LOCAL_REGION = 'us-east-1';
/** The S3 server checks signatures against this key pair; DynamoDB Local accepts any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_TABLE_NAME = 'agent-ledger-local';
export const LOCAL_ARCHIVE_BUCKET = 'agent-ledger-archive-local';
export const LOCAL_REPORTS_BUCKET = 'agent-ledger-reports-local';

export class SettingsError extends Error {
  override name = 'SettingsError';
}

export function localSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const apiPort = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(apiPort) || apiPort < 1 || apiPort > 65_532) {
    throw new SettingsError(`PORT must be a port number from 1 to 65532, not '${env.PORT}'`);
  }
  return {
    dataDir: resolve(env.LEDGER_DATA_DIR || '.local'),
    apiPort,
    dynamodbPort: apiPort + 1,
    s3Port: apiPort + 2,
    appconfigPort: apiPort + 3,
    registryFile: env.LEDGER_REGISTRY_FILE ? resolve(env.LEDGER_REGISTRY_FILE) : undefined,
  };
}

export interface Endpoints {
  readonly api: string;
  readonly dynamodb: string;
  readonly s3: string;
  readonly appconfig: string;
}

export function endpointsFor(settings: LocalSettings): Endpoints {
  return {
    api: `http://127.0.0.1:${settings.apiPort}`,
    dynamodb: `http://127.0.0.1:${settings.dynamodbPort}`,
    s3: `http://127.0.0.1:${settings.s3Port}`,
    appconfig: `http://127.0.0.1:${settings.appconfigPort}`,
  };
}

/** The HMAC key for actor IDs: generated once by the local stack, kept with the data. */
export function actorHashKeyFile(settings: LocalSettings): string {
  return resolve(settings.dataDir, 'actor-hash-key');
}

/** The console's session-cookie key: generated once by the local stack, kept with the data. */
export function consoleSessionKeyFile(settings: LocalSettings): string {
  return resolve(settings.dataDir, 'console-session-key');
}

/** The environment the handlers see locally: the same variables the CDK sets, plus local endpoints. */
export function handlerEnvironment(settings: LocalSettings): Record<string, string> {
  const endpoints = endpointsFor(settings);
  return {
    [FUNCTION_ENV.ledgerTableName]: LOCAL_TABLE_NAME,
    [FUNCTION_ENV.archiveBucketName]: LOCAL_ARCHIVE_BUCKET,
    [FUNCTION_ENV.reportsBucketName]: LOCAL_REPORTS_BUCKET,
    [FUNCTION_ENV.actorHashKeyFile]: actorHashKeyFile(settings),
    [FUNCTION_ENV.consoleSessionKeyFile]: consoleSessionKeyFile(settings),
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    // One stand-in speaks both AppConfig APIs.
    AWS_ENDPOINT_URL_APPCONFIG: endpoints.appconfig,
    AWS_ENDPOINT_URL_APPCONFIGDATA: endpoints.appconfig,
    // Locally a flip must show within 2 s; AppConfigData's 15 s minimum is a cloud limit.
    [FUNCTION_ENV.flagPollSeconds]: '1',
    // A registry deployed with `agent-ledger registry deploy` takes effect within a second or two.
    [FUNCTION_ENV.registryPollSeconds]: '1',
    [FUNCTION_ENV.s3ForcePathStyle]: 'true',
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    // The S3 server predates the SDK's default CRC checksums on every upload.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    POWERTOOLS_SERVICE_NAME: 'agent-ledger-local',
    POWERTOOLS_METRICS_NAMESPACE: 'AgentLedger',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
  };
}
