// The part of `s3rver` (which ships no types) that local-stack/s3-server.ts uses: a Koa application.
declare module 's3rver' {
  /** Koa's request context, as far as a middleware here needs it. */
  export interface KoaContext {
    get(header: string): string;
    readonly method: string;
    /** The URL's path, still percent-encoded. */
    readonly path: string;
    readonly query: Record<string, string | string[] | undefined>;
    /** Node's request, to read a body from. */
    readonly req: AsyncIterable<unknown>;
    status: number;
    type: string;
    body: unknown;
  }
  export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<unknown>;

  /** Its filesystem store: each object is files `<name>._S3rver_<resource>` in the bucket's folder. */
  export interface S3rverStore {
    getResourcePath(bucket: string, key: string, resource: string): string;
    existsObject(bucket: string, key: string): Promise<boolean>;
  }

  export default class S3rver {
    constructor(options: {
      address: string;
      port: number;
      directory: string;
      silent: boolean;
      vhostBuckets: boolean;
      configureBuckets: { name: string; configs: string[] }[];
    });
    /** Koa's middleware stack, composed when the server starts listening. */
    readonly middleware: KoaMiddleware[];
    readonly store: S3rverStore;
    run(): Promise<{ address: string; port: number }>;
  }
}
