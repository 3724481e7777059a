import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { messageOf } from '#lib/errors.ts';
import { hostRefusal, isLoopbackHost } from '../loopback.ts';
import {
  createApplication,
  createConfigurationProfile,
  createDeploymentStrategy,
  createEnvironment,
  createHostedConfigurationVersion,
  getApplication,
  getConfigurationProfile,
  getDeployment,
  getDeploymentStrategy,
  getEnvironment,
  getHostedConfigurationVersion,
  HOSTED_CONTENT_LIMIT_BYTES,
  listApplications,
  listConfigurationProfiles,
  listDeploymentStrategies,
  listDeployments,
  listEnvironments,
  listHostedConfigurationVersions,
  startDeployment,
  stopDeployment,
} from './control-plane.ts';
import { getLatestConfiguration, startConfigurationSession } from './data-plane.ts';
import { AwsError, badRequest, type Reply, type Request, readBody, sendError, sendReply } from './http.ts';
import { Store } from './state.ts';

/**
 * A local stand-in for AWS AppConfig and AppConfigData: one plain HTTP server that answers both APIs on one
 * port (their paths do not collide), so the AWS SDK v3 clients and the AWS CLI work against it with an
 * endpoint override. It accepts any SigV4-signed request without checking the signature. See README.md for
 * what it does and does not do.
 */

/** The payload AWS AppConfig sends a Lambda extension at ON_DEPLOYMENT_COMPLETE. */
export interface DeploymentCompleteEvent {
  InvocationId: string;
  Type: 'OnDeploymentComplete';
  Parameters: Record<string, string>;
  Application: { Id: string; Name?: string };
  Environment: { Id: string; Name?: string };
  ConfigurationProfile: { Id: string; Name?: string };
  DeploymentNumber: number;
  Description?: string;
  ConfigurationVersion: string;
}

/** What every handler is given besides the request. */
export interface Context {
  /** The port the stand-in listens on: requests must name it in their Host header. */
  readonly port: number;
  readonly store: Store;
  /** The last spent token position per AppConfigData session (a token works once). */
  readonly spentTokens: Map<string, number>;
  readonly onDeploymentComplete?: (event: DeploymentCompleteEvent) => Promise<void>;
  /** Runs work after the response has gone out, the way AppConfig runs extensions after the API call. */
  defer(task: () => Promise<void>): void;
}

type Handler = (request: Request, context: Context) => Reply;

interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: Handler;
}

const app = '/applications/{ApplicationId}';
const profile = `${app}/configurationprofiles/{ConfigurationProfileId}`;
const environment = `${app}/environments/{EnvironmentId}`;

/** Method and path of each operation, as the SDK's operation schemas have them. */
const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/applications', handler: createApplication },
  { method: 'GET', path: '/applications', handler: listApplications },
  { method: 'GET', path: app, handler: getApplication },
  { method: 'POST', path: `${app}/environments`, handler: createEnvironment },
  { method: 'GET', path: `${app}/environments`, handler: listEnvironments },
  { method: 'GET', path: environment, handler: getEnvironment },
  { method: 'POST', path: `${app}/configurationprofiles`, handler: createConfigurationProfile },
  { method: 'GET', path: `${app}/configurationprofiles`, handler: listConfigurationProfiles },
  { method: 'GET', path: profile, handler: getConfigurationProfile },
  { method: 'POST', path: '/deploymentstrategies', handler: createDeploymentStrategy },
  { method: 'GET', path: '/deploymentstrategies', handler: listDeploymentStrategies },
  { method: 'GET', path: '/deploymentstrategies/{DeploymentStrategyId}', handler: getDeploymentStrategy },
  {
    method: 'POST',
    path: `${profile}/hostedconfigurationversions`,
    handler: createHostedConfigurationVersion,
  },
  { method: 'GET', path: `${profile}/hostedconfigurationversions`, handler: listHostedConfigurationVersions },
  {
    method: 'GET',
    path: `${profile}/hostedconfigurationversions/{VersionNumber}`,
    handler: getHostedConfigurationVersion,
  },
  { method: 'POST', path: `${environment}/deployments`, handler: startDeployment },
  { method: 'GET', path: `${environment}/deployments`, handler: listDeployments },
  { method: 'GET', path: `${environment}/deployments/{DeploymentNumber}`, handler: getDeployment },
  { method: 'DELETE', path: `${environment}/deployments/{DeploymentNumber}`, handler: stopDeployment },
  // AppConfigData
  { method: 'POST', path: '/configurationsessions', handler: startConfigurationSession },
  { method: 'GET', path: '/configuration', handler: getLatestConfiguration },
];

