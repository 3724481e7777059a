// The part of `s3rver` (which ships no types) that local-stack/s3-server.ts uses: a Koa application.
declare module 's3rver' {
  /** Koa's request context, as far as a middleware here needs it. */
  export interface KoaContext {
    get(header: string): string;
    status: number;
    type: string;
    body: unknown;
  }
  export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<unknown>;

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
    run(): Promise<{ address: string; port: number }>;
  }
}
