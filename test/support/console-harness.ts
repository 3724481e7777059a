import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { expect } from 'vitest';
import { httpStack } from '#functions/commons/middy-stack.ts';
import {
  type ConsoleDependencies,
  makeConsoleHandler,
  presentConsoleError,
} from '#functions/console/make-handler.ts';
import { API_ROUTES } from '#lib/api/routes.ts';
import { issueToken } from '#lib/auth/tokens.ts';
import type { ReportsReader } from '#lib/console/overview/reports.ts';
import { SessionSealer } from '#lib/console/session.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import type { AutonomyState } from '#lib/kill-switch/autonomy.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { DEFAULT_HOT_INDEX_DAYS } from '#lib/storage/ledger-table.ts';
import { lambdaContext } from '#local-stack/api-server.ts';
import { InMemoryArchivedEvents } from './in-memory-archived-events.ts';
import {
  InMemoryAccessStore,
  InMemoryDrillStore,
  InMemoryEventArchive,
  InMemoryEventIndex,
  InMemoryFlags,
  InMemoryKpiStore,
  InMemoryPostmortemStore,
  InMemoryReviewQueue,
} from './in-memory-stores.ts';

/**
 * The console in its local form (token sign-in) over in-memory stores, for the unit tests of its pages:
 * the handler with its error boundary, the stores to arrange and inspect, and a browser that keeps its
 * session cookie and sends API Gateway events as the local API would.
 */

export const CONSOLE_NOW = new Date('2026-12-01T14:00:00Z');
export const CONSOLE_HASHER = new ActorHasher(Buffer.alloc(32, 7));

export function consoleUnderTest(options: { readonly reports?: ReportsReader } = {}) {
  const tokens = new InMemoryAccessStore();
  const index = new InMemoryEventIndex();
  // What ingest archives (verdicts), and where a test puts events the index has let go of.
  const archive = new InMemoryEventArchive();
  const reviews = new InMemoryReviewQueue();
  const flags = new InMemoryFlags([...defaultRegistry.ids(), MASTER_FLAG]);
  const drills = new InMemoryDrillStore();
  const postmortems = new InMemoryPostmortemStore();
  // The lane as the flags say, at once (the flag poll is the integration tests' to show).
  const autonomy = async (workflowId: string): Promise<AutonomyState> => {
    const allowed = flags.values[workflowId]?.enabled === true && flags.values[MASTER_FLAG]?.enabled === true;
    return {
      workflowId,
      autonomousAllowed: allowed,
      lane: allowed ? 'autonomous' : 'hitl',
      flagVersion: null,
      reason: null,
      changedAt: null,
    };
  };
  const deps: ConsoleDependencies = {
    registry: { current: async () => defaultRegistry },
    sessions: new SessionSealer(randomBytes(32)),
    signIn: { kind: 'token', tokens },
    overview: {
      kpis: new InMemoryKpiStore(),
      autonomy,
      reports: options.reports ?? {
        listKeys: async () => ({ keys: [], truncated: false }),
        open: async () => undefined,
      },
      timeoutMs: 1000,
    },
    autonomy,
    flags: { reader: flags, writer: flags },
    drills,
    reviews,
    index,
    archive: { events: new InMemoryArchivedEvents(archive), hotIndexDays: DEFAULT_HOT_INDEX_DAYS },
    ingest: {
      index,
      archive,
      hasher: CONSOLE_HASHER,
      clock: () => CONSOLE_NOW,
      reviews,
    },
    hasher: CONSOLE_HASHER,
    clock: () => CONSOLE_NOW,
    secureCookies: false,
    drillTimeoutMs: 1000,
    target: 'the unit test',
    postmortems,
  };
  const handler = httpStack(undefined, makeConsoleHandler(deps), { presentError: presentConsoleError });
  return { handler, deps, tokens, index, archive, reviews, flags, drills, postmortems };
}

export type ConsoleUnderTest = ReturnType<typeof consoleUnderTest>;

const CONSOLE_ROUTES = API_ROUTES.filter((route) => route.function === 'console').map((route) => ({
  route,
  pattern: new RegExp(
    `^${route.path
      .split('/')
      .map((segment) => (segment.endsWith('+}') ? '(.+)' : segment.startsWith('{') ? '([^/]+)' : segment))
      .join('/')}$`,
  ),
}));

type ConsoleHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** A browser of the console: keeps its session cookie, as Chromium would. */
export class ConsoleBrowser {
  cookie: string | undefined;
  constructor(readonly console: { readonly handler: ConsoleHandler }) {}

  async send(
    method: 'GET' | 'POST',
    pathAndQuery: string,
    form?: Record<string, string>,
  ): Promise<APIGatewayProxyResult & { text: string }> {
    const url = new URL(pathAndQuery, 'http://127.0.0.1:3000');
    const match = CONSOLE_ROUTES.find(
      ({ route, pattern }) => route.method === method && pattern.test(url.pathname),
    );
    if (!match) throw new Error(`no console route for ${method} ${url.pathname}`);
    const values = match.pattern.exec(url.pathname)?.slice(1) ?? [];
    const names = [...match.route.path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1] as string);
    const headers: Record<string, string> = { host: '127.0.0.1:3000' };
    if (this.cookie) headers.cookie = this.cookie;
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const event = {
      resource: match.route.path,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders: {},
      queryStringParameters: url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
      pathParameters:
        names.length > 0
          ? Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(values[i] ?? '')]))
          : null,
      body: form ? new URLSearchParams(form).toString() : null,
      isBase64Encoded: false,
      requestContext: { path: url.pathname },
    } as unknown as APIGatewayProxyEvent;
    const response = await this.console.handler(event, lambdaContext('console', 'test'));
    const setCookie = response.multiValueHeaders?.['set-cookie']?.[0];
    if (setCookie) this.cookie = String(setCookie).split(';')[0];
    const text = response.isBase64Encoded
      ? Buffer.from(response.body, 'base64').toString('utf8')
      : response.body;
    return { ...response, text };
  }

  get = (path: string) => this.send('GET', path);

  /** The CSRF token the session's pages carry (read from `page`, a page with a form). */
  async csrf(page = '/reviews'): Promise<string> {
    const answer = await this.get(page);
    const csrf = /name="csrf" value="([^"]+)"/.exec(answer.text)?.[1];
    if (!csrf) throw new Error(`no csrf field on ${page}: ${answer.statusCode}`);
    return csrf;
  }
}

/** A person with a token of `roles` on `workflows`, signed in through the sign-in link. */
export async function signedInPerson(
  console: ConsoleUnderTest,
  roles: string,
  workflows = 'support-triage',
  label = 'reviewer-a',
) {
  const { token, record } = issueToken({ workflows, roles, label, now: CONSOLE_NOW });
  await console.tokens.putToken(record);
  const browser = new ConsoleBrowser(console);
  expect((await browser.get(`/?token=${token}`)).statusCode).toBe(303);
  return { browser, token, tokenId: record.tokenId };
}
