import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpStack } from '#functions/commons/middy-stack.ts';
import {
  basePath,
  type ConsoleDependencies,
  makeConsoleHandler,
  presentConsoleError,
  type SignInMethod,
} from '#functions/console/make-handler.ts';
import { API_ROUTES } from '#lib/api/routes.ts';
import { OidcSignIn } from '#lib/console/oidc.ts';
import { SessionSealer } from '#lib/console/session.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { readAutonomy } from '#lib/kill-switch/autonomy.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { createApiServer, lambdaContext, type Route } from '#local-stack/api-server.ts';
import { InMemoryArchivedEvents } from '../support/in-memory-archived-events.ts';
import {
  InMemoryDrillStore,
  InMemoryEventArchive,
  InMemoryEventIndex,
  InMemoryFlags,
  InMemoryKpiStore,
  InMemoryPostmortemStore,
  InMemoryReviewQueue,
} from '../support/in-memory-stores.ts';
import { type OidcStandIn, type StandInUser, startOidcStandIn } from '../support/oidc-stand-in.ts';

// The console's cloud sign-in end to end: the console handler (as in the cloud: the user pool's code
// flow, `__Host-` cookies) served over real HTTP on 127.0.0.1 by the local API server, signing people in
// at the local OpenID Connect stand-in. Redirects and cookies are real; the stores are in memory.

const CLIENT_ID = 'console-client';
const COOKIE = '__Host-agent-ledger-session';

const user = (username: string, groups: readonly string[]): StandInUser => ({
  sub: `sub-${username}`,
  username,
  email: `${username}@example.com`,
  groups,
});
const REVIEWER = user('rita', ['reviewer:support-triage', 'staff']);
const VIEWER = user('victor', ['viewer']);
const CODE_REVIEW_OPERATOR = user('olga', ['operator:code-review']);
const OPERATOR = user('otto', ['operator']);
const NOBODY = user('nadia', ['staff']);

interface Console {
  readonly origin: string;
  readonly flags: InMemoryFlags;
  readonly standIn: OidcStandIn;
  close(): Promise<void>;
}

/** The console as in the cloud (secure cookies), over in-memory stores, signing in with `signIn`. */
function dependencies(flags: InMemoryFlags, signIn: SignInMethod): ConsoleDependencies {
  const index = new InMemoryEventIndex();
  const reviews = new InMemoryReviewQueue();
  const hasher = new ActorHasher(Buffer.alloc(32, 7));
  const clock = () => new Date();
  const autonomy: ConsoleDependencies['autonomy'] = (workflowId, phase) =>
    readAutonomy(workflowId, flags, undefined, phase);
  return {
    registry: { current: async () => defaultRegistry },
    sessions: new SessionSealer(new Uint8Array(randomBytes(32))),
    signIn,
    overview: {
      kpis: new InMemoryKpiStore(),
      autonomy,
      reports: { listKeys: async () => ({ keys: [], truncated: false }), open: async () => undefined },
      timeoutMs: 1_000,
    },
    autonomy,
    flags: { reader: flags, writer: flags },
    drills: new InMemoryDrillStore(),
    reviews,
    archive: { events: new InMemoryArchivedEvents(new InMemoryEventArchive()), hotIndexDays: 45 },
    index,
    ingest: { index, archive: new InMemoryEventArchive(), hasher, clock, reviews },
    hasher,
    clock,
    secureCookies: true,
    drillTimeoutMs: 1_000,
    target: 'the test',
    postmortems: new InMemoryPostmortemStore(),
  };
}

/**
 * The console on a port of its own with a stand-in user pool. The server listens first (the stand-in must
 * know the console's callback URL), then the handler is made, its sign-in reaching the stand-in through
 * one client per callback URL, as functions/console/handler.ts wires it.
 */
