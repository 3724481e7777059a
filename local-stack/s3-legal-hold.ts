// S3 Object Lock legal hold for the local S3 server: s3rver answers `GET ?legal-hold` with NotImplemented and
// `PUT ?legal-hold` with MethodNotAllowed, so this middleware, in front of it, answers them as S3 does and
// keeps each object's status in a file beside it (`<name>._S3rver_legal-hold.json`, which s3rver's listings
// skip, as they skip its own metadata). It also keeps the promise a hold makes: S3 never lets a held
// version go; locally there are no versions, so deleting or overwriting a held object is refused.
// There is no lifecycle expiry locally, so there is none for a hold to block. It runs before s3rver's router,
// so `?legal-hold` calls are not signature-checked (the server answers loopback names only, as before).
import { readFile, unlink, writeFile } from 'node:fs/promises';
import type { KoaContext, KoaMiddleware, S3rverStore } from 's3rver';

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n';

type Status = 'ON' | 'OFF';

export function legalHoldMiddleware(store: S3rverStore, lockedBuckets: readonly string[]): KoaMiddleware {
  return async (ctx, next) => {
    const target = objectOf(ctx.path);
    if (!target) return next();
    const { bucket, key } = target;
    const file = store.getResourcePath(bucket, key, 'legal-hold.json');
    const isLegalHoldCall = 'legal-hold' in ctx.query;
    if (!isLegalHoldCall) {
      const writes = ctx.method === 'DELETE' || (ctx.method === 'PUT' && Object.keys(ctx.query).length === 0);
      if (writes && (await statusIn(file)) === 'ON') {
        return fail(
          ctx,
          403,
          'AccessDenied',
          `${key} is under legal hold; the local S3 server keeps no versions, so it cannot be deleted or overwritten until the hold is off`,
        );
      }
      await next();
      // The object is gone: a new one at its key starts without a legal hold, as in S3.
      if (ctx.method === 'DELETE' && ctx.status === 204) await unlink(file).catch(() => undefined);
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'PUT') return next();
    if (!lockedBuckets.includes(bucket)) {
      return fail(ctx, 400, 'InvalidRequest', 'Bucket is missing Object Lock Configuration');
    }
    if (!(await store.existsObject(bucket, key))) {
      return fail(ctx, 404, 'NoSuchKey', 'The specified key does not exist.');
    }
    if (ctx.method === 'GET') {
      const status = await statusIn(file);
      if (!status) {
        return fail(
          ctx,
          404,
          'NoSuchObjectLockConfiguration',
          'The specified object does not have a ObjectLock configuration',
        );
      }
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body = `${XML_HEADER}<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>${status}</Status></LegalHold>`;
      return;
    }
    const status = /<Status>\s*(ON|OFF)\s*<\/Status>/.exec(await bodyOf(ctx))?.[1] as Status | undefined;
    if (!status) return fail(ctx, 400, 'MalformedXML', 'The XML you provided was not well-formed');
    await writeFile(file, JSON.stringify({ status }));
    ctx.status = 200;
    ctx.body = '';
  };
}

/** Bucket and key of a path-style object URL (`/<bucket>/<key>`); undefined for bucket or service calls. */
function objectOf(path: string): { bucket: string; key: string } | undefined {
  const match = /^\/([^/]+)\/(.+)$/.exec(path);
  if (!match) return undefined;
  return { bucket: decodeURIComponent(match[1] as string), key: decodeURIComponent(match[2] as string) };
}

async function statusIn(file: string): Promise<Status | undefined> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { status: Status }).status;
  } catch {
    return undefined;
  }
}

async function bodyOf(ctx: KoaContext): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function fail(ctx: KoaContext, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `${XML_HEADER}<Error><Code>${code}</Code><Message>${message.replace(/[<>&"]/g, '')}</Message></Error>`;
}
