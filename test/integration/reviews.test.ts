import { describe, expect, inject, it } from 'vitest';
import { isSampledForReview } from '#lib/reviews/sampling.ts';
import { apiClient } from '../support/api.ts';
import { actionEvent, unitEvent } from '../support/events.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);

async function reviews(status: string) {
  const response = await fetch(
    `${stack.api}/v1/workflows/support-triage/reviews?status=${status}&limit=100`,
    {
      headers: { authorization: `Bearer ${stack.token}` },
    },
  );
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** A fresh unit ID that the 10% sample of support-triage does (or does not) pick. */
function unitId(sampled: boolean): string {
  for (let i = 0; ; i++) {
    const id = `review-${Date.now()}-${i}`;
    if (isSampledForReview('support-triage', id, 0.1) === sampled) return id;
  }
}

describe('the review queue', () => {
  it('lists sampled completions with what to judge, and a verdict closes them', async () => {
    // Prepare
    const sampled = unitId(true);
    const skipped = unitId(false);
    const action = actionEvent({ unitId: sampled, output: { text: 'Refund approved per policy 4.2' } });
    await api.postEvents({
      events: [
        unitEvent('unit.started', sampled),
        action,
        unitEvent('unit.completed', sampled),
        unitEvent('unit.completed', skipped),
      ],
    });

    // Act
    const pending = await reviews('pending');
    const verdict = await api.postEvents({
      events: [
        unitEvent('review.verdict', sampled, { reviewerId: 'lead-3', verdict: 'defect', reviewMinutes: 4 }),
      ],
    });
    const pendingAfter = await reviews('pending');
    const reviewed = await reviews('reviewed');

    // Assess
    expect(pending.status).toBe(200);
    const item = pending.body.items.find((i: { unitId: string }) => i.unitId === sampled);
    expect(item).toMatchObject({ workflowId: 'support-triage', unitId: sampled, status: 'pending' });
    expect(item.events.map((e: { eventId: string }) => e.eventId)).toContain(action.eventId);
    expect(item.events.find((e: { type: string }) => e.type === 'action').output.text).toBe(
      'Refund approved per policy 4.2',
    );
    expect(pending.body.items.some((i: { unitId: string }) => i.unitId === skipped)).toBe(false);
    expect(verdict.status).toBe(202);
    expect(pendingAfter.body.items.some((i: { unitId: string }) => i.unitId === sampled)).toBe(false);
    expect(reviewed.body.items.find((i: { unitId: string }) => i.unitId === sampled)).toMatchObject({
      status: 'reviewed',
      verdict: 'defect',
      reviewerId: 'lead-3',
    });
  });

  it('queues a re-sent completion once', async () => {
    const sampled = unitId(true);
    const completion = unitEvent('unit.completed', sampled);
    await api.postEvents({ events: [completion] });
    await api.postEvents({ events: [completion] });
    const listed = (await reviews('pending')).body.items.filter(
      (i: { unitId: string }) => i.unitId === sampled,
    );
    expect(listed).toHaveLength(1);
  });

  it('answers 400 for an unknown status', async () => {
    expect((await reviews('maybe')).status).toBe(400);
  });
});
