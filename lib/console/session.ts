import { randomBytes, timingSafeEqual } from 'node:crypto';
import { EncryptJWT, errors, jwtDecrypt } from 'jose';

/**
 * The console's session: an encrypted, authenticated cookie (a JWE, `dir` + A256GCM, made and opened by
 * `jose`), so the server keeps no session table and a browser can neither read nor forge one. Every
 * visitor has a session, signed in or not: its CSRF token guards every form, the sign-in form too.
 */
export interface Session {
  /** The CSRF token every form carries back (a hidden `csrf` field). */
  readonly csrf: string;
  /** Who is signed in; absent before sign-in. Re-checked on every request (a revoked token signs out). */
  readonly signedIn?: SignedInAs;
  /** The code flow in progress (cloud): what the callback must match. */
  readonly pending?: {
    readonly state: string;
    readonly nonce: string;
    readonly codeVerifier: string;
    readonly returnTo: string;
  };
  /** Epoch seconds. */
  readonly expiresAt: number;
}

export type SignedInAs =
  /** A person's ledger token (local): the token's ID; its record says who and which roles. */
  | { readonly kind: 'token'; readonly tokenId: string }
  /** The user pool (cloud): who the verified ID token named, and their groups at sign-in. */
  | {
      readonly kind: 'oidc';
      readonly subject: string;
      readonly name: string;
      readonly groups: readonly string[];
    };

/** A signed-in session lasts a working day; the ID token's own expiry caps a user pool session. */
export const SIGNED_IN_SECONDS = 8 * 3600;
/** A session before sign-in only holds a CSRF token (and a code flow in progress). */
export const ANONYMOUS_SECONDS = 3600;

export class SessionSealer {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error('the console session key must be 32 bytes');
    this.#key = key;
  }

  async seal(session: Session): Promise<string> {
    return new EncryptJWT({ session })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setExpirationTime(session.expiresAt)
      .encrypt(this.#key);
  }

  /**
   * The session a cookie holds, or undefined when it is absent, expired at `now` (the console's clock),
   * forged or from another key.
   */
  async open(cookie: string | undefined, now: Date): Promise<Session | undefined> {
    if (!cookie) return undefined;
    try {
      const { payload } = await jwtDecrypt(cookie, this.#key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
        currentDate: now,
      });
      const session = payload.session as Session | undefined;
      if (!session || typeof session.csrf !== 'string') return undefined;
      return session;
    } catch (error) {
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
  }
}

export function anonymousSession(nowSeconds: number): Session {
  return { csrf: randomBytes(32).toString('base64url'), expiresAt: nowSeconds + ANONYMOUS_SECONDS };
}

/** Signing in replaces the CSRF token too, so one seen before sign-in is worth nothing after it. */
export function signedInSession(signedIn: SignedInAs, nowSeconds: number, capSeconds?: number): Session {
  const expiresAt = Math.min(nowSeconds + SIGNED_IN_SECONDS, capSeconds ?? Number.POSITIVE_INFINITY);
  return { csrf: randomBytes(32).toString('base64url'), signedIn, expiresAt };
}

/** Compares a form's CSRF field with the session's, in constant time. */
export function csrfMatches(session: Session, submitted: string | undefined): boolean {
  if (submitted === undefined) return false;
  const expected = Buffer.from(session.csrf);
  const actual = Buffer.from(submitted);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
