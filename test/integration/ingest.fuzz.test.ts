import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { apiClient } from '../support/api.ts';
import { localClients } from '../support/clients.ts';
import { actionEvent, unitEvent } from '../support/events.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const stores = localClients(stack);

const fieldNames = [
  'eventId',
  'type',
  'workflowId',
  'unitId',
  'occurredAt',
  'actor',
  'usage',
  'toolCalls',
  'lane',
  'flag',
  'output',
  'approval',
  'reviewerId',
  'verdict',
  'reviewMinutes',
  'metadata',
  'reason',
  'initiatedBy',
  'extra',
];

/** A valid event of any type, then zero or more mutations: a field removed, replaced by any JSON, or added. */
const eventArbitrary = fc
  .tuple(
    fc.constantFrom(
      () => actionEvent(),
      () => unitEvent('unit.started', 'u-1'),
      () => unitEvent('unit.completed', 'u-1', { outcome: 'resolved' }),
      () => unitEvent('unit.escalated', 'u-1', { reason: 'policy' }),
      () =>
        unitEvent('review.verdict', 'u-1', {
          reviewerId: 'r-1',
          verdict: 'defect',
          reviewMinutes: 4,
          escaped: true,
        }),
      () => unitEvent('rollback', 'u-1', { reason: 'drift', initiatedBy: 'ops', from: 'on', to: 'off' }),
    ),
    fc.array(fc.tuple(fc.constantFrom('delete', 'set'), fc.constantFrom(...fieldNames), fc.jsonValue()), {
      maxLength: 3,
    }),
  )
  .map(([make, mutations]) => {
    const event: Record<string, unknown> = make();
    for (const [op, field, value] of mutations) {
      if (op === 'delete') delete event[field];
      else event[field] = value;
    }
    return event;
  });

/** What is sent: JSON of any shape, or raw text that may not be JSON at all. */
const bodyArbitrary: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ events: fc.array(eventArbitrary, { minLength: 1, maxLength: 5 }) }),
  fc.record({ events: fc.array(fc.jsonValue(), { maxLength: 3 }) }),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string(),
);

describe('POST /v1/events, any body', () => {
  it('answers 202 or a 4xx, never a 5xx, and a rejected request stores nothing', async () => {
    let accepted = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(bodyArbitrary, async (body) => {
        const before = await stores.storeCounts();
        const response = await api.postEvents(body);
        const after = await stores.storeCounts();
        expect([202, 400, 403, 413]).toContain(response.status);
        if (response.status === 202) {
          accepted++;
          expect(after.eventItems - before.eventItems).toBe(response.body.accepted);
        } else {
          rejected++;
          expect(after).toEqual(before);
        }
      }),
      { numRuns: 120 },
    );
    // Both paths were exercised, or the property said little.
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});
