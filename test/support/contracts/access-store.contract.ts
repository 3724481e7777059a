import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { GrantStore, TokenRecord, TokenStore } from '#lib/auth/tokens.ts';

/** The promises of `TokenStore` and `GrantStore` (lib/auth/tokens.ts), run against the fake and DynamoDB. */
export function describeAccessStoreContract(name: string, makeStore: () => TokenStore & GrantStore): void {
  describe(`TokenStore and GrantStore contract: ${name}`, () => {
    let store: TokenStore & GrantStore;
    let run: string;
    const token = (n: number, createdAt: string, label?: string): TokenRecord => ({
      tokenId: `${run}-${n}`,
      tokenHash: `hash-${n}`,
      workflows: n % 2 ? '*' : 'code-review,support-triage',
      ...(label ? { label } : {}),
      createdAt,
    });

    beforeEach(() => {
      store = makeStore();
      run = `contract-${randomUUID().slice(0, 12)}`;
    });

    it('gives back a stored token until it is deleted; deleting says whether one was there', async () => {
      await store.putToken(token(1, '2026-01-01T00:00:00.000Z', 'triage bot'));
      await store.putToken(token(2, '2026-01-02T00:00:00.000Z'));
      expect(await store.getToken(`${run}-1`)).toEqual(token(1, '2026-01-01T00:00:00.000Z', 'triage bot'));
      expect(await store.getToken(`${run}-2`)).toEqual(token(2, '2026-01-02T00:00:00.000Z'));
      expect(await store.deleteToken(`${run}-1`)).toBe(true);
      expect(await store.deleteToken(`${run}-1`)).toBe(false);
      expect(await store.getToken(`${run}-1`)).toBeUndefined();
    });

    it('lists every token, oldest first', async () => {
      await store.putToken(token(3, '2026-01-03T00:00:00.000Z'));
      await store.putToken(token(1, '2026-01-01T00:00:00.000Z'));
      await store.putToken(token(2, '2026-01-02T00:00:00.000Z'));
      const listed = await store.listTokens();
      expect(listed.filter((t) => t.tokenId.startsWith(run)).map((t) => t.tokenId)).toEqual(
        [1, 2, 3].map((n) => `${run}-${n}`),
      );
      const created = listed.map((t) => t.createdAt);
      expect(created).toEqual([...created].sort());
    });

    it('gives back a grant until it is deleted; a grant put again replaces it', async () => {
      const principal = `arn:aws:iam::123456789012:role/${run}`;
      await store.putGrant({ principal, workflows: 'code-review', createdAt: '2026-01-01T00:00:00.000Z' });
      await store.putGrant({ principal, workflows: '*', createdAt: '2026-01-02T00:00:00.000Z' });
      expect(await store.getGrant(principal)).toEqual({
        principal,
        workflows: '*',
        createdAt: '2026-01-02T00:00:00.000Z',
      });
      expect(await store.deleteGrant(principal)).toBe(true);
      expect(await store.deleteGrant(principal)).toBe(false);
      expect(await store.getGrant(principal)).toBeUndefined();
    });
  });
}
