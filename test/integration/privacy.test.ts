import { describe, expect, inject, it } from 'vitest';
import { apiClient } from '../support/api.ts';
import { filesWithContent } from '../support/data-dir.ts';
import { actionEvent } from '../support/events.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);

describe('actor IDs', () => {
  it('leave no raw user or customer ID anywhere under the data directory, logs included', async () => {
    // Prepare: IDs unique to this test, sent in every event type that carries an actor.
    const customerId = `cust-raw-${Date.now()}`;
    const userId = `user-raw-${Date.now()}`;
    const events = [actionEvent({ actor: { customerId, userId } }), actionEvent({ actor: { customerId } })];

    // Act: accepted, re-sent, and rejected (a bad request must not log what it carried either).
    const accepted = await api.postEvents({ events });
    await api.postEvents({ events });
    const rejected = await api.postEvents({
      events: [actionEvent({ actor: { customerId, email: customerId } })],
    });

    // Assess
    expect(accepted.status).toBe(202);
    expect(rejected.status).toBe(400);
    const files = filesWithContent(stack.dataDir);
    expect(files.some(({ path }) => path.includes('.ndjson.gz'))).toBe(true);
    expect(files.some(({ path }) => path.endsWith('stack.log'))).toBe(true);
    const leaks = files.filter(({ content }) => content.includes(customerId) || content.includes(userId));
    expect(leaks.map(({ path }) => path)).toEqual([]);
  });
});
