import { createHmac } from 'node:crypto';
import type { LedgerEvent } from '#lib/events/schema.ts';

/**
 * Pseudonymization of the people an event names: the actor's user and customer IDs, an action's approver
 * (`approval.approverId`) and a verdict's reviewer (`reviewerId`) are replaced by keyed HMAC-SHA256 digests
 * before an event reaches any store or log. The same ID always maps to the same digest (so units stay
 * joinable per customer, and a reviewer's verdicts per reviewer), and without the key the digest cannot be
 * brute-forced from a list of known IDs. Checks that need the raw ID (the approver lists of the registry)
 * run on the event before it is pseudonymized. A rollback's `initiatedBy` is kept as sent: it names the
 * automation or the operator role that flipped a lane, which is the accountability the kill switch owes,
 * and AppConfig holds the same value in the flag itself.
 */
export const ACTOR_HASH_PREFIX = 'hmac-sha256:';

/** The fields that name a person; each hashes differently, so equal IDs in two roles do not link. */
export type PersonField = 'userId' | 'customerId' | 'approverId' | 'reviewerId';

export class ActorHasher {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length < 32) throw new Error('the actor hash key must be at least 32 bytes');
    this.#key = key;
  }

  hash(field: PersonField, rawValue: string): string {
    // The field name is part of the message, so a user ID and a customer ID that happen to be equal
    // do not produce the same pseudonym.
    const digest = createHmac('sha256', this.#key).update(`${field}\u0000${rawValue}`).digest('hex');
    return `${ACTOR_HASH_PREFIX}${digest}`;
  }

  /** A copy of the event in which every person it names is a digest. */
  pseudonymize(event: LedgerEvent): LedgerEvent {
    let result = event;
    if (event.actor) {
      const actor: { userId?: string; customerId?: string } = {};
      if (event.actor.userId !== undefined) actor.userId = this.hash('userId', event.actor.userId);
      if (event.actor.customerId !== undefined)
        actor.customerId = this.hash('customerId', event.actor.customerId);
      result = { ...result, actor };
    }
    if (result.type === 'action' && result.approval) {
      result = {
        ...result,
        approval: { ...result.approval, approverId: this.hash('approverId', result.approval.approverId) },
      };
    }
    if (result.type === 'review.verdict') {
      result = { ...result, reviewerId: this.hash('reviewerId', result.reviewerId) };
    }
    return result;
  }
}
