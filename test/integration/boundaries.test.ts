import { describe, expect, inject, it } from 'vitest';
import { makeDocumentClient, sdkObjects } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { S3EventArchive } from '#lib/adapters/s3-event-archive.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { ingestEvents } from '#lib/ingest/ingest-events.ts';
import { demoWorkflows } from '#lib/registry/default-registry.ts';
import { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { LOCAL_ARCHIVE_BUCKET, LOCAL_TABLE_NAME } from '#local-stack/settings.ts';
import { apiClient } from '../support/api.ts';
import { localClients } from '../support/clients.ts';
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

describe('approver roles', () => {
  it('flags a refund approved by someone the registry does not list as a support lead, and lists it', async () => {
    // Prepare: support-lead lists lead-3, lead-7 and lead-12 in config/workflow-registry.json
    const decidedAt = new Date().toISOString();
    const byLead = refund(250, { approverId: 'lead-12', decision: 'approved', decidedAt });
    const byOutsider = refund(250, { approverId: 'agent-ops-temp', decision: 'approved', decidedAt });

    // Act
    const response = await api.postEvents({ events: [byLead, byOutsider] });
    const listed = await api.getEvents('support-triage', {
      violations: 'boundary',
      from: new Date(Date.now() - 120_000).toISOString(),
    });

    // Assess: stored, never refused
    expect(response.status).toBe(202);
    expect(response.body.accepted).toBe(2);
    const boundary = response.body.violations.filter((v: { kind: string }) => v.kind === 'boundary');
    expect(boundary).toEqual([{ eventId: byOutsider.eventId, kind: 'boundary', ruleId: 'refund-over-100' }]);
    const item = listed.body.items.find((i: { eventId: string }) => i.eventId === byOutsider.eventId);
    expect(item.boundaryViolations).toEqual([
      { kind: 'approver', ruleId: 'refund-over-100', tool: 'refund' },
    ]);
    expect(listed.body.items.some((i: { eventId: string }) => i.eventId === byLead.eventId)).toBe(false);
  });
});

describe('rollout-phase violations', () => {
  it('are stored by ingest with the phase and the lane, and the events API lists them by that kind', async () => {
    // Prepare: the ingest use case on the local stack's own stores, with support-triage still in evals
    // (the registry the API serves has it autonomous; this test must not change what other tests see)
    const { s3, dynamodb } = localClients(stack);
    const documents = makeDocumentClient(dynamodb);
    const inEvals = WorkflowRegistry.parse(
      demoWorkflows.map((workflow) =>
        workflow.workflowId === 'support-triage' ? { ...workflow, rolloutPhase: 'evals' } : workflow,
      ),
    );
    const early = actionEvent({ lane: 'autonomous', occurredAt: new Date().toISOString() });
    const allowed = actionEvent({ lane: 'hitl', occurredAt: new Date().toISOString() });

    // Act
    const result = await ingestEvents(
      { events: [early, allowed] },
      { principal: 'integration-test', workflows: '*' },
      {
        index: new DynamoDbEventIndex(documents, LOCAL_TABLE_NAME),
        archive: new S3EventArchive(sdkObjects(s3), LOCAL_ARCHIVE_BUCKET),
        registry: inEvals,
        hasher: new ActorHasher(Buffer.alloc(32, 9)),
        clock: () => new Date(),
      },
    );
    const listed = await api.getEvents('support-triage', {
      violations: 'rollout-phase',
      from: new Date(Date.now() - 120_000).toISOString(),
    });
    const refused = await api.getEvents('support-triage', { violations: 'early' });

    // Assess
    expect(result.accepted).toBe(2);
    expect(result.violations?.filter((v) => v.kind === 'rollout-phase')).toEqual([
      { eventId: early.eventId, kind: 'rollout-phase', phase: 'evals', lane: 'autonomous' },
    ]);
    expect(listed.status).toBe(200);
    const ids = listed.body.items.map((item: { eventId: string }) => item.eventId);
    expect(ids).toContain(early.eventId);
    expect(ids).not.toContain(allowed.eventId);
    expect(listed.body.items.find((i: { eventId: string }) => i.eventId === early.eventId)).toMatchObject({
      lane: 'autonomous',
      rolloutPhaseViolation: { phase: 'evals', lane: 'autonomous' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.issues).toEqual([expect.objectContaining({ path: 'query.violations' })]);
  });
});
