import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { html } from '#lib/presentation/html.ts';
import { htmlDocument } from '#lib/presentation/page.ts';

/**
 * A small OpenID Connect provider on 127.0.0.1, shaped like a Cognito user pool's managed login: discovery
 * and JWKS under the issuer (`<origin>/<pool>`), `/oauth2/authorize`, `/oauth2/token` and `/logout` on the
 * origin (the managed-login domain). Authorization code flow with PKCE (S256) for public clients only; ID
 * tokens signed RS256 with a key generated at start. The console's sign-in runs against it in tests.
 */

export interface StandInUser {
  readonly sub: string;
  readonly username: string;
  readonly email?: string;
  readonly groups?: readonly string[];
}

export interface OidcStandInOptions {
  readonly clientId: string;
  readonly redirectUris: readonly string[];
  /** The people who can sign in at the form; `nextUser` may name anyone. */
  readonly users?: readonly StandInUser[];
  /** The allowed `logout_uri`s of `/logout` (Cognito's "allowed sign-out URLs"). */
  readonly logoutUris?: readonly string[];
}

/** How the next ID tokens go wrong, for tests of the client's checks. */
export interface IdTokenTampering {
  /** Sign with a key not in the JWKS (under the same `kid`). */
  rogueKey?: boolean;
  /** Claims to set over (or, `undefined`, remove from) the ID token's. */
  claims?: Record<string, unknown>;
}

export interface OidcStandIn {
  /** The issuer: `<origin>/<pool>`, its discovery at `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  /** The managed-login base URL (`/logout` under it). */
  readonly logoutUrl: string;
  readonly users: StandInUser[];
  /** Who signs in at the next authorization request, without the form; cleared once used. */
  nextUser: StandInUser | undefined;
  /** Refuse the next authorization request with `error=access_denied`; cleared once used. */
  denyNext: boolean;
  /** How ID tokens go wrong from now on (until set back to `{}`). */
  tampering: IdTokenTampering;
  /** The `logout_uri`s the stand-in has sent browsers back to, in order. */
  readonly signOuts: string[];
  close(): Promise<void>;
}

interface AuthorizationRequest {
  readonly redirectUri: string;
  readonly state?: string;
  readonly nonce?: string;
  readonly scope: string;
  readonly codeChallenge: string;
}

interface IssuedCode extends AuthorizationRequest {
  readonly user: StandInUser;
  readonly expiresAt: number;
}

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const POOL = 'local_standin';
const KID = 'stand-in-key-1';
const CODE_LIFETIME_MS = 5 * 60_000;
const TOKEN_LIFETIME_S = 3600;

