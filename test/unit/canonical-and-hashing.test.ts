import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { canonicalJson, contentHash } from '#lib/events/canonical.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';

describe('contentHash', () => {
  it('is the same whatever the key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const reversed = Object.fromEntries(Object.entries(object).reverse());
        expect(contentHash(reversed)).toBe(contentHash(object));
        expect(canonicalJson(reversed)).toBe(canonicalJson(object));
      }),
    );
  });

  it('differs when any value differs', () => {
    expect(contentHash({ a: 1, b: [1, 2] })).not.toBe(contentHash({ a: 1, b: [2, 1] }));
  });
});

describe('ActorHasher', () => {
  const key = Buffer.alloc(32, 7);
  const event = {
    type: 'unit.started',
    eventId: 'e1',
    workflowId: 'support-triage',
    unitId: 'u1',
    occurredAt: '2026-11-24T08:00:00Z',
    actor: { userId: 'alice', customerId: 'acme-42' },
  } as LedgerEvent;

  it('replaces raw IDs with keyed digests that stay stable', () => {
    const hashed = new ActorHasher(key).pseudonymize(event);
    expect(JSON.stringify(hashed)).not.toContain('alice');
    expect(JSON.stringify(hashed)).not.toContain('acme-42');
    expect(hashed.actor?.customerId).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(new ActorHasher(key).pseudonymize(event)).toEqual(hashed);
  });

  it('gives other digests under another key, and for a user and a customer with the same ID', () => {
    const hasher = new ActorHasher(key);
    expect(new ActorHasher(Buffer.alloc(32, 8)).hash('userId', 'alice')).not.toBe(
      hasher.hash('userId', 'alice'),
    );
    expect(hasher.hash('userId', 'x')).not.toBe(hasher.hash('customerId', 'x'));
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(() => new ActorHasher(Buffer.alloc(16))).toThrow('32 bytes');
  });
});
