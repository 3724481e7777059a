import { describe, expect, inject, it } from 'vitest';
import { isSampledForReview } from '#lib/reviews/sampling.ts';
import { apiClient } from '../support/api.ts';
import { actionEvent, unitEvent } from '../support/events.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);

async function reviews(status: string, lane?: string) {
  const response = await fetch(
    `${stack.api}/v1/workflows/support-triage/reviews?status=${status}&limit=100${lane === undefined ? '' : `&lane=${lane}`}`,
    {
      headers: { authorization: `Bearer ${stack.token}` },
    },
  );
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** A fresh unit ID that the 10% sample of support-triage does (or does not) pick; never the same twice. */
let drawn = 0;
function unitId(sampled: boolean): string {
  for (;;) {
    const id = `review-${Date.now()}-${drawn++}`;
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
      // The reviewer is a person: kept as a keyed digest, like actor IDs (README, "Privacy").
      reviewerId: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/),
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

  it('gives each unit its lane, and lists the shadow-lane (onboarding) reviews apart with lane=shadow', async () => {
    // Prepare: a unit whose actions all ran in shadow, one that also shipped through hitl
    const shadow = unitId(true);
    const mixed = unitId(true);
    await api.postEvents({
      events: [
        actionEvent({ unitId: shadow, lane: 'shadow' }),
        actionEvent({ unitId: mixed, lane: 'shadow' }),
      ],
    });
    await api.postEvents({
      events: [
        actionEvent({ unitId: shadow, lane: 'shadow' }),
        unitEvent('unit.completed', shadow),
        actionEvent({ unitId: mixed, lane: 'hitl' }),
        unitEvent('unit.completed', mixed),
      ],
    });

    // Act
    const onboarding = await reviews('pending', 'shadow');
    const approved = await reviews('pending', 'hitl');
    const all = await reviews('pending');
    const bad = await reviews('pending', 'human');

    // Assess
    expect(onboarding.status).toBe(200);
    const shadowItem = onboarding.body.items.find((i: { unitId: string }) => i.unitId === shadow);
    expect(shadowItem).toMatchObject({ unitId: shadow, lane: 'shadow', status: 'pending' });
    expect(shadowItem.events.filter((e: { type: string }) => e.type === 'action')).toHaveLength(2);
    expect(onboarding.body.items.every((i: { lane: string }) => i.lane === 'shadow')).toBe(true);
    expect(onboarding.body.items.some((i: { unitId: string }) => i.unitId === mixed)).toBe(false);
    expect(approved.body.items.find((i: { unitId: string }) => i.unitId === mixed)).toMatchObject({
      lane: 'hitl',
    });
    expect(all.body.items.map((i: { unitId: string }) => i.unitId)).toEqual(
      expect.arrayContaining([shadow, mixed]),
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      error: 'invalid_request',
      issues: [{ path: 'query.lane', message: 'must be one of shadow, hitl, autonomous' }],
    });
  });
});
