import { type AwsCredentials, type RequestSigner, signerWithCredentials } from '../../client/sigv4.ts';

/**
 * One signed AWS API call over `fetch`, for the lean clients beside this file: the Lambda functions'
 * transport, so that no AWS SDK client is in their bundles (issue 12, item 5). It does what the SDK's
 * standard mode does for these calls: the endpoint from `AWS_ENDPOINT_URL_<SERVICE>` (the local stack's
 * way, as the SDK reads it) or the service's regional one, credentials from the environment (Lambda puts
 * the role's there), up to 3 attempts with full-jitter backoff on throttling, 5xx and network errors, and
 * errors shaped as the SDK's (`name` the error code, `$fault`, `$retryable`, `$metadata`), so
 * `store-errors.ts` tells an outage from a mistake for both transports.
 */

export interface AwsService {
  /** The SigV4 signing name. */
  readonly signingName: string;
  /** The suffix of `AWS_ENDPOINT_URL_<…>`, as the SDK names it: `DYNAMODB`, `S3`, `APPCONFIGDATA`, … */
  readonly endpointId: string;
  /** The regional endpoint's first label: `dynamodb` → `https://dynamodb.<region>.amazonaws.com`. */
  readonly hostPrefix: string;
}

export interface AwsCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'HEAD' | 'DELETE';
  /** Already encoded (S3 keys by `uriEncode` per segment). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** S3's virtual-hosted buckets: the label put before the regional host. */
  readonly hostLabel?: string;
}

export interface AwsResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** An error answer from an AWS service, in the SDK's shape. */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $retryable?: { throttling: boolean };
  readonly $metadata: { httpStatusCode: number; requestId?: string; attempts: number };

  constructor(
    code: string,
    message: string,
    status: number,
    details: {
      requestId?: string;
      attempts: number;
      /** Worth sending again (throttling, a transient error or a 5xx), as the SDK's `$retryable` says. */
      retryable: boolean;
      throttling: boolean;
      fields?: Record<string, unknown>;
    },
  ) {
    super(message || code);
    // The service's own fields (DynamoDB's `Item`, `CancellationReasons`), in its wire form, as the SDK leaves them.
    if (details.fields) Object.assign(this, details.fields);
    this.name = code;
    this.$fault = status >= 500 ? 'server' : 'client';
    if (details.retryable) this.$retryable = { throttling: details.throttling };
    this.$metadata = {
      httpStatusCode: status,
      ...(details.requestId ? { requestId: details.requestId } : {}),
      attempts: details.attempts,
    };
  }
}

/** Error codes the SDK's standard retry strategy treats as throttling. */
const THROTTLING_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
/** …and as transient. */
const TRANSIENT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

export const MAX_ATTEMPTS = 3;
const RETRY_BASE_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 20_000;
/**
 * Per attempt; a store that does not answer within it counts as unavailable (and is tried again). Three
 * attempts and their waits stay under API Gateway's 29 s, so a hung store is the API's own 503 (retry
 * safe), not the gateway's 504.
 */
const ATTEMPT_TIMEOUT_MS = 8_000;

/** How an error answer's body names its code and message. */
export type ErrorParser = (response: AwsResponse) => {
  code: string;
  message: string;
  fields?: Record<string, unknown>;
};

export interface AwsClientOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Sends `call` to `service`, signed, with retries; answers a 2xx (or 304) response, or throws. */
export async function sendAwsCall(
  service: AwsService,
  call: AwsCall,
  parseError: ErrorParser,
  options: AwsClientOptions = {},
): Promise<AwsResponse> {
  const env = options.env ?? process.env;
  const region = regionFrom(env);
  const url = endpointUrl(service, call, region, env);
  const body = call.body ?? '';
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const sign = signerFor(service, region, env);
  for (let attempt = 1; ; attempt++) {
    const sent = await sign({
      method: call.method,
      url,
      headers: { ...call.headers },
      body,
      ...(options.now ? { signingDate: options.now() } : {}),
    });
    let response: AwsResponse;
    try {
      const answer = await doFetch(url, {
        method: call.method,
        headers: sent,
        ...(call.method === 'GET' || call.method === 'HEAD' ? {} : { body }),
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      response = {
        status: answer.status,
        headers: answer.headers,
        body: new Uint8Array(await answer.arrayBuffer()),
      };
    } catch (error) {
      // Unreachable, reset or timed out: the SDK retries these too.
      if (attempt < MAX_ATTEMPTS) {
        await sleep(retryDelayMs(attempt, options.random));
        continue;
      }
      throw error;
    }
    if ((response.status >= 200 && response.status < 300) || response.status === 304) return response;
    const { code, message, fields } = parseError(response);
    const throttling = response.status === 429 || THROTTLING_CODES.has(code);
    const retryable = throttling || TRANSIENT_CODES.has(code) || response.status >= 500;
    if (retryable && attempt < MAX_ATTEMPTS) {
      await sleep(retryDelayMs(attempt, options.random));
      continue;
    }
    throw new AwsServiceError(code, message, response.status, {
      requestId:
        response.headers.get('x-amzn-requestid') ?? response.headers.get('x-amz-request-id') ?? undefined,
      attempts: attempt,
      retryable,
      throttling,
      ...(fields ? { fields } : {}),
    });
  }
}

/** Full jitter: a random wait up to an exponentially growing cap, as the SDK's standard mode waits. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(MAX_RETRY_DELAY_MS, RETRY_BASE_DELAY_MS * 2 ** attempt));
}

/** One signer per service and region (SigV4 caches its signing key per day). */
const signers = new Map<string, RequestSigner>();

function signerFor(service: AwsService, region: string, env: NodeJS.ProcessEnv): RequestSigner {
  const id = `${service.signingName} ${region}`;
  let signer = env === process.env ? signers.get(id) : undefined;
  if (!signer) {
    signer = signerWithCredentials({
      region,
      service: service.signingName,
      credentials: async () => credentialsFrom(env),
      // S3 signs its path as sent; every other service encodes it once more.
      uriEscapePath: service.signingName !== 's3',
    });
    if (env === process.env) signers.set(id, signer);
  }
  return signer;
}

export function regionFrom(env: NodeJS.ProcessEnv): string {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('no AWS region: set AWS_REGION');
  return region;
}

/** The credentials Lambda gives a function (and the local stack its handlers), read at each call. */
export function credentialsFrom(env: NodeJS.ProcessEnv): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

function endpointUrl(service: AwsService, call: AwsCall, region: string, env: NodeJS.ProcessEnv): URL {
  const configured = env[`AWS_ENDPOINT_URL_${service.endpointId}`] ?? env.AWS_ENDPOINT_URL;
  const base = configured
    ? new URL(configured)
    : new URL(
        `https://${call.hostLabel ? `${call.hostLabel}.` : ''}${service.hostPrefix}.${region}.amazonaws.com`,
      );
  const url = new URL(`${base.pathname.replace(/\/$/, '')}${call.path}`, base);
  for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
  return url;
}

/** The error answer of a JSON protocol (DynamoDB, Secrets Manager, Athena, AppConfigData). */
export const parseJsonError: ErrorParser = (response) => {
  const text = new TextDecoder().decode(response.body);
  let fields: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object') fields = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const type = response.headers.get('x-amzn-errortype') ?? String(fields.__type ?? fields.code ?? '');
  const code = type.split(':')[0]?.split('#').at(-1) || `HTTP${response.status}`;
  const message = String(fields.message ?? fields.Message ?? text.slice(0, 200));
  const { __type: _type, message: _m, Message: _M, ...rest } = fields;
  return { code, message, fields: rest };
};