async function startConsole(): Promise<Console> {
  let handler: ReturnType<typeof httpStack> | undefined;
  const routes: Route[] = API_ROUTES.filter((route) => route.function === 'console').map((route) => ({
    method: route.method,
    resource: route.path,
    functionName: route.function,
    handler: (event, context) => (handler as ReturnType<typeof httpStack>)(event, context),
    authorized: false,
  }));
  const server: Server = createApiServer({
    routes,
    authorizer: async () => {
      throw new Error('the console routes have no authorizer');
    },
    stage: 'test',
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const standIn = await startOidcStandIn({
    clientId: CLIENT_ID,
    redirectUris: [`${origin}/sign-in/callback`],
    logoutUris: [`${origin}/sign-in?signedOut=1`],
  });

  const clients = new Map<string, OidcSignIn>();
  const flags = new InMemoryFlags([MASTER_FLAG, ...defaultRegistry.ids()]);
  handler = httpStack(
    undefined,
    makeConsoleHandler(
      dependencies(flags, {
        kind: 'oidc',
        oidc: (redirectUri) => {
          let client = clients.get(redirectUri);
          if (!client) {
            client = new OidcSignIn({
              issuer: standIn.issuer,
              clientId: CLIENT_ID,
              redirectUri,
              logoutUrl: standIn.logoutUrl,
            });
            clients.set(redirectUri, client);
          }
          return client;
        },
        logoutOrigin: new URL(standIn.logoutUrl).origin,
      }),
    ),
    { presentError: presentConsoleError },
  );

  return {
    origin,
    flags,
    standIn,
    close: async () => {
      await standIn.close().catch(() => undefined);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A browser's part: one cookie jar for the console's origin, redirects not followed. */
class Browser {
  readonly cookies = new Map<string, string>();
  /** The `set-cookie` headers of the last answer. */
  setCookies: string[] = [];

  constructor(readonly origin: string) {}

  async get(path: string): Promise<Response> {
    return this.#send(path, { method: 'GET' });
  }

  async post(path: string, form: Record<string, string>): Promise<Response> {
    return this.#send(path, { method: 'POST', body: new URLSearchParams(form) });
  }

  /** A copy with the same cookies (another tab of the same browser, or a thief's copy). */
  clone(): Browser {
    const copy = new Browser(this.origin);
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }

  async #send(path: string, init: RequestInit): Promise<Response> {
    const url = new URL(path, this.origin);
    expect(url.origin).toBe(this.origin);
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: cookie ? { cookie } : {},
    });
    this.setCookies = response.headers.getSetCookie();
    for (const header of this.setCookies) {
      const [pair = ''] = header.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const maxAge = /;\s*Max-Age=(\d+)/i.exec(header)?.[1];
      if (maxAge === '0') this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(at + 1));
    }
    return response;
  }
}

/** Where a 303 sends the browser, resolved against the console. */
function locationOf(response: Response, origin: string): URL {
  expect(response.status).toBe(303);
  return new URL(response.headers.get('location') as string, origin);
}

function csrfOf(page: string): string {
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  expect(csrf).toBeDefined();
  return csrf as string;
}

/** The way to the callback: the console's sign-in, then the stand-in's redirect back (as `nextUser`). */
async function toCallback(app: Console, browser: Browser, who: StandInUser): Promise<URL> {
  const signIn = await browser.get('/sign-in?returnTo=%2Freviews');
  const authorize = locationOf(signIn, app.origin);
  app.standIn.nextUser = who;
  const atProvider = await fetch(authorize, { redirect: 'manual' });
  expect(atProvider.status).toBe(302);
  return new URL(atProvider.headers.get('location') as string);
}

/** Signs `who` in through the code flow; answers the Reviews page's HTML. */
async function signInAs(app: Console, browser: Browser, who: StandInUser): Promise<string> {
  const callback = await toCallback(app, browser, who);
  const back = await browser.get(callback.pathname + callback.search);
  expect(locationOf(back, app.origin).pathname).toBe('/reviews');
  const reviews = await browser.get('/reviews');
  expect(reviews.status).toBe(200);
  return reviews.text();
}

/** Whether the browser is signed in: a page answers, rather than a redirect to sign in. */
async function signedIn(browser: Browser): Promise<boolean> {
  const response = await browser.get('/reviews');
  await response.arrayBuffer();
  if (response.status === 200) return true;
  expect(response.status).toBe(303);
  expect(response.headers.get('location')).toBe('/sign-in?returnTo=%2Freviews');
  return false;
}

let app: Console;

beforeAll(async () => {
  app = await startConsole();
});

afterAll(async () => {
  await app.close();
});

beforeEach(() => {
  app.standIn.nextUser = undefined;
  app.standIn.denyNext = false;
  app.standIn.tampering = {};
});

describe('the console signs people in through the code flow', () => {
  it('sends a visitor to sign in, on to the provider and back, then shows their page with their workflows', async () => {
    // Prepare
    const browser = new Browser(app.origin);

    // Act: the page, without a session
    const first = await browser.get('/reviews');

    // Assess: on to the console's sign-in, which sends the browser on to the provider
    expect(locationOf(first, app.origin).href).toBe(`${app.origin}/sign-in?returnTo=%2Freviews`);
    const signIn = await browser.get('/sign-in?returnTo=%2Freviews');
    const authorize = locationOf(signIn, app.origin);
    expect(authorize.origin + authorize.pathname).toBe(`${app.standIn.logoutUrl}/oauth2/authorize`);
    expect(authorize.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${app.origin}/sign-in/callback`);
    expect(authorize.searchParams.get('response_type')).toBe('code');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();

    // Act: the provider signs the person in and sends them back with a code
    app.standIn.nextUser = REVIEWER;
    const atProvider = await fetch(authorize, { redirect: 'manual' });
    expect(atProvider.status).toBe(302);
    const callback = new URL(atProvider.headers.get('location') as string);
    expect(callback.origin + callback.pathname).toBe(`${app.origin}/sign-in/callback`);
    expect(callback.searchParams.get('state')).toBe(authorize.searchParams.get('state'));
    const before = browser.cookies.get(COOKIE);
    const back = await browser.get(callback.pathname + callback.search);

    // Assess: back where they were going, with a new session
    expect(locationOf(back, app.origin).href).toBe(`${app.origin}/reviews`);
    expect(browser.cookies.get(COOKIE)).toBeDefined();
    expect(browser.cookies.get(COOKIE)).not.toBe(before);
    const reviews = await browser.get('/reviews');
    expect(reviews.status).toBe(200);
    const page = await reviews.text();
    expect(page).toContain('Signed in as <strong data-testid="signed-in-as">rita</strong>');
    const filter = /<select id="filter-workflow"[^>]*>([\s\S]*?)<\/select>/.exec(page)?.[1] ?? '';
    const options = [...filter.matchAll(/<option value="([^"]*)"/g)].map((match) => match[1]);
    expect(options).toEqual(['', 'support-triage']);
  });
});

describe('the groups of the ID token are the person’s roles, checked on the server', () => {
  it('refuses a viewer a verdict and a flip', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const csrf = csrfOf(await signInAs(app, browser, VIEWER));

    // Act
    const verdict = await browser.post('/units/support-triage/unit-1', {
      csrf,
      verdict: 'pass',
      verdictId: '00000000-0000-4000-8000-000000000001',
      minutes: '3',
    });
    const flip = await browser.post('/kill-switch/support-triage', {
      csrf,
      enabled: 'false',
      reason: 'a viewer tries',
    });

    // Assess
    expect(verdict.status).toBe(403);
    expect(await verdict.text()).toContain('Not allowed');
    expect(flip.status).toBe(403);
    expect(await flip.text()).toContain('Not allowed');
    expect(app.flags.flips).toEqual([]);
  });

  it('lets an operator of one workflow flip that workflow only, not another nor the master flag', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const csrf = csrfOf(await signInAs(app, browser, CODE_REVIEW_OPERATOR));
    const flipsBefore = app.flags.flips.length;

    // Act
    const own = await browser.post('/kill-switch/code-review', {
      csrf,
      enabled: 'false',
      reason: 'drift on code-review',
    });
    const other = await browser.post('/kill-switch/support-triage', {
      csrf,
      enabled: 'false',
      reason: 'not mine',
    });
    const master = await browser.post(`/kill-switch/${MASTER_FLAG}`, {
      csrf,
      enabled: 'false',
      reason: 'stop everything',
    });

    // Assess
    expect(locationOf(own, app.origin).pathname).toBe('/kill-switch');
    expect(other.status).toBe(403);
    expect(master.status).toBe(403);
    expect(app.flags.flips.slice(flipsBefore)).toEqual([
      { flag: 'code-review', change: { enabled: false, reason: 'drift on code-review', changedBy: 'olga' } },
    ]);
  });

  it('lets an operator of every workflow flip the master flag', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const csrf = csrfOf(await signInAs(app, browser, OPERATOR));
    const flipsBefore = app.flags.flips.length;

    // Act
    const master = await browser.post(`/kill-switch/${MASTER_FLAG}`, {
      csrf,
      enabled: 'false',
      reason: 'stop everything',
    });

    // Assess
    expect(locationOf(master, app.origin).pathname).toBe('/kill-switch');
    expect(app.flags.flips.slice(flipsBefore)).toEqual([
      { flag: MASTER_FLAG, change: { enabled: false, reason: 'stop everything', changedBy: 'otto' } },
    ]);
  });

  it('signs no one in who has no role group: the callback answers No access', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const callback = await toCallback(app, browser, NOBODY);

    // Act
    const back = await browser.get(callback.pathname + callback.search);

    // Assess
    expect(back.status).toBe(403);
    const page = await back.text();
    expect(page).toContain('No access');
    expect(page).toContain('You are signed in as nadia, but no console role is yours yet');
    expect(await signedIn(browser)).toBe(false);
  });
});

describe('the callback refuses what it cannot verify, with a page, signing no one in', () => {
  async function refused(response: Response): Promise<string> {
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain('Sign-in failed');
    return page;
  }

  it('refuses a state that is not the one the session sent', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const callback = await toCallback(app, browser, REVIEWER);
    callback.searchParams.set('state', 'not-the-state-sent');

    // Act
    const back = await browser.get(callback.pathname + callback.search);

    // Assess
    expect(await refused(back)).toContain('sign in again');
    expect(await signedIn(browser)).toBe(false);
  });

  it('refuses a callback replayed with its code already used', async () => {
    // Prepare: a copy of the session before the callback, the way an attacker would replay it
    const browser = new Browser(app.origin);
    const callback = await toCallback(app, browser, REVIEWER);
    const replayer = browser.clone();
    const first = await browser.get(callback.pathname + callback.search);
    expect(locationOf(first, app.origin).pathname).toBe('/reviews');

    // Act
    const again = await replayer.get(callback.pathname + callback.search);
    const sameBrowserAgain = await browser.get(callback.pathname + callback.search);

    // Assess
    await refused(again);
    expect(await signedIn(replayer)).toBe(false);
    // The browser that signed in has no sign-in in progress any more: refused, still signed in.
    await refused(sameBrowserAgain);
    expect(await signedIn(browser)).toBe(true);
  });

  it('refuses a sign-in the provider denied', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const authorize = locationOf(await browser.get('/sign-in?returnTo=%2Freviews'), app.origin);
    app.standIn.denyNext = true;
    const callback = new URL(
      (await fetch(authorize, { redirect: 'manual' })).headers.get('location') as string,
    );
    expect(callback.searchParams.get('error')).toBe('access_denied');

    // Act
    const back = await browser.get(callback.pathname + callback.search);

    // Assess
    expect(await refused(back)).toContain('sign-in was cancelled or refused');
    expect(await signedIn(browser)).toBe(false);
  });

  it('refuses an ID token signed with a key not in the provider’s JWKS', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const callback = await toCallback(app, browser, OPERATOR);
    app.standIn.tampering = { rogueKey: true };

    // Act
    const back = await browser.get(callback.pathname + callback.search);

    // Assess
    expect(await refused(back)).toContain('could not be verified');
    expect(await signedIn(browser)).toBe(false);
  });

  it('refuses an ID token that has already expired', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const callback = await toCallback(app, browser, REVIEWER);
    const past = Math.floor(Date.now() / 1000) - 600;
    app.standIn.tampering = { claims: { iat: past - 60, auth_time: past - 60, exp: past } };

    // Act
    const back = await browser.get(callback.pathname + callback.search);

    // Assess
    await refused(back);
    expect(await signedIn(browser)).toBe(false);
  });

  it('refuses a callback where no sign-in was started', async () => {
    // Prepare: a code issued to one browser, brought to another that never started a sign-in
    const callback = await toCallback(app, new Browser(app.origin), REVIEWER);
    const fresh = new Browser(app.origin);

    // Act
    const back = await fresh.get(callback.pathname + callback.search);

    // Assess
    expect(await refused(back)).toContain('This sign-in was not started here');
    expect(await signedIn(fresh)).toBe(false);
  });
});

describe('the identity provider down', () => {
  it('answers a page that says signing in again is safe, never a crash', async () => {
    // Prepare: a console whose provider has gone before anyone signed in
    const alone = await startConsole();
    try {
      await alone.standIn.close();
      const browser = new Browser(alone.origin);

      // Act
      const signIn = await browser.get('/sign-in?returnTo=%2Freviews');

      // Assess
      expect(signIn.status).toBe(503);
      expect(signIn.headers.get('content-type')).toContain('text/html');
      const page = await signIn.text();
      expect(page).toContain('Unavailable, retry');
      expect(page).toContain('signing in again is safe');
    } finally {
      await alone.close();
    }
  });

  it('answers the same page when the provider goes between sign-in and callback', async () => {
    // Prepare
    const alone = await startConsole();
    try {
      const browser = new Browser(alone.origin);
      const callback = await toCallback(alone, browser, REVIEWER);
      await alone.standIn.close();

      // Act
      const back = await browser.get(callback.pathname + callback.search);

      // Assess
      expect(back.status).toBe(503);
      expect(await back.text()).toContain('signing in again is safe');
    } finally {
      await alone.close();
    }
  });
});

describe('signing out', () => {
  it('ends the session and sends the browser through the provider’s logout back to the console', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const csrf = csrfOf(await signInAs(app, browser, REVIEWER));

    // Act
    const signOut = await browser.post('/sign-out', { csrf });

    // Assess: on to the provider's logout, which sends the browser back to the console's sign-in
    const logout = locationOf(signOut, app.origin);
    expect(logout.origin + logout.pathname).toBe(`${app.standIn.logoutUrl}/logout`);
    expect(logout.searchParams.get('client_id')).toBe(CLIENT_ID);
    const signedOutUri = `${app.origin}/sign-in?signedOut=1`;
    expect(logout.searchParams.get('logout_uri')).toBe(signedOutUri);
    const atProvider = await fetch(logout, { redirect: 'manual' });
    expect(atProvider.status).toBe(302);
    expect(atProvider.headers.get('location')).toBe(signedOutUri);
    expect(app.standIn.signOuts.at(-1)).toBe(signedOutUri);
    expect(browser.setCookies).toHaveLength(1);
    expect(await signedIn(browser)).toBe(false);
    const signedOutPage = await browser.get('/sign-in?signedOut=1');
    expect(signedOutPage.status).toBe(200);
    expect(await signedOutPage.text()).toContain('You are signed out.');
  });

  it('refuses a sign-out without the session’s CSRF token', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    await signInAs(app, browser, REVIEWER);

    // Act
    const signOut = await browser.post('/sign-out', { csrf: 'forged' });

    // Assess
    expect(signOut.status).toBe(403);
    expect(await signedIn(browser)).toBe(true);
  });

  it('lets the sign-out form post to the provider (the policy’s form-action names its origin)', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    await signInAs(app, browser, REVIEWER);

    // Act
    const page = await browser.get('/reviews');

    // Assess
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain(`form-action 'self' ${app.standIn.logoutUrl}`);
  });
});

describe('the session cookie', () => {
  it('is a __Host- cookie: HttpOnly, Secure, SameSite=Lax, Path=/', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const callback = await toCallback(app, browser, REVIEWER);

    // Act
    await browser.get(callback.pathname + callback.search);

    // Assess
    expect(browser.setCookies).toHaveLength(1);
    const attributes = (browser.setCookies[0] as string).split(';').map((part) => part.trim());
    expect(attributes[0]?.startsWith(`${COOKIE}=`)).toBe(true);
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/']));
    expect(attributes.some((part) => part.startsWith('Domain='))).toBe(false);
  });

  it('treats a tampered cookie as no session: on to sign in, never an error', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    await signInAs(app, browser, REVIEWER);
    const sealed = browser.cookies.get(COOKIE) as string;
    const at = Math.floor(sealed.length / 2);
    const flipped = `${sealed.slice(0, at)}${sealed[at] === 'A' ? 'B' : 'A'}${sealed.slice(at + 1)}`;

    for (const value of [flipped, 'not-a-session', `${sealed}x`]) {
      const tampered = new Browser(app.origin);
      tampered.cookies.set(COOKIE, value);

      // Act + Assess
      expect(await signedIn(tampered)).toBe(false);
    }
  });

  it('ends no later than the ID token it was made from', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const callback = await toCallback(app, browser, REVIEWER);

    // Act
    await browser.get(callback.pathname + callback.search);

    // Assess: the stand-in's ID tokens last an hour; a signed-in session would otherwise last eight
    const maxAge = Number(/Max-Age=(\d+)/.exec(browser.setCookies[0] ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(3500);
    expect(maxAge).toBeLessThanOrEqual(3600);
  });

  it('ends with an ID token that expires sooner', async () => {
    // Prepare
    const browser = new Browser(app.origin);
    const callback = await toCallback(app, browser, REVIEWER);
    app.standIn.tampering = { claims: { exp: Math.floor(Date.now() / 1000) + 120 } };

    // Act
    await browser.get(callback.pathname + callback.search);

    // Assess
    const maxAge = Number(/Max-Age=(\d+)/.exec(browser.setCookies[0] ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(120);
  });
});

describe('basePath', () => {
  const event = (path: string, contextPath: string): APIGatewayProxyEvent =>
    ({ path, requestContext: { path: contextPath } }) as APIGatewayProxyEvent;

  it('is the stage behind API Gateway’s execute-api domain', () => {
    expect(basePath(event('/reviews', '/prod/reviews'))).toBe('/prod/');
    expect(basePath(event('/units/code-review/u-1', '/prod/units/code-review/u-1'))).toBe('/prod/');
    expect(basePath(event('/', '/prod/'))).toBe('/prod/');
    // The stage's root typed without its slash: API Gateway's path is `/`, the request's `/prod`.
    expect(basePath(event('/', '/prod'))).toBe('/prod/');
    expect(basePath(event('/reviews/', '/prod/reviews/'))).toBe('/prod/');
  });

  it('is the root where the paths are the same (the local stack, a custom domain)', () => {
    expect(basePath(event('/reviews', '/reviews'))).toBe('/');
    expect(basePath(event('/', '/'))).toBe('/');
  });
});

describe('the console behind API Gateway’s execute-api domain', () => {
  it('keeps the stage in its redirects and sends the provider the stage’s callback URL, over https', async () => {
    // Prepare: a sign-in that only records the callback URL it is made for (no provider, no network)
    const asked: string[] = [];
    const authorize = new URL('https://login.example.com/oauth2/authorize?state=s');
    const handler = makeConsoleHandler(
      dependencies(new InMemoryFlags([MASTER_FLAG, ...defaultRegistry.ids()]), {
        kind: 'oidc',
        oidc: (redirectUri) => {
          asked.push(redirectUri);
          return {
            begin: async () => ({ url: authorize, pending: { state: 's', nonce: 'n', codeVerifier: 'v' } }),
          } as unknown as OidcSignIn;
        },
      }),
    );
    // The events as API Gateway passes them for https://<api>.execute-api.<region>.amazonaws.com/prod/…
    const request = (path: string, query: Record<string, string> | null): APIGatewayProxyEvent =>
      ({
        httpMethod: 'GET',
        resource: path,
        path,
        headers: { Host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'X-Forwarded-Proto': 'https' },
        multiValueHeaders: {},
        queryStringParameters: query,
        pathParameters: null,
        body: null,
        isBase64Encoded: false,
        requestContext: { path: `/prod${path}`, stage: 'prod' },
      }) as unknown as APIGatewayProxyEvent;

    // Act
    const page = await handler(request('/reviews', null), lambdaContext('console', 'r-1'));
    const signIn = await handler(
      request('/sign-in', { returnTo: '/reviews' }),
      lambdaContext('console', 'r-2'),
    );

    // Assess
    expect(page.statusCode).toBe(303);
    expect(page.headers?.location).toBe('/prod/sign-in?returnTo=%2Freviews');
    expect(signIn.statusCode).toBe(303);
    expect(signIn.headers?.location).toBe(authorize.href);
    expect(asked).toEqual(['https://abc123.execute-api.eu-west-1.amazonaws.com/prod/sign-in/callback']);
    expect(String(signIn.multiValueHeaders?.['set-cookie']?.[0])).toMatch(
      new RegExp(`^${COOKIE}=[^;]+; Path=/; `),
    );
  });
});
