import { createHash } from 'node:crypto';
import type { ObjectStore } from '#lib/adapters/objects.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { type AwsClientOptions, type AwsService, type ErrorParser, sendAwsCall } from './aws-request.ts';

export const S3: AwsService = { signingName: 's3', endpointId: 'S3', hostPrefix: 's3' };

/**
 * PutObject and GetObject on `fetch`: the Lambda functions' S3. Buckets are addressed by virtual host
 * in the cloud, and by path where `LEDGER_S3_FORCE_PATH_STYLE=true` or an endpoint is set (the local
 * server), as `makeS3Client` does. Every PUT carries its Content-MD5, which S3 requires of writes to a
 * bucket with Object Lock (the archive's legal holds); the signer adds the payload's SHA-256
 * (`x-amz-content-sha256`), which S3 requires of every request.
 */
export function fetchObjects(options: AwsClientOptions = {}): ObjectStore {
  const env = options.env ?? process.env;
  const pathStyle =
    env[FUNCTION_ENV.s3ForcePathStyle] === 'true' || Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
  const address = (bucket: string, key: string) => {
    const encodedKey = key.split('/').map(uriEncode).join('/');
    return pathStyle ? { path: `/${bucket}/${encodedKey}` } : { path: `/${encodedKey}`, hostLabel: bucket };
  };
  return {
    async put({ bucket, key, body, contentType }) {
      await sendAwsCall(
        S3,
        {
          method: 'PUT',
          ...address(bucket, key),
          headers: {
            'content-type': contentType,
            'content-md5': createHash('md5').update(body).digest('base64'),
          },
          body,
        },
        parseXmlError,
        options,
      );
    },
    async get(bucket, key) {
      try {
        const response = await sendAwsCall(
          S3,
          { method: 'GET', ...address(bucket, key) },
          parseXmlError,
          options,
        );
        return response.body;
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
  };
}

/** RFC 3986, as S3 wants a key's segments: everything but the unreserved characters encoded. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** S3's error document: `<Error><Code>…</Code><Message>…</Message></Error>`; a HEAD or 404 may have none. */
const parseXmlError: ErrorParser = (response) => {
  const text = new TextDecoder().decode(response.body);
  const code =
    /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ??
    (response.status === 404 ? 'NotFound' : `HTTP${response.status}`);
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '';
  return { code, message };
};
