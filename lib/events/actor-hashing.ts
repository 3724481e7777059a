import { createHmac } from 'node:crypto';
import type { LedgerEvent } from '#lib/events/schema.ts';

/**
 * Actor pseudonymization: raw user and customer IDs are replaced by keyed HMAC-SHA256 digests before an
 * event reaches any store or log. The same ID always maps to the same digest (so units stay joinable
 * per customer), and without the key the digest cannot be brute-forced from a list of known IDs.
 */
export const ACTOR_HASH_PREFIX = 'hmac-sha256:';

export class ActorHasher {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length < 32) throw new Error('the actor hash key must be at least 32 bytes');
    this.#key = key;
  }

  hash(field: 'userId' | 'customerId', rawValue: string): string {
    // The field name is part of the message, so a user ID and a customer ID that happen to be equal
    // do not produce the same pseudonym.
    const digest = createHmac('sha256', this.#key).update(`${field}\u0000${rawValue}`).digest('hex');
    return `${ACTOR_HASH_PREFIX}${digest}`;
  }

  /** A copy of the event whose actor holds digests only. */
  pseudonymize(event: LedgerEvent): LedgerEvent {
    if (!event.actor) return event;
    const actor: { userId?: string; customerId?: string } = {};
    if (event.actor.userId !== undefined) actor.userId = this.hash('userId', event.actor.userId);
    if (event.actor.customerId !== undefined)
      actor.customerId = this.hash('customerId', event.actor.customerId);
    return { ...event, actor };
  }
}
