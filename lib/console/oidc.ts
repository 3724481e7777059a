import { JwtBaseError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import * as oauth from 'oauth4webapi';

/**
 * The console's sign-in in the cloud: OAuth 2.0 authorization code flow with PKCE against an OpenID Connect
 * provider (a Cognito user pool's managed login), as a public client. oauth4webapi speaks the protocol;
 * aws-jwt-verify checks the ID token (signature against the issuer's JWKS, issuer, audience, expiry,
 * `token_use`, nonce). No HTTP framework here: the console handler calls `begin` and `complete`.
 */

export interface OidcSettings {
  /** The issuer URL: Cognito's is https://cognito-idp.<region>.amazonaws.com/<poolId>; discovery at <issuer>/.well-known/openid-configuration */
  readonly issuer: string;
  readonly clientId: string;
  /** Absolute URL of the console's /sign-in/callback */
  readonly redirectUri: string;
  /** Cognito's managed-login base URL, for sign-out (https://<prefix>.auth.<region>.amazoncognito.com); optional */
  readonly logoutUrl?: string;
}

/** What the console keeps (in its encrypted session cookie) between sending the person to sign in and the callback. */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface SignedIn {
  readonly subject: string;
  /** username, else email */
  readonly name: string;
  readonly email?: string;
  readonly groups: string[];
  /** epoch seconds the ID token expires */
  readonly expiresAt: number;
}

/** The sign-in cannot finish for a reason of the browser's or the provider's answer; `message` is fit to show. */
export class SignInFailedError extends Error {
  override name = 'SignInFailedError';
}

/** The identity provider cannot be reached (or answers 5xx): an outage, not the person's fault. */
export class IdentityProviderUnavailableError extends Error {
  override name = 'IdentityProviderUnavailableError';
}

/** An ID token that passed aws-jwt-verify's standard checks but not ours (`customJwtCheck`). */
class IdTokenRefusedError extends Error {
  override name = 'IdTokenRefusedError';
}

const SCOPE = 'openid email profile';
/** How long one request to the identity provider may take. */
const REQUEST_TIMEOUT_MS = 5_000;

const LINK_EXPIRED = 'the sign-in link has expired or was already used; sign in again';
const REFUSED = 'sign-in was cancelled or refused; sign in again';
const UNVERIFIABLE = "the identity provider's answer could not be verified; sign in again";

interface Provider {
  readonly as: oauth.AuthorizationServer;
  readonly verifier: IdTokenVerifier;
}

type IdTokenVerifier = ReturnType<typeof createVerifier>;

export class OidcSignIn {
  readonly #settings: OidcSettings;
  readonly #client: oauth.Client;
  readonly #issuer: URL;
  /** Plain http is allowed for a loopback issuer only: the test stand-in. */
  readonly #allowHttp: boolean;
  readonly #fetch: typeof fetch;
  #provider: Promise<Provider> | undefined;

  constructor(settings: OidcSettings, options: { fetch?: typeof fetch } = {}) {
    this.#issuer = new URL(settings.issuer);
    this.#allowHttp = isLoopback(this.#issuer);
    assertHttps(this.#issuer, this.#allowHttp, 'the OpenID Connect issuer');
    this.#settings = settings;
    this.#client = { client_id: settings.clientId };
    this.#fetch = guardedFetch(options.fetch ?? fetch);
  }

  async begin(): Promise<{ url: URL; pending: PendingSignIn }> {
    const { as } = await this.#discover();
    const pending: PendingSignIn = {
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
      codeVerifier: oauth.generateRandomCodeVerifier(),
    };
    const url = new URL(endpoint(as.authorization_endpoint, 'authorization_endpoint'));
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.#settings.clientId);
    url.searchParams.set('redirect_uri', this.#settings.redirectUri);
    url.searchParams.set('scope', SCOPE);
    url.searchParams.set('state', pending.state);
    url.searchParams.set('nonce', pending.nonce);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(pending.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return { url, pending };
  }

  async complete(callbackUrl: URL, pending: PendingSignIn): Promise<SignedIn> {
    const { as, verifier } = await this.#discover();

    let parameters: URLSearchParams;
    try {
      parameters = oauth.validateAuthResponse(as, this.#client, callbackUrl, pending.state);
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError) {
        throw new SignInFailedError(error.error === 'access_denied' ? REFUSED : LINK_EXPIRED, {
          cause: error,
        });
      }
      throw signInFailure(error, LINK_EXPIRED);
    }

    let idToken: string;
    try {
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        this.#client,
        oauth.None(),
        parameters,
        this.#settings.redirectUri,
        pending.codeVerifier,
        this.#requestOptions(),
      );
      const tokens = await oauth.processAuthorizationCodeResponse(as, this.#client, response, {
        expectedNonce: pending.nonce,
        requireIdToken: true,
      });
      idToken = tokens.id_token as string;
    } catch (error) {
      throw signInFailure(error, error instanceof oauth.ResponseBodyError ? LINK_EXPIRED : UNVERIFIABLE);
    }

    let claims: JwtPayload;
    try {
      claims = await verifier.verify(idToken, {
        customJwtCheck: ({ payload }) => {
          if (payload.token_use !== 'id') throw new IdTokenRefusedError('token_use is not id');
          if (payload.nonce !== pending.nonce) throw new IdTokenRefusedError('the nonce is not the one sent');
        },
      });
    } catch (error) {
      throw signInFailure(error, UNVERIFIABLE);
    }
    return signedIn(claims);
  }

  logoutUrl(returnTo: string): URL | undefined {
    if (!this.#settings.logoutUrl) return undefined;
    const url = new URL('logout', withTrailingSlash(this.#settings.logoutUrl));
    url.searchParams.set('client_id', this.#settings.clientId);
    url.searchParams.set('logout_uri', returnTo);
    return url;
  }

  /** The provider's metadata and an ID-token verifier on its JWKS, discovered once per instance (again after a failure). */
  #discover(): Promise<Provider> {
    this.#provider ??= this.#discoverOnce().catch((error: unknown) => {
      this.#provider = undefined;
      throw error;
    });
    return this.#provider;
  }

  async #discoverOnce(): Promise<Provider> {
    const response = await oauth.discoveryRequest(this.#issuer, this.#requestOptions());
    const as = await oauth.processDiscoveryResponse(this.#issuer, response);
    const jwksUri = new URL(endpoint(as.jwks_uri, 'jwks_uri'));
    assertHttps(jwksUri, this.#allowHttp && isLoopback(jwksUri), "the provider's jwks_uri");
    return { as, verifier: createVerifier(this.#settings, jwksUri.href, this.#fetch) };
  }

  #requestOptions() {
    return { [oauth.customFetch]: this.#fetch, [oauth.allowInsecureRequests]: this.#allowHttp };
  }
}

function createVerifier(settings: OidcSettings, jwksUri: string, fetchFn: typeof fetch) {
  // aws-jwt-verify's own fetcher speaks https only; this one fetches the JWKS with the same (guarded) fetch
  // as the protocol requests, so the stand-in's http JWKS on loopback is read the same way as Cognito's.
  const fetcher: Fetcher = {
    async fetch(uri) {
      const response = await fetchFn(uri, { headers: { accept: 'application/json' } });
      if (response.status !== 200) {
        throw new IdentityProviderUnavailableError(`the provider's JWKS answered ${response.status}`);
      }
      return response.arrayBuffer();
    },
  };
  return JwtVerifier.create(
    { issuer: settings.issuer, audience: settings.clientId, jwksUri },
    { jwksCache: new SimpleJwksCache({ fetcher }) },
  );
}

/**
 * `fetchFn` for requests to the provider, with a time limit, where a request that does not reach it (or a
 * 5xx answer) becomes `IdentityProviderUnavailableError`.
 */
function guardedFetch(fetchFn: typeof fetch): typeof fetch {
  return async (input, init) => {
    let response: Response;
    try {
      response = await fetchFn(input, {
        ...init,
        signal: init?.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new IdentityProviderUnavailableError('the identity provider cannot be reached', { cause: error });
    }
    if (response.status >= 500) {
      throw new IdentityProviderUnavailableError(`the identity provider answered ${response.status}`);
    }
    return response;
  };
}

/**
 * What to throw for `error`: the provider's refusals of this sign-in (and answers that do not verify) as
 * `SignInFailedError` with `message`; outages, and the rest (our configuration, e.g. `invalid_client`, or a
 * bug), as they are.
 */
function signInFailure(error: unknown, message: string): unknown {
  const refused =
    error instanceof oauth.OperationProcessingError ||
    (error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant') ||
    error instanceof JwtBaseError ||
    error instanceof IdTokenRefusedError;
  return refused ? new SignInFailedError(message, { cause: error }) : error;
}

function signedIn(claims: JwtPayload): SignedIn {
  const subject = claims.sub as string;
  const email = typeof claims.email === 'string' ? claims.email : undefined;
  const username = typeof claims['cognito:username'] === 'string' ? claims['cognito:username'] : undefined;
  const groups = claims['cognito:groups'];
  return {
    subject,
    name: username ?? email ?? subject,
    ...(email === undefined ? {} : { email }),
    groups: Array.isArray(groups) ? groups.filter((group): group is string => typeof group === 'string') : [],
    expiresAt: claims.exp as number,
  };
}

function endpoint(value: string | undefined, name: string): string {
  if (!value) throw new Error(`the provider's metadata has no ${name}`);
  return value;
}

/** Refuses `url` unless it is https, or http where `allowHttp` (loopback). */
function assertHttps(url: URL, allowHttp: boolean, what: string): void {
  if (url.protocol === 'https:' || (url.protocol === 'http:' && allowHttp)) return;
  throw new Error(`${what} must be an https URL (http only on a loopback host): ${url.href}`);
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
