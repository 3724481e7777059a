import { describe, expect, inject, it } from 'vitest';
import { apiClient } from '../support/api.ts';
import { actionEvent } from '../support/events.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);

const refund = (amount: number, approval?: Record<string, unknown>) =>
  actionEvent({
    lane: 'autonomous',
    occurredAt: new Date().toISOString(),
    approval,
    toolCalls: [{ name: 'refund', endpoint: 'payments.refund', parameters: { amount }, outcome: 'success' }],
  });

describe('autonomy boundaries', () => {
  it('stores an action that broke a boundary, says so in the answer, and lists it', async () => {
    // Prepare: support-triage CANNOT refund over 500, and needs a support-lead approval over 100.
    const forbidden = refund(600);
    const unapproved = refund(150, undefined);
    const approved = refund(150, {
      approverId: 'lead-3',
      decision: 'approved',
      decidedAt: new Date().toISOString(),
    });
    const small = refund(20);

    // Act
    const response = await api.postEvents({ events: [forbidden, unapproved, approved, small] });
    const listed = await api.getEvents('support-triage', {
      violations: 'boundary',
      from: new Date(Date.now() - 120_000).toISOString(),
    });

    // Assess
    expect(response.status).toBe(202);
    expect(response.body.accepted).toBe(4);
    const boundary = response.body.violations.filter((v: { kind: string }) => v.kind === 'boundary');
    expect(boundary).toEqual(
      expect.arrayContaining([
        { eventId: forbidden.eventId, kind: 'boundary', ruleId: 'refund-over-500' },
        { eventId: unapproved.eventId, kind: 'boundary', ruleId: 'refund-over-100' },
      ]),
    );
    expect(boundary.map((v: { eventId: string }) => v.eventId)).not.toContain(approved.eventId);
    expect(boundary.map((v: { eventId: string }) => v.eventId)).not.toContain(small.eventId);
    const ids = listed.body.items.map((item: { eventId: string }) => item.eventId);
    expect(ids).toContain(forbidden.eventId);
    expect(ids).toContain(unapproved.eventId);
    expect(ids).not.toContain(small.eventId);
    expect(
      listed.body.items.find((item: { eventId: string }) => item.eventId === forbidden.eventId)
        .boundaryViolations,
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'cannot', ruleId: 'refund-over-500', tool: 'refund' }),
      ]),
    );
  });
});