export async function startOidcStandIn(options: OidcStandInOptions): Promise<OidcStandIn> {
  const key = await generateKeyPair('RS256');
  const rogue = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(key.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  /** Authorization requests waiting at the form, by id. */
  const waiting = new Map<string, AuthorizationRequest>();
  const codes = new Map<string, IssuedCode>();

  const server = createServer((request, response) => {
    handle(request)
      .catch((error: unknown) => text(500, String(error)))
      .then((answer) => response.writeHead(answer.status, answer.headers).end(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${origin}/${POOL}`;

  const standIn: OidcStandIn = {
    issuer,
    logoutUrl: origin,
    users: [...(options.users ?? [])],
    nextUser: undefined,
    denyNext: false,
    tampering: {},
    signOuts: [],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };

  async function handle(request: IncomingMessage): Promise<Answer> {
    const url = new URL(request.url ?? '/', origin);
    const route = `${request.method} ${url.pathname}`;
    switch (route) {
      case `GET /${POOL}/.well-known/openid-configuration`:
        return json(200, {
          issuer,
          authorization_endpoint: `${origin}/oauth2/authorize`,
          token_endpoint: `${origin}/oauth2/token`,
          userinfo_endpoint: `${origin}/oauth2/userInfo`,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid', 'email', 'profile'],
          token_endpoint_auth_methods_supported: ['none'],
          code_challenge_methods_supported: ['S256'],
        });
      case `GET /${POOL}/.well-known/jwks.json`:
        return json(200, { keys: [jwk] });
      case 'GET /oauth2/authorize':
        return authorize(url.searchParams);
      case 'POST /oauth2/authorize':
        return signInAtForm(new URLSearchParams(await body(request)));
      case 'POST /oauth2/token':
        return token(request);
      case 'GET /logout':
        return logout(url.searchParams);
      default:
        return text(404, 'not found');
    }
  }

  function authorize(query: URLSearchParams): Answer {
    const redirectUri = query.get('redirect_uri') ?? '';
    // Like Cognito: a bad client or redirect URI is answered here, never redirected to.
    if (query.get('client_id') !== options.clientId) return text(400, 'unknown client_id');
    if (!options.redirectUris.includes(redirectUri)) {
      return text(400, 'redirect_uri is not registered');
    }
    const state = query.get('state') ?? undefined;
    if (query.get('response_type') !== 'code') {
      return found(redirectUri, { error: 'unsupported_response_type', state });
    }
    const codeChallenge = query.get('code_challenge');
    if (query.get('code_challenge_method') !== 'S256' || !codeChallenge) {
      return found(redirectUri, { error: 'invalid_request', state });
    }
    const scope = query.get('scope') ?? '';
    if (!scope.split(' ').includes('openid')) return found(redirectUri, { error: 'invalid_scope', state });
    const pending: AuthorizationRequest = {
      redirectUri,
      state,
      nonce: query.get('nonce') ?? undefined,
      scope,
      codeChallenge,
    };
    if (standIn.denyNext) {
      standIn.denyNext = false;
      return found(redirectUri, { error: 'access_denied', state });
    }
    if (standIn.nextUser) {
      const user = standIn.nextUser;
      standIn.nextUser = undefined;
      return found(redirectUri, { code: issueCode(pending, user), state });
    }
    const id = random();
    waiting.set(id, pending);
    return page(signInForm(id));
  }

  function signInAtForm(form: URLSearchParams): Answer {
    const id = form.get('request') ?? '';
    const pending = waiting.get(id);
    if (!pending) return text(400, 'this sign-in request is unknown or was used');
    if (form.get('action') === 'cancel') {
      waiting.delete(id);
      return found(pending.redirectUri, { error: 'access_denied', state: pending.state });
    }
    const user = standIn.users.find((candidate) => candidate.username === form.get('username'));
    if (!user) return page(signInForm(id, 'Unknown user.'));
    waiting.delete(id);
    return found(pending.redirectUri, { code: issueCode(pending, user), state: pending.state });
  }

  function issueCode(pending: AuthorizationRequest, user: StandInUser): string {
    const code = random();
    codes.set(code, { ...pending, user, expiresAt: Date.now() + CODE_LIFETIME_MS });
    return code;
  }

  async function token(request: IncomingMessage): Promise<Answer> {
    if (!(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return tokenError(400, 'invalid_request');
    }
    const form = new URLSearchParams(await body(request));
    if (form.get('client_id') !== options.clientId || request.headers.authorization) {
      return tokenError(401, 'invalid_client');
    }
    if (form.get('grant_type') !== 'authorization_code') return tokenError(400, 'unsupported_grant_type');
    const code = form.get('code') ?? '';
    const issued = codes.get(code);
    codes.delete(code); // single use, whatever comes of it
    if (!issued || issued.expiresAt < Date.now() || issued.redirectUri !== form.get('redirect_uri')) {
      return tokenError(400, 'invalid_grant');
    }
    const verifier = form.get('code_verifier') ?? '';
    if (createHash('sha256').update(verifier).digest('base64url') !== issued.codeChallenge) {
      return tokenError(400, 'invalid_grant');
    }
    const now = Math.floor(Date.now() / 1000);
    const { user } = issued;
    const idClaims: Record<string, unknown> = {
      sub: user.sub,
      aud: options.clientId,
      token_use: 'id',
      'cognito:username': user.username,
      ...(user.email === undefined ? {} : { email: user.email, email_verified: true }),
      ...(user.groups === undefined ? {} : { 'cognito:groups': [...user.groups] }),
      ...(issued.nonce === undefined ? {} : { nonce: issued.nonce }),
      auth_time: now,
      iat: now,
      exp: now + TOKEN_LIFETIME_S,
      ...standIn.tampering.claims,
    };
    const idToken = await sign(
      withoutUndefined(idClaims),
      standIn.tampering.rogueKey ? rogue.privateKey : key.privateKey,
    );
    const accessToken = await sign(
      {
        sub: user.sub,
        token_use: 'access',
        client_id: options.clientId,
        scope: issued.scope,
        username: user.username,
        iat: now,
        exp: now + TOKEN_LIFETIME_S,
      },
      key.privateKey,
    );
    return json(200, {
      id_token: idToken,
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_S,
    });
  }

  function sign(claims: JWTPayload, privateKey: PrivateKey): Promise<string> {
    // `iss` is set unless a test's claims say otherwise.
    return new SignJWT({ iss: issuer, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
      .sign(privateKey);
  }

  function logout(query: URLSearchParams): Answer {
    const logoutUri = query.get('logout_uri') ?? '';
    if (query.get('client_id') !== options.clientId) return text(400, 'unknown client_id');
    if (!(options.logoutUris ?? []).includes(logoutUri)) {
      return text(400, 'logout_uri is not an allowed sign-out URL');
    }
    standIn.signOuts.push(logoutUri);
    return { status: 302, headers: { location: logoutUri } };
  }

  function signInForm(id: string, problem?: string): string {
    return htmlDocument({
      title: 'Sign in',
      style: 'body { font-family: sans-serif; margin: 2rem; }',
      generator: 'OIDC stand-in',
      body: html`<main>
<h1>Sign in</h1>
${problem !== undefined && html`<p role="alert">${problem}</p>`}
<form method="post" action="/oauth2/authorize">
<input type="hidden" name="request" value="${id}">
<label for="username">Username</label> <input id="username" name="username" autocomplete="username">
<button type="submit" name="action" value="sign-in">Sign in</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
<ul>${standIn.users.map((user) => html`<li><code>${user.username}</code> ${user.email}</li>`)}</ul>
</main>`,
    });
  }

  return standIn;
}

/** What a route answers; `handle` writes it. */
interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

function tokenError(status: number, error: string): Answer {
  return json(status, { error });
}

function found(to: string, parameters: Record<string, string | undefined>): Answer {
  const location = new URL(to);
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined) location.searchParams.set(name, value);
  }
  return { status: 302, headers: { location: location.href } };
}

function json(status: number, value: unknown): Answer {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(value),
  };
}

function text(status: number, body: string): Answer {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

function page(body: string): Answer {
  return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body };
}

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function withoutUndefined(claims: Record<string, unknown>): JWTPayload {
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined)) as JWTPayload;
}

function random(): string {
  return randomBytes(24).toString('base64url');
}
