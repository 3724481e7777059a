import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  IdentityProviderUnavailableError,
  OidcSignIn,
  type PendingSignIn,
  SignInFailedError,
} from '#lib/console/oidc.ts';
import { type OidcStandIn, type StandInUser, startOidcStandIn } from '../support/oidc-stand-in.ts';

// The console's cloud sign-in against the local OpenID Connect stand-in (loopback only, no local stack).

const CLIENT_ID = 'console-client';
const REDIRECT_URI = 'http://127.0.0.1:9/sign-in/callback';
const SIGNED_OUT_URI = 'http://127.0.0.1:9/signed-out';
const ALICE: StandInUser = {
  sub: '7d1c0f5e-1111-4a2b-9c3d-000000000001',
  username: 'alice',
  email: 'alice@example.com',
  groups: ['reviewers', 'operators'],
};

let standIn: OidcStandIn;
let signIn: OidcSignIn;

beforeAll(async () => {
  standIn = await startOidcStandIn({
    clientId: CLIENT_ID,
    redirectUris: [REDIRECT_URI],
    users: [ALICE],
    logoutUris: [SIGNED_OUT_URI],
  });
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  standIn.nextUser = ALICE;
  standIn.denyNext = false;
  standIn.tampering = {};
  signIn = new OidcSignIn({ issuer: standIn.issuer, clientId: CLIENT_ID, redirectUri: REDIRECT_URI });
});

/** What the browser does between `begin` and the callback: follows the authorization URL to the redirect. */
async function authorize(url: URL): Promise<URL> {
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') as string);
  expect(location.origin + location.pathname).toBe(REDIRECT_URI);
  return location;
}

