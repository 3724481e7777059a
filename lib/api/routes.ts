import { MAX_EVENTS_PER_REQUEST } from '#lib/events/schema.ts';
import { MAX_FLIP_REASON_LENGTH } from '#lib/kill-switch/flip.ts';

/**
 * `token`: callers outside AWS, with a bearer token the TOKEN authorizer checks, on `/v1/…`.
 * `iam`: callers inside AWS, SigV4-signed, on the same path under `/iam` (`/iam/v1/…`).
 * `session`: people in a browser, on the console's pages; the console function checks their session
 * cookie itself (the gateway cannot), and answers a page without one with the sign-in page.
 */
export type CallerKind = 'token' | 'iam' | 'session';

/** The part of draft-04 JSON Schema the API's body models use. */
export interface BodySchema {
  readonly type: 'object' | 'array' | 'boolean' | 'string' | 'number' | 'integer';
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, BodySchema>>;
  readonly items?: BodySchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
}

/** A request body API Gateway checks before the function runs (the function validates it fully). */
export interface BodyModel {
  readonly name: string;
  readonly schema: BodySchema;
}

export interface ApiRoute {
  readonly method: 'GET' | 'POST';
  /**
   * The resource path, as token callers (or anyone, on an open route) call it; IAM callers prefix `/iam`.
   * `{name}` is one path segment, `{name+}` the rest of the path (API Gateway's greedy parameter).
   */
  readonly path: string;
  /** The function that serves it: its folder under `functions/`. */
  readonly function: string;
  /** `open`: no credentials at all (the health check only); otherwise the kinds of callers it serves. */
  readonly auth: 'open' | readonly CallerKind[];
  /** The query-string parameters it accepts, all optional. */
  readonly queryParameters?: readonly string[];
  readonly bodyModel?: BodyModel;
}

const INGEST_REQUEST: BodyModel = {
  name: 'IngestRequest',
  schema: {
    type: 'object',
    required: ['events'],
    properties: {
      events: { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST, items: { type: 'object' } },
    },
  },
};

const KILL_SWITCH_REQUEST: BodyModel = {
  name: 'KillSwitchRequest',
  schema: {
    type: 'object',
    required: ['enabled', 'reason'],
    properties: {
      enabled: { type: 'boolean' },
      reason: { type: 'string', minLength: 1, maxLength: MAX_FLIP_REASON_LENGTH },
    },
  },
};

/**
 * The ledger's HTTP API, one row per route: the CDK builds the API Gateway methods from it (both kinds of
 * callers, request validation, body models) and the local API server its routes (the token and open
 * ones: locally there is no SigV4), so the two homes serve the same routes with the same functions.
 */
export const API_ROUTES = [
  { method: 'GET', path: '/healthz', function: 'healthz', auth: 'open' },
  {
    method: 'POST',
    path: '/v1/events',
    function: 'ingest',
    auth: ['token', 'iam'],
    bodyModel: INGEST_REQUEST,
  },
  {
    // OTLP/HTTP traces (protobuf or JSON): no body model, API Gateway cannot check a protobuf body.
    method: 'POST',
    path: '/v1/traces',
    function: 'traces',
    auth: ['token', 'iam'],
  },
  {
    method: 'GET',
    path: '/v1/workflows/{workflowId}/events',
    function: 'read-events',
    auth: ['token', 'iam'],
    queryParameters: ['from', 'to', 'unitId', 'type', 'limit', 'cursor'],
  },
  {
    method: 'GET',
    path: '/v1/workflows/{workflowId}/autonomy',
    function: 'autonomy',
    auth: ['token', 'iam'],
  },
  {
    // Flipping is for people and automation with IAM identities, never for bearer tokens.
    method: 'POST',
    path: '/v1/workflows/{workflowId}/kill-switch',
    function: 'kill-switch',
    auth: ['iam'],
    bodyModel: KILL_SWITCH_REQUEST,
  },
  {
    method: 'GET',
    path: '/v1/workflows/{workflowId}/kpis',
    function: 'kpis',
    auth: ['token', 'iam'],
    queryParameters: ['week'],
  },
  {
    method: 'GET',
    path: '/v1/workflows/{workflowId}/reviews',
    function: 'reviews',
    auth: ['token', 'iam'],
    queryParameters: ['status', 'limit', 'cursor'],
  },
  // The console: server-rendered pages for people, behind their sign-in (functions/console).
  ...consoleRoutes([
    ['GET', '/'],
    ['GET', '/sign-in'],
    ['POST', '/sign-in'],
    ['GET', '/sign-in/callback'],
    ['POST', '/sign-out'],
    ['GET', '/reviews'],
    ['GET', '/units'],
    ['GET', '/units/{workflowId}/{unitId}'],
    ['POST', '/units/{workflowId}/{unitId}'],
    ['GET', '/kill-switch'],
    ['POST', '/kill-switch/{flag}'],
    ['POST', '/kill-switch/{flag}/drill'],
    ['GET', '/reports'],
    ['GET', '/reports/{key+}'],
    // Incidents and their postmortems (issue 10 item 3).
    ['GET', '/incidents'],
    ['GET', '/incidents/{incidentId}'],
    ['POST', '/incidents/{incidentId}/postmortem'],
    // The one script: it keeps the verdict form's Minutes at the time the page has been open.
    ['GET', '/console.js'],
  ]),
] as const satisfies readonly ApiRoute[];

function consoleRoutes<const Paths extends readonly (readonly ['GET' | 'POST', string])[]>(paths: Paths) {
  return paths.map(([method, path]) => ({
    method,
    path,
    function: 'console' as const,
    auth: ['session'] as const,
  }));
}

export type ApiFunction = (typeof API_ROUTES)[number]['function'];

/** The route `fn` serves, for the functions that serve one (every API function but the console). */
export function routeServedBy(fn: Exclude<ApiFunction, 'console'>): ApiRoute {
  const route = API_ROUTES.find((candidate) => candidate.function === fn);
  if (!route) throw new Error(`no API route is served by ${fn}`);
  return route;
}

/** Who reaches a route: `open` for anyone without credentials, or each kind of caller it serves. */
export type Access = 'open' | CallerKind;

export function accessesOf(route: ApiRoute): readonly Access[] {
  return route.auth === 'open' ? ['open'] : route.auth;
}

/** Where `access` reaches the route: under `/iam` for SigV4 callers, at its path otherwise. */
export function routePath(route: ApiRoute, access: Access): string {
  return access === 'iam' ? `/iam${route.path}` : route.path;
}

/** The `{name}` (and greedy `{name+}`) segments of the route's path, by name. */
export function pathParameterNames(route: ApiRoute): string[] {
  return [...route.path.matchAll(/\{([^}+]+)\+?\}/g)].map((match) => match[1] as string);
}

/** The routes of `Routes` that `access` reaches (open routes: anyone). */
type ReachedBy<Routes, A extends CallerKind> = Routes extends { auth: 'open' }
  ? Routes
  : Routes extends { auth: readonly (infer Kind)[] }
    ? A extends Kind
      ? Routes
      : never
    : never;

/**
 * The functions of the routes a bearer-token caller, a signed-in person or anyone can reach: those the
 * local API serves (it has no SigV4).
 */
export type TokenApiFunction =
  | ReachedBy<(typeof API_ROUTES)[number], 'token'>['function']
  | ReachedBy<(typeof API_ROUTES)[number], 'session'>['function'];
