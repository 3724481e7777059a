import { describe, expect, it } from 'vitest';
import { isStoreUnavailable } from '#lib/adapters/store-errors.ts';
import { fetchConfigurationSessions } from '#lib/aws/appconfig-data.ts';
import {
  type AwsClientOptions,
  AwsServiceError,
  MAX_ATTEMPTS,
  parseJsonError,
  retryDelayMs,
  sendAwsCall,
} from '#lib/aws/aws-request.ts';
import { fetchDocuments } from '#lib/aws/dynamodb-documents.ts';
import { callJson, DYNAMODB } from '#lib/aws/json-service.ts';
import { fetchAsyncInvoker } from '#lib/aws/lambda-invoke.ts';
import { fetchObjects, S3 } from '#lib/aws/s3-objects.ts';

// The lean clients' own behaviour, where no local part can produce it: throttling, 5xx and network
// failures, and the cloud's regional endpoints. What they send to real servers is checked by the
// integration suites (DynamoDB Local, the S3 server, the AppConfig stand-in).

interface Sent {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function fakeAws(answers: (Response | Error)[], env: Record<string, string> = {}) {
  const sent: Sent[] = [];
  const waits: number[] = [];
  const options: AwsClientOptions = {
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      ...env,
    },
    now: () => new Date('2026-12-01T10:00:00Z'),
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
    },
    fetch: (async (url: URL, init: RequestInit) => {
      sent.push({
        url: String(url),
        method: String(init.method),
        headers: init.headers as Record<string, string>,
        body: typeof init.body === 'string' ? init.body : new TextDecoder().decode(init.body as Uint8Array),
      });
      const answer = answers.shift();
      if (!answer) throw new Error('the fake has no answer left');
      if (answer instanceof Error) throw answer;
      return answer;
    }) as typeof fetch,
  };
  return { sent, waits, options };
}

const json = (status: number, body: object, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0', ...headers },
  });