async function signInFlow(): Promise<{ callback: URL; pending: PendingSignIn }> {
  const { url, pending } = await signIn.begin();
  return { callback: await authorize(url), pending };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('OidcSignIn.begin', () => {
  it('sends the person to the authorization endpoint with a code request, PKCE S256, state and nonce', async () => {
    // Act
    const { url, pending } = await signIn.begin();

    // Assess
    expect(url.origin + url.pathname).toBe(`${new URL(standIn.issuer).origin}/oauth2/authorize`);
    const query = url.searchParams;
    expect(query.get('response_type')).toBe('code');
    expect(query.get('client_id')).toBe(CLIENT_ID);
    expect(query.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(query.get('scope')).toBe('openid email profile');
    expect(query.get('code_challenge_method')).toBe('S256');
    expect(query.get('state')).toBe(pending.state);
    expect(query.get('nonce')).toBe(pending.nonce);
    expect(query.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.get('code_challenge')).not.toBe(pending.codeVerifier);
  });

  it('starts each sign-in with its own state, nonce and verifier', async () => {
    const [first, second] = await Promise.all([signIn.begin(), signIn.begin()]);
    expect(first.pending.state).not.toBe(second.pending.state);
    expect(first.pending.nonce).not.toBe(second.pending.nonce);
    expect(first.pending.codeVerifier).not.toBe(second.pending.codeVerifier);
  });
});

describe('OidcSignIn.complete', () => {
  it('exchanges the code and returns who signed in, with their groups', async () => {
    // Prepare
    const { callback, pending } = await signInFlow();

    // Act
    const who = await signIn.complete(callback, pending);

    // Assess
    expect(who).toEqual({
      subject: ALICE.sub,
      name: 'alice',
      email: 'alice@example.com',
      groups: ['reviewers', 'operators'],
      expiresAt: expect.any(Number),
    });
    const now = Date.now() / 1000;
    expect(who.expiresAt).toBeGreaterThan(now + 3500);
    expect(who.expiresAt).toBeLessThanOrEqual(now + 3601);
  });

  it('signs in through the stand-in form too (the way a browser test does)', async () => {
    // Prepare
    standIn.nextUser = undefined;
    const { url, pending } = await signIn.begin();
    const form = await (await fetch(url)).text();
    const request = /name="request" value="([^"]+)"/.exec(form)?.[1] as string;

    // Act
    const answer = await fetch(new URL('/oauth2/authorize', url), {
      method: 'POST',
      body: new URLSearchParams({ request, username: 'alice', action: 'sign-in' }),
      redirect: 'manual',
    });
    const who = await signIn.complete(new URL(answer.headers.get('location') as string), pending);

    // Assess
    expect(form).toContain('Sign in');
    expect(who.name).toBe('alice');
  });

  it('names a person without cognito:username by email, and one without groups has none', async () => {
    // Prepare
    standIn.nextUser = { sub: 'sub-bob', username: 'bob', email: 'bob@example.com' };
    standIn.tampering = { claims: { 'cognito:username': undefined } };
    const { callback, pending } = await signInFlow();

    // Act
    const who = await signIn.complete(callback, pending);

    // Assess
    expect(who).toMatchObject({ subject: 'sub-bob', name: 'bob@example.com', groups: [] });
  });

  it('refuses a callback whose state is not the pending one', async () => {
    // Prepare
    const { callback, pending } = await signInFlow();

    // Act
    const error = await failure(signIn.complete(callback, { ...pending, state: 'another-state' }));

    // Assess
    expect(error).toBeInstanceOf(SignInFailedError);
    expect(error.message).toBe('the sign-in link has expired or was already used; sign in again');
  });

  it('refuses a code used a second time', async () => {
    // Prepare
    const { callback, pending } = await signInFlow();
    await signIn.complete(callback, pending);

    // Act
    const error = await failure(signIn.complete(callback, pending));

    // Assess
    expect(error).toBeInstanceOf(SignInFailedError);
    expect(error.message).toBe('the sign-in link has expired or was already used; sign in again');
  });

  it("refuses a code exchanged with another sign-in's verifier (PKCE)", async () => {
    // Prepare
    const { callback, pending } = await signInFlow();
    const other = await signIn.begin();

    // Act
    const error = await failure(
      signIn.complete(callback, { ...pending, codeVerifier: other.pending.codeVerifier }),
    );

    // Assess
    expect(error).toBeInstanceOf(SignInFailedError);
  });

  it('says so when the person (or the provider) refused the sign-in: error=access_denied', async () => {
    // Prepare
    standIn.denyNext = true;
    const { callback, pending } = await signInFlow();

    // Act
    const error = await failure(signIn.complete(callback, pending));

    // Assess
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(error).toBeInstanceOf(SignInFailedError);
    expect(error.message).toBe('sign-in was cancelled or refused; sign in again');
  });

  // Claims are checked twice: by oauth4webapi as it takes the token response, then by aws-jwt-verify, which
  // alone checks the signature (against the JWKS) and `token_use`, and allows no clock tolerance.
  it.each([
    ['signed with a key not in the JWKS', { rogueKey: true }, 'JwtInvalidSignatureError'],
    [
      'expired',
      { claims: { iat: now() - 7200, auth_time: now() - 7200, exp: now() - 3600 } },
      'OperationProcessingError',
    ],
    ['expired seconds ago', { claims: { iat: now() - 3605, exp: now() - 5 } }, 'JwtExpiredError'],
    ['for another audience', { claims: { aud: 'another-client' } }, 'OperationProcessingError'],
    [
      'from another issuer',
      { claims: { iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other' } },
      'OperationProcessingError',
    ],
    ['with another nonce', { claims: { nonce: 'another-nonce' } }, 'OperationProcessingError'],
    ['without a nonce', { claims: { nonce: undefined } }, 'OperationProcessingError'],
    [
      'that is an access token (token_use access)',
      { claims: { token_use: 'access' } },
      'IdTokenRefusedError',
    ],
  ])('refuses an ID token %s', async (_case, tampering, refusal) => {
    // Prepare
    standIn.tampering = tampering;
    const { callback, pending } = await signInFlow();

    // Act
    const error = await failure(signIn.complete(callback, pending));

    // Assess
    expect(error).toBeInstanceOf(SignInFailedError);
    expect(error.message).toBe("the identity provider's answer could not be verified; sign in again");
    expect((error.cause as Error).constructor.name).toBe(refusal);
  });
});

describe('OidcSignIn when the identity provider is down', () => {
  it('begin throws IdentityProviderUnavailableError for a provider nobody listens at', async () => {
    // Prepare
    const issuer = `http://127.0.0.1:${await closedPort()}/local_pool`;
    const down = new OidcSignIn({ issuer, clientId: CLIENT_ID, redirectUri: REDIRECT_URI });

    // Act
    const error = await failure(down.begin());

    // Assess
    expect(error).toBeInstanceOf(IdentityProviderUnavailableError);
  });

  it('complete throws IdentityProviderUnavailableError when the token endpoint cannot be reached', async () => {
    // Prepare: discovery succeeds, then every request to the provider fails on the network.
    let reachable = true;
    const flaky = new OidcSignIn(
      { issuer: standIn.issuer, clientId: CLIENT_ID, redirectUri: REDIRECT_URI },
      {
        fetch: (input, init) =>
          reachable ? fetch(input, init) : Promise.reject(new TypeError('fetch failed')),
      },
    );
    const { url, pending } = await flaky.begin();
    const callback = await authorize(url);
    reachable = false;

    // Act
    const error = await failure(flaky.complete(callback, pending));

    // Assess
    expect(error).toBeInstanceOf(IdentityProviderUnavailableError);
  });

  it("complete throws IdentityProviderUnavailableError when the provider's JWKS cannot be read", async () => {
    // Prepare
    const noJwks = new OidcSignIn(
      { issuer: standIn.issuer, clientId: CLIENT_ID, redirectUri: REDIRECT_URI },
      {
        fetch: (input, init) =>
          String(input).endsWith('/jwks.json')
            ? Promise.reject(new TypeError('fetch failed'))
            : fetch(input, init),
      },
    );
    const { url, pending } = await noJwks.begin();

    // Act
    const error = await failure(noJwks.complete(await authorize(url), pending));

    // Assess
    expect(error).toBeInstanceOf(IdentityProviderUnavailableError);
  });

  it('treats a 5xx answer as the provider being unavailable, and discovers again on the next call', async () => {
    // Prepare
    let failing = true;
    const flaky = new OidcSignIn(
      { issuer: standIn.issuer, clientId: CLIENT_ID, redirectUri: REDIRECT_URI },
      {
        fetch: (input, init) =>
          failing ? Promise.resolve(new Response('', { status: 503 })) : fetch(input, init),
      },
    );

    // Act
    const first = await failure(flaky.begin());
    failing = false;
    const second = await flaky.begin();

    // Assess
    expect(first).toBeInstanceOf(IdentityProviderUnavailableError);
    expect(second.url.pathname).toBe('/oauth2/authorize');
  });

  it('discovers the provider once per instance', async () => {
    // Prepare
    const requested: string[] = [];
    const counting = new OidcSignIn(
      { issuer: standIn.issuer, clientId: CLIENT_ID, redirectUri: REDIRECT_URI },
      {
        fetch: (input, init) => {
          requested.push(new URL(input instanceof Request ? input.url : input).pathname);
          return fetch(input, init);
        },
      },
    );

    // Act
    for (let i = 0; i < 2; i++) {
      standIn.nextUser = ALICE;
      const { url, pending } = await counting.begin();
      await counting.complete(await authorize(url), pending);
    }

    // Assess
    expect(requested.filter((path) => path.endsWith('/openid-configuration'))).toHaveLength(1);
    expect(requested.filter((path) => path.endsWith('/jwks.json'))).toHaveLength(1);
    expect(requested.filter((path) => path === '/oauth2/token')).toHaveLength(2);
  });
});

describe('OidcSignIn settings', () => {
  it.each([
    'http://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc',
    'http://10.0.0.8/pool',
    'http://127.0.0.1.example.com/pool',
  ])('refuses the plain-http issuer %s (http is for loopback only)', (issuer) => {
    expect(() => new OidcSignIn({ issuer, clientId: CLIENT_ID, redirectUri: REDIRECT_URI })).toThrow(
      /must be an https URL/,
    );
  });

  it.each(['http://127.0.0.1:4000/pool', 'http://[::1]:4000/pool', 'http://localhost:4000/pool'])(
    'accepts the loopback http issuer %s (the stand-in)',
    (issuer) => {
      expect(() => new OidcSignIn({ issuer, clientId: CLIENT_ID, redirectUri: REDIRECT_URI })).not.toThrow();
    },
  );

  it('accepts an https issuer without reaching it', () => {
    expect(
      () =>
        new OidcSignIn({
          issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc',
          clientId: CLIENT_ID,
          redirectUri: 'https://console.example.com/sign-in/callback',
        }),
    ).not.toThrow();
  });
});

describe('OidcSignIn.logoutUrl', () => {
  it("sends the browser to the managed login's /logout with the client and where to come back", () => {
    // Prepare
    const withLogout = new OidcSignIn({
      issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc',
      clientId: CLIENT_ID,
      redirectUri: 'https://console.example.com/sign-in/callback',
      logoutUrl: 'https://ledger.auth.us-east-1.amazoncognito.com',
    });

    // Act
    const url = withLogout.logoutUrl('https://console.example.com/signed-out?x=1&y=2');

    // Assess
    expect(url?.href).toBe(
      'https://ledger.auth.us-east-1.amazoncognito.com/logout?client_id=console-client&logout_uri=https%3A%2F%2Fconsole.example.com%2Fsigned-out%3Fx%3D1%26y%3D2',
    );
  });

  it('is undefined without a logout URL', () => {
    expect(signIn.logoutUrl('https://console.example.com/')).toBeUndefined();
  });

  it('is answered by the stand-in with a redirect back', async () => {
    // Prepare
    const withLogout = new OidcSignIn({
      issuer: standIn.issuer,
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      logoutUrl: standIn.logoutUrl,
    });

    // Act
    const response = await fetch(withLogout.logoutUrl(SIGNED_OUT_URI) as URL, { redirect: 'manual' });

    // Assess
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(SIGNED_OUT_URI);
    expect(standIn.signOuts).toContain(SIGNED_OUT_URI);
  });
});

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
