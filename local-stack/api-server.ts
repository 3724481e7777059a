import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { decodeContentEncoding } from '#functions/commons/request-body.ts';
import { API_ROUTES, accessesOf, routePath, type TokenApiFunction } from '#lib/api/routes.ts';
import { InvalidRequestError, messageOf } from '#lib/errors.ts';
import { hostRefusal, isLoopbackHost } from './loopback.ts';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type TokenAuthorizer = (
  event: APIGatewayTokenAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

export interface Route {
  readonly method: string;
  /** API Gateway resource path, e.g. `/v1/workflows/{workflowId}/events`. */
  readonly resource: string;
  readonly functionName: string;
  readonly handler: ProxyHandler;
  readonly authorized: boolean;
}

/**
 * The API's routes as the local stack serves them, from the route table the CDK builds the API from: the
 * token routes (`/v1/…`, behind the authorizer) and the open ones. Locally there is no SigV4, so the
 * `/iam/…` mirrors, and the IAM-only routes, are not served.
 */
export function localRoutes(handlers: Readonly<Record<TokenApiFunction, ProxyHandler>>): Route[] {
  return API_ROUTES.flatMap((route) =>
    accessesOf(route)
      .filter((access) => access !== 'iam')
      .map((access) => {
        const handler = (handlers as Partial<Record<string, ProxyHandler>>)[route.function];
        if (!handler) throw new Error(`the local API has no handler for ${route.function}`);
        return {
          method: route.method,
          resource: routePath(route, access),
          functionName: route.function,
          handler,
          authorized: access === 'token',
        };
      }),
  );
}

/** API Gateway's own cap on a request body; larger ones never reach a handler. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The local API Gateway: turns HTTP requests into API Gateway proxy events, runs the TOKEN authorizer
 * the way API Gateway does (401 on `Unauthorized`, 403 on Deny, its context passed on; an authorizer that
 * fails otherwise, say because the token store is down, is a 503 that says a retry is safe, as the CDK's
 * AUTHORIZER_FAILURE gateway response answers), decompresses gzip and deflate bodies as API Gateway
 * does, and calls the real Lambda handlers in process with the body's bytes (base64, as API Gateway passes
 * binary bodies), so the function sees exactly what was sent. It answers only its loopback host names.
 */
export function createApiServer(options: {
  routes: readonly Route[];
  authorizer: TokenAuthorizer;
  stage: string;
}): Server {
  const matchers = options.routes.map((route) => ({ route, pattern: resourcePattern(route.resource) }));

  const server = createServer(async (req, res) => {
    try {
      // DNS rebinding: a page whose domain points at 127.0.0.1 must not reach the ledger from a browser.
      const port = (server.address() as AddressInfo | null)?.port ?? 0;
      if (!isLoopbackHost(req.headers.host, port)) {
        return send(res, 403, { error: 'forbidden', message: hostRefusal(req.headers.host, port) });
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      const candidates = matchers.filter(({ pattern }) => pattern.test(url.pathname));
      const match = candidates.find(({ route }) => route.method === method);
      if (!match) {
        if (candidates.length > 0)
          return send(res, 405, { error: 'method_not_allowed', message: `${method} is not supported here` });
        return send(res, 404, { error: 'not_found', message: `no route for ${method} ${url.pathname}` });
      }
      const parameters = pathParameters(match.route.resource, url.pathname);
      if (parameters instanceof InvalidRequestError) {
        return send(res, 400, {
          error: 'invalid_request',
          message: parameters.message,
          issues: parameters.issues,
        });
      }
      const received = await readBody(req);
      if (received === undefined) {
        return send(res, 413, { error: 'payload_too_large', message: 'the body is over 10 MiB' });
      }
      const requestId = randomUUID();
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(',') : (value ?? ''),
        ]),
      );
      // API Gateway decompresses a gzip or deflate request body before the integration; so does this.
      let body = received;
      if (headers['content-encoding'] !== undefined) {
        try {
          body = decodeContentEncoding(received, headers['content-encoding'], GATEWAY_MAX_BODY_BYTES);
        } catch (error) {
          return sendError(res, error);
        }
        delete headers['content-encoding'];
      }
      const methodArn = `arn:aws:execute-api:us-east-1:000000000000:local/${options.stage}/${method}${url.pathname}`;

      let authorizer: Record<string, unknown> | null = null;
      if (match.route.authorized) {
        const authorization = headers.authorization;
        if (!authorization)
          return send(res, 401, { error: 'unauthorized', message: 'send Authorization: Bearer <token>' });
        try {
          const result = await options.authorizer(
            { type: 'TOKEN', authorizationToken: authorization, methodArn },
            lambdaContext('token-authorizer', requestId),
          );
          const allowed = result.policyDocument.Statement.some((statement) => statement.Effect === 'Allow');
          if (!allowed)
            return send(res, 403, { error: 'forbidden', message: 'this token may not call the API' });
          authorizer = { principalId: result.principalId, ...result.context };
        } catch (error) {
          // API Gateway's contract: only `Unauthorized` means a bad token. Anything else is the
          // authorizer failing (its store unreachable): a 5xx, so clients retry instead of dropping data.
          if (messageOf(error) === 'Unauthorized') {
            return send(res, 401, {
              error: 'unauthorized',
              message: 'the bearer token is unknown or revoked',
            });
          }
          console.error('local API: the token authorizer failed', error);
          return send(res, 503, AUTHORIZER_FAILURE_BODY, { 'retry-after': '1' });
        }
      }

      const event: APIGatewayProxyEvent = {
        resource: match.route.resource,
        path: url.pathname,
        httpMethod: method,
        headers,
        multiValueHeaders: Object.fromEntries(
          Object.entries(headers).map(([name, value]) => [name, [value]]),
        ),
        queryStringParameters: url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
        multiValueQueryStringParameters:
          url.searchParams.size > 0
            ? Object.fromEntries(
                [...new Set(url.searchParams.keys())].map((key) => [key, url.searchParams.getAll(key)]),
              )
            : null,
        pathParameters: parameters,
        stageVariables: null,
        body: body.length > 0 ? body.toString('base64') : null,
        isBase64Encoded: body.length > 0,
        requestContext: {
          accountId: '000000000000',
          apiId: 'local',
          authorizer,
          protocol: 'HTTP/1.1',
          httpMethod: method,
          identity: localIdentity(req),
          path: url.pathname,
          stage: options.stage,
          requestId,
          requestTimeEpoch: Date.now(),
          resourceId: 'local',
          resourcePath: match.route.resource,
        },
      };
      const result = await match.route.handler(event, lambdaContext(match.route.functionName, requestId));
      // API Gateway sends both maps: `multiValueHeaders` carries what repeats (a page's Set-Cookie).
      const multiValue = Object.fromEntries(
        Object.entries(result.multiValueHeaders ?? {}).map(([name, values]) => [name, values.map(String)]),
      );
      res.writeHead(result.statusCode, { ...result.headers, ...multiValue, 'x-amzn-requestid': requestId });
      res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
    } catch (error) {
      // Only reached if a handler's own error boundary failed: answer like API Gateway would.
      console.error('local API: handler failed', error);
      send(res, 502, { error: 'bad_gateway', message: 'the function failed; see the local stack log' });
    }
  });
  // Node closes an idle keep-alive connection after 5 s, and a client that was busy meanwhile (a test
  // blocked on a synchronous CLI run) then sends its next request into the closed socket: keep idle
  // connections for 30 s, under the 60 s headers timeout. stop() closes them all at once.
  server.keepAliveTimeout = 30_000;
  return server;
}