const MATCHERS = ROUTES.map((route) => ({
  route,
  pattern: new RegExp(`^${route.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}/?$`),
}));

/** Bodies past this are refused before a handler sees them (hosted content is checked exactly there). */
const MAX_BODY_BYTES = HOSTED_CONTENT_LIMIT_BYTES * 2;

export async function startAppConfigStandIn(options: {
  port: number;
  dataDir: string;
  host?: string;
  onDeploymentComplete?: (event: DeploymentCompleteEvent) => Promise<void>;
}): Promise<{ url: string; close(): Promise<void> }> {
  const store = new Store(options.dataDir);
  const spentTokens = new Map<string, number>();
  const pending = new Set<Promise<void>>();
  const later = (task: () => Promise<void>) => {
    // setImmediate: the task starts once the response is on its way, never inside the API call.
    const running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(task)
      .catch((error: unknown) => console.error('AppConfig stand-in: a deferred task failed', error))
      .finally(() => pending.delete(running));
    pending.add(running);
  };

  let listeningPort = options.port;
  const server = createServer((request, response) => {
    void handle(request, response, {
      port: listeningPort,
      store,
      spentTokens,
      onDeploymentComplete: options.onDeploymentComplete,
      defer: later,
    });
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`the AppConfig stand-in cannot listen on ${host}:${options.port}: the port is taken`)
          : error,
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  listeningPort = port;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  const drain = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    close() {
      closing ??= (async () => {
        // Hooks first, while still serving: a hook may well read the configuration back from us.
        await drain();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await drain();
      })();
      return closing;
    },
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, context: Context): Promise<void> {
  try {
    if (!isLoopbackHost(request.headers.host, context.port)) {
      throw new AwsError(403, 'ForbiddenException', hostRefusal(request.headers.host, context.port));
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    let match: { route: Route; groups: Record<string, string> } | undefined;
    for (const { route, pattern } of MATCHERS) {
      const found = route.method === method ? pattern.exec(url.pathname) : null;
      if (found) {
        match = { route, groups: found.groups ?? {} };
        break;
      }
    }
    if (!match)
      throw new AwsError(
        404,
        'UnknownOperationException',
        `the local AppConfig stand-in has no operation for ${method} ${url.pathname}`,
      );

    const body = await readBody(request, MAX_BODY_BYTES);
    if (!body)
      throw new AwsError(413, 'PayloadTooLargeException', `the request body is over ${MAX_BODY_BYTES} bytes`);
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(match.groups)) {
      try {
        params[name] = decodeURIComponent(value);
      } catch {
        throw badRequest(`the ${name} in the path is not valid percent-encoding`);
      }
    }
    sendReply(
      response,
      match.route.handler({ params, query: url.searchParams, headers: request.headers, body }, context),
    );
  } catch (error) {
    if (response.headersSent) return;
    if (error instanceof AwsError) return sendError(response, error);
    console.error('AppConfig stand-in: unexpected error', error);
    sendError(
      response,
      new AwsError(
        500,
        'InternalServerException',
        `the local AppConfig stand-in failed: ${messageOf(error)}`,
      ),
    );
  }
}
