// The local S3 server: `s3rver` in a process of its own (so it never competes with the API's event loop),
// started by local-stack/processes.ts as `node --import tsx local-stack/s3-server.ts '<json options>'`.
// It answers only its loopback host names (DNS rebinding, local-stack/loopback.ts) and exits when the
// stack's process is gone (exit-with-parent.cjs, preloaded).
import S3rver from 's3rver';
import { hostRefusal, isLoopbackHost } from './loopback.ts';
import { legalHoldMiddleware } from './s3-legal-hold.ts';
import { LOCAL_ARCHIVE_BUCKET } from './settings.ts';

export interface S3ServerOptions {
  readonly directory: string;
  readonly port: number;
  readonly buckets: readonly string[];
}

const options = JSON.parse(process.argv[2] ?? '{}') as S3ServerOptions;
const server = new S3rver({
  address: '127.0.0.1',
  port: options.port,
  directory: options.directory,
  silent: true,
  vhostBuckets: false,
  configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
});
// First of its middleware: a request for any other host is refused before s3rver sees it.
server.middleware.unshift(async (ctx, next) => {
  if (isLoopbackHost(ctx.get('host'), options.port)) return next();
  ctx.status = 403;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${hostRefusal(ctx.get('host'), options.port).replace(/[<>&"]/g, '')}</Message></Error>`;
});
// Then legal hold, which s3rver lacks; Object Lock is enabled on the archive bucket only, as in the cloud.
server.middleware.splice(1, 0, legalHoldMiddleware(server.store, [LOCAL_ARCHIVE_BUCKET]));
await server.run();
console.log(`S3 server listening on 127.0.0.1:${options.port}`);