/** What the CDK's AUTHORIZER_FAILURE gateway response says (infra/constructs/ingest-api.ts). */
const AUTHORIZER_FAILURE_BODY = {
  error: 'service_unavailable',
  message: 'The credentials could not be checked right now; nothing was stored, and retrying is safe.',
};

/** A gateway-level refusal (the body's coding): the status and words the functions would use. */
function sendError(res: ServerResponse, error: unknown): void {
  const statusCode = (error as { statusCode?: number }).statusCode ?? 400;
  const code = (error as { code?: string }).code ?? 'invalid_request';
  send(res, statusCode, {
    error: code,
    message: messageOf(error),
    ...(error instanceof InvalidRequestError ? { issues: error.issues } : {}),
  });
}

function send(
  res: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(statusCode, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** `{name}` matches one path segment, a greedy `{name+}` the rest of the path (as in API Gateway). */
function resourcePattern(resource: string): RegExp {
  const source = resource
    .split('/')
    .map((segment) => {
      if (/^\{[^}]+\+\}$/.test(segment)) return '.+';
      if (/^\{[^}]+\}$/.test(segment)) return '[^/]+';
      return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/** The route's path parameters, decoded; a segment that is not valid percent-encoding is the caller's 400. */
function pathParameters(resource: string, path: string): Record<string, string> | null | InvalidRequestError {
  const names = resource.split('/');
  const values = path.split('/');
  const params: Record<string, string> = {};
  for (const [i, segment] of names.entries()) {
    const greedy = /^\{(.+)\+\}$/.exec(segment)?.[1];
    const name = greedy ?? /^\{(.+)\}$/.exec(segment)?.[1];
    const value = greedy ? values.slice(i).join('/') : values[i];
    if (!name || value === undefined) continue;
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      return new InvalidRequestError(`the path's ${name} is not valid percent-encoding`, [
        {
          index: null,
          path: `path.${name}`,
          message: `${JSON.stringify(value)} is not valid percent-encoding`,
        },
      ]);
    }
  }
  return Object.keys(params).length > 0 ? params : null;
}

function localIdentity(req: IncomingMessage): APIGatewayProxyEvent['requestContext']['identity'] {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    user: null,
    userAgent: req.headers['user-agent'] ?? null,
    userArn: null,
  };
}

/** A Lambda context for a handler run in process. */
export function lambdaContext(functionName: string, requestId: string): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
