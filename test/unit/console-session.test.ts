import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { anonymousSession, csrfMatches, SessionSealer, signedInSession } from '#lib/console/session.ts';

const AT = Date.parse('2031-06-01T09:00:00Z') / 1000;

describe("the console's session cookie", () => {
  it('opens what it sealed, on the console clock, until the session expires', async () => {
    const sealer = new SessionSealer(randomBytes(32));
    const session = signedInSession({ kind: 'token', tokenId: '0123456789abcdef' }, AT);
    const cookie = await sealer.seal(session);
    expect(await sealer.open(cookie, new Date((AT + 60) * 1000))).toEqual(session);
    expect(await sealer.open(cookie, new Date((session.expiresAt + 1) * 1000))).toBeUndefined();
  });

  it('caps a signed-in session at the ID token’s expiry, and never opens another key’s or a forged cookie', async () => {
    expect(signedInSession({ kind: 'token', tokenId: 'x' }, AT, AT + 120).expiresAt).toBe(AT + 120);
    const sealer = new SessionSealer(randomBytes(32));
    const cookie = await sealer.seal(anonymousSession(AT));
    const now = new Date(AT * 1000);
    expect(await new SessionSealer(randomBytes(32)).open(cookie, now)).toBeUndefined();
    const forged = `${cookie.slice(0, -3)}${cookie.endsWith('A') ? 'B' : 'A'}${cookie.slice(-2)}`;
    expect(await sealer.open(forged, now)).toBeUndefined();
    expect(await sealer.open('not-a-cookie', now)).toBeUndefined();
    expect(() => new SessionSealer(randomBytes(16))).toThrow('32 bytes');
  });

  it('matches a form’s CSRF token only when it is the session’s', () => {
    const session = anonymousSession(AT);
    expect(csrfMatches(session, session.csrf)).toBe(true);
    expect(csrfMatches(session, `${session.csrf}x`)).toBe(false);
    expect(csrfMatches(session, undefined)).toBe(false);
    expect(csrfMatches(session, anonymousSession(AT).csrf)).toBe(false);
  });
});