describe('a signed JSON call', () => {
  it('goes to the regional endpoint, signed for the service, with its target', async () => {
    const { sent, options } = fakeAws([json(200, { TableNames: [] })]);

    await callJson(DYNAMODB, 'ListTables', {}, options);

    const [request] = sent;
    expect(request?.url).toBe('https://dynamodb.eu-west-1.amazonaws.com/');
    expect(request?.method).toBe('POST');
    expect(request?.headers['x-amz-target']).toBe('DynamoDB_20120810.ListTables');
    expect(request?.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261201\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(request?.headers['x-amz-date']).toBe('20261201T100000Z');
    expect(request?.headers).not.toHaveProperty('host');
  });

  it('uses AWS_ENDPOINT_URL_<SERVICE> as the SDK does, and sends the session token', async () => {
    const { sent, options } = fakeAws([json(200, {})], {
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
      AWS_SESSION_TOKEN: 'token-1',
    });

    await callJson(DYNAMODB, 'ListTables', {}, options);

    expect(sent[0]?.url).toBe('http://127.0.0.1:8000/');
    expect(sent[0]?.headers['x-amz-security-token']).toBe('token-1');
  });

  it('says which variables are missing when there are no credentials or region', async () => {
    const noCredentials = fakeAws([], { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
    await expect(callJson(DYNAMODB, 'ListTables', {}, noCredentials.options)).rejects.toThrow(
      'no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
    const noRegion = fakeAws([], { AWS_REGION: '' });
    await expect(callJson(DYNAMODB, 'ListTables', {}, noRegion.options)).rejects.toThrow(
      'no AWS region: set AWS_REGION',
    );
  });
});

describe("the signature, on AWS's published examples", () => {
  const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

  it('signs an S3 GET as the S3 guide\'s "GET Object" example (the path as sent)', async () => {
    const { sent, options } = fakeAws([new Response('0123456789', { status: 206 })], {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_ENDPOINT_URL_S3: 'https://examplebucket.s3.amazonaws.com',
    });
    const at = { ...options, now: () => new Date('2013-05-24T00:00:00Z') };

    await sendAwsCall(
      S3,
      {
        method: 'GET',
        path: '/test.txt',
        headers: { range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256 },
      },
      parseJsonError,
      at,
    );

    expect(sent[0]?.headers.authorization).toMatch(
      /SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,/,
    );
    expect(sent[0]?.headers.authorization).toMatch(
      /Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41$/,
    );
  });
});

describe('retries, as the SDK standard mode does', () => {
  it('tries a 5xx again, after a jittered wait, and answers the success', async () => {
    const { sent, waits, options } = fakeAws([
      json(500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'boom' }),
      json(200, { TableNames: ['t'] }),
    ]);

    await expect(callJson(DYNAMODB, 'ListTables', {}, options)).resolves.toEqual({ TableNames: ['t'] });

    expect(sent).toHaveLength(2);
    expect(waits).toEqual([retryDelayMs(1, () => 0.5)]);
  });

  it(`gives up on throttling after ${MAX_ATTEMPTS} attempts with an error the API answers 503 to`, async () => {
    const throttled = () =>
      json(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: 'slow down',
      });
    const { sent, options } = fakeAws([throttled(), throttled(), throttled()]);

    const error = await callJson(DYNAMODB, 'Query', {}, options).catch((e: unknown) => e);

    expect(sent).toHaveLength(MAX_ATTEMPTS);
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      message: 'slow down',
      $retryable: { throttling: true },
      $metadata: { httpStatusCode: 400, attempts: MAX_ATTEMPTS },
    });
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it('marks a lasting transient error (S3 RequestTimeout, a 400) as worth a retry, and so an outage', async () => {
    const timeout = () =>
      new Response('<Error><Code>RequestTimeout</Code><Message>idle too long</Message></Error>', {
        status: 400,
      });
    const { sent, options } = fakeAws([timeout(), timeout(), timeout()]);

    const error = await fetchObjects(options)
      .put({ bucket: 'b', key: 'k', body: 'x', contentType: 'text/plain' })
      .catch((e: unknown) => e);

    expect(sent).toHaveLength(MAX_ATTEMPTS);
    expect(error).toMatchObject({
      name: 'RequestTimeout',
      $fault: 'client',
      $retryable: { throttling: false },
    });
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it('tries a network failure again and, when it lasts, throws it as an outage', async () => {
    const refused = () => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const { sent, options } = fakeAws([refused(), refused(), refused()]);

    const error = await callJson(DYNAMODB, 'Query', {}, options).catch((e: unknown) => e);

    expect(sent).toHaveLength(MAX_ATTEMPTS);
    expect(error).toBeInstanceOf(TypeError);
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it('sends a transaction with one client token, the same on its retry, as the SDK does', async () => {
    const { sent, options } = fakeAws([
      json(500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'boom' }),
      json(200, {}),
    ]);

    await fetchDocuments(options).transactWrite({
      TransactItems: [{ Put: { TableName: 't', Item: { pk: 'a', n: 1 } } }],
    });

    const [first, retry] = sent.map((request) => JSON.parse(request.body));
    expect(first.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(retry.ClientRequestToken).toBe(first.ClientRequestToken);
    expect(first.TransactItems).toEqual([
      { Put: { TableName: 't', Item: { pk: { S: 'a' }, n: { N: '1' } } } },
    ]);
  });

  it('does not retry a client mistake, and keeps its fields in the wire form', async () => {
    const { sent, options } = fakeAws([
      json(
        400,
        {
          __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          message: 'The conditional request failed',
          Item: { contentHash: { S: 'abc' } },
        },
        { 'x-amzn-requestid': 'req-1' },
      ),
    ]);

    const error = await fetchDocuments(options)
      .put({ TableName: 't', Item: { pk: 'a' }, ConditionExpression: 'attribute_not_exists(pk)' })
      .catch((e: unknown) => e);

    expect(sent).toHaveLength(1);
    expect(error).toMatchObject({
      name: 'ConditionalCheckFailedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: 'req-1', attempts: 1 },
      Item: { contentHash: { S: 'abc' } },
    });
    expect(isStoreUnavailable(error)).toBe(false);
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({
      TableName: 't',
      Item: { pk: { S: 'a' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });
});

describe('S3 on fetch', () => {
  it('addresses the bucket by virtual host in the cloud, encodes the key once, and sends Content-MD5', async () => {
    const { sent, options } = fakeAws([new Response(null, { status: 200 })]);

    await fetchObjects(options).put({
      bucket: 'archive-1',
      key: 'raw/retention=24m/workflow=support/a b.ndjson.gz',
      body: 'hello',
      contentType: 'application/gzip',
    });

    expect(sent[0]?.url).toBe(
      'https://archive-1.s3.eu-west-1.amazonaws.com/raw/retention%3D24m/workflow%3Dsupport/a%20b.ndjson.gz',
    );
    expect(sent[0]?.method).toBe('PUT');
    expect(sent[0]?.headers['content-md5']).toBe('XUFAKrxLKna5cZ2REBfFkg==');
    expect(sent[0]?.headers['x-amz-content-sha256']).toBe(
      '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    );
    expect(sent[0]?.headers.authorization).toContain('/eu-west-1/s3/aws4_request');
  });

  it('addresses it by path when an endpoint is set; a missing key is undefined, a denial an error', async () => {
    const missing =
      '<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>';
    const denied = '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
    const { sent, options } = fakeAws(
      [new Response(missing, { status: 404 }), new Response(denied, { status: 403 })],
      { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569' },
    );
    const objects = fetchObjects(options);

    await expect(objects.get('archive-1', 'raw/_outcome.json')).resolves.toBeUndefined();
    const error = await objects.get('archive-1', 'raw/x').catch((e: unknown) => e);

    expect(sent[0]?.url).toBe('http://127.0.0.1:4569/archive-1/raw/_outcome.json');
    expect(error).toMatchObject({ name: 'AccessDenied', message: 'Access Denied', $fault: 'client' });
    expect(isStoreUnavailable(error)).toBe(false);
  });
});

describe('AppConfigData on fetch', () => {
  it('reads the next token, the interval and the version label from the poll answer headers', async () => {
    const { sent, options } = fakeAws([
      json(201, { InitialConfigurationToken: 'token-0' }),
      new Response('{"ingest":{"enabled":true}}', {
        status: 200,
        headers: {
          'content-type': 'application/json',
          'next-poll-configuration-token': 'token-1',
          'next-poll-interval-in-seconds': '15',
          'version-label': 'v7',
        },
      }),
    ]);
    const sessions = fetchConfigurationSessions(options);

    const started = await sessions.startConfigurationSession({
      ApplicationIdentifier: 'app',
      EnvironmentIdentifier: 'env',
      ConfigurationProfileIdentifier: 'flags',
      RequiredMinimumPollIntervalInSeconds: 15,
    });
    const latest = await sessions.getLatestConfiguration({ ConfigurationToken: 'token-0' });

    expect(started).toEqual({ InitialConfigurationToken: 'token-0' });
    expect(sent[0]?.url).toBe('https://appconfigdata.eu-west-1.amazonaws.com/configurationsessions');
    expect(sent[1]?.url).toBe(
      'https://appconfigdata.eu-west-1.amazonaws.com/configuration?configuration_token=token-0',
    );
    expect(sent[1]?.headers.authorization).toContain('/eu-west-1/appconfig/aws4_request');
    expect(new TextDecoder().decode(latest.Configuration)).toBe('{"ingest":{"enabled":true}}');
    expect(latest).toMatchObject({
      NextPollConfigurationToken: 'token-1',
      NextPollIntervalInSeconds: 15,
      VersionLabel: 'v7',
    });
  });
});

describe('Lambda asynchronous Invoke on fetch', () => {
  it('queues the payload as an Event invocation of the named function, signed for lambda', async () => {
    const { sent, options } = fakeAws([new Response(null, { status: 202 })]);

    await fetchAsyncInvoker(
      'agent-ledger-dev-KpiJob',
      options,
    )({ workflowId: 'code-review', week: '2026-W47' });

    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe(
      'https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/agent-ledger-dev-KpiJob/invocations',
    );
    expect(sent[0]?.method).toBe('POST');
    expect(sent[0]?.headers['x-amz-invocation-type']).toBe('Event');
    expect(sent[0]?.headers.authorization).toContain('/eu-west-1/lambda/aws4_request');
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({ workflowId: 'code-review', week: '2026-W47' });
  });

  it("throws Lambda's error, by its code, when the function cannot take the invocation", async () => {
    const { options } = fakeAws([
      json(
        403,
        { Type: 'User', message: 'not authorized to perform: lambda:InvokeFunction' },
        { 'x-amzn-errortype': 'AccessDeniedException' },
      ),
    ]);

    const invoked = fetchAsyncInvoker('agent-ledger-dev-KpiJob', options)({});

    await expect(invoked).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: 'not authorized to perform: lambda:InvokeFunction',
      $fault: 'client',
    });
  });
});
