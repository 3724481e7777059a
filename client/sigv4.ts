import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

/** AWS credentials, as the SDK's providers return them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface SigV4Options {
  readonly region: string;
  /** Fixed credentials or a provider; the SDK's default provider chain when left out. */
  readonly credentials?: AwsCredentials | AwsCredentialsProvider;
  /** The service in the signature's scope: `execute-api` for API Gateway. */
  readonly service?: string;
  /** Whether the path is encoded once more to sign it: every service but S3, which signs it as sent. */
  readonly uriEscapePath?: boolean;
}

/** A request about to go out: what the signer needs and what comes back with its headers. */
export interface OutgoingRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'HEAD' | 'DELETE';
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
  /** When it is signed; now when left out. */
  readonly signingDate?: Date;
}

export type RequestSigner = (request: OutgoingRequest) => Promise<Record<string, string>>;

/** SHA-256 for the signer from node's crypto (what `@aws-crypto/sha256-js` would give, without the dependency). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const key =
      typeof this.secret === 'string'
        ? this.secret
        : ArrayBuffer.isView(this.secret)
          ? new Uint8Array(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength)
          : new Uint8Array(this.secret);
    return createHmac('sha256', key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === 'string') this.hash.update(data, 'utf8');
    else if (ArrayBuffer.isView(data))
      this.hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else this.hash.update(new Uint8Array(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/**
 * A signer for callers inside AWS (`/iam/v1/…`). The AWS packages load on first use, so callers with a
 * bearer token never load them.
 */
export function sigV4Signer(options: SigV4Options): RequestSigner {
  let chain: AwsCredentialsProvider | undefined;
  return signerWithCredentials({
    ...options,
    credentials:
      options.credentials ??
      (async () => {
        chain ??= (await import('@aws-sdk/credential-provider-node')).defaultProvider();
        return chain();
      }),
  });
}

/**
 * The same with credentials given: for the ledger's own lean AWS clients (`lib/aws/aws-request.ts`),
 * whose bundles then carry no credential chain at all.
 */
export function signerWithCredentials(
  options: SigV4Options & { readonly credentials: AwsCredentials | AwsCredentialsProvider },
): RequestSigner {
  let signer:
    | Promise<{ sign: (request: never, options?: never) => Promise<{ headers: Record<string, string> }> }>
    | undefined;
  const load = async () => {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    return new SignatureV4({
      service: options.service ?? 'execute-api',
      region: options.region,
      credentials: options.credentials,
      sha256: NodeSha256,
      uriEscapePath: options.uriEscapePath ?? true,
    }) as never;
  };
  return async (request) => {
    signer ??= load();
    const { url } = request;
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const existing = query[key];
      query[key] =
        existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    const signed = await (await signer).sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query,
        headers: { ...request.headers, host: url.host },
        body: request.body,
      } as never,
      request.signingDate ? ({ signingDate: request.signingDate } as never) : undefined,
    );
    // fetch sets Host itself and refuses to be told.
    const { host: _host, ...headers } = signed.headers;
    return headers;
  };
}
