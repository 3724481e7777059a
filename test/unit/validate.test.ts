import { describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_REQUEST } from '#lib/events/schema.ts';
import { validateBatch } from '#lib/events/validate.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { toJsonPath } from '#lib/validation/zod-issues.ts';
import { actionEvent, unitEvent } from '../support/events.ts';

const now = new Date('2026-11-24T12:00:00Z');
const validate = (body: unknown) => validateBatch(body, { now, registry: defaultRegistry });
const at = (iso: string) => ({ occurredAt: iso });

describe('validateBatch', () => {
  it('accepts every event type of the SPEC, and an action with none of its optional fields', () => {
    const result = validate({
      events: [
        actionEvent(at('2026-11-24T11:00:00Z')),
        unitEvent('action', 'u', at('2026-11-24T11:00:00Z')),
        unitEvent('unit.started', 'u', at('2026-11-24T11:00:00Z')),
        unitEvent('unit.completed', 'u', { ...at('2026-11-24T11:00:00Z'), outcome: 'merged' }),
        unitEvent('unit.escalated', 'u', { ...at('2026-11-24T11:00:00Z'), reason: 'low confidence' }),
        unitEvent('review.verdict', 'u', {
          ...at('2026-11-24T11:00:00Z'),
          reviewerId: 'r1',
          verdict: 'defect',
          reviewMinutes: 3.5,
          category: 'wrong-policy',
          escaped: false,
        }),
        unitEvent('rollback', 'u', {
          ...at('2026-11-24T11:00:00Z'),
          reason: 'drift',
          initiatedBy: 'ops',
          lane: 'autonomous',
          from: true,
          to: false,
        }),
      ],
    });
    expect(result).toMatchObject({ ok: true });
  });

  it('names the event index and JSON path of every problem', () => {
    const result = validate({
      events: [
        actionEvent(at('2026-11-24T11:00:00Z')),
        actionEvent({ ...at('2026-11-24T11:00:00Z'), toolCalls: [{ name: 'refund', outcome: 'maybe' }] }),
        unitEvent('review.verdict', 'u', { ...at('2026-11-24T11:00:00Z'), reviewerId: 'r', verdict: 'meh' }),
      ],
    });
    expect(result).toEqual({
      ok: false,
      issues: [
        { index: 1, path: '$.events[1].toolCalls[0].outcome', message: expect.stringContaining('success') },
        { index: 2, path: '$.events[2].verdict', message: expect.stringContaining('pass') },
        { index: 2, path: '$.events[2].reviewMinutes', message: 'is required' },
      ],
    });
  });

  it.each([
    ['an unknown type', { type: 'click' }, '$.events[0].type'],
    ['a bad eventId', { eventId: 'has space' }, '$.events[0].eventId'],
    ['an unregistered workflow', { workflowId: 'payroll' }, '$.events[0].workflowId'],
    ['a workflowId of the wrong shape', { workflowId: 'Payroll!' }, '$.events[0].workflowId'],
    ['an empty unitId', { unitId: '' }, '$.events[0].unitId'],
    ['a time more than 5 minutes ahead', at('2026-11-24T12:05:01Z'), '$.events[0].occurredAt'],
    ['a time without offset', at('2026-11-24T11:00:00'), '$.events[0].occurredAt'],
    ['an unknown actor field', { actor: { email: 'a@b.c' } }, '$.events[0].actor'],
    ['a confidence above 1', { output: { confidence: 1.2 } }, '$.events[0].output.confidence'],
    ['fractional tokens', { usage: { inputTokens: 1.5, outputTokens: 1 } }, '$.events[0].usage.inputTokens'],
    ['an unknown lane', { lane: 'yolo' }, '$.events[0].lane'],
    ['a misspelt field', { tool_calls: [] }, '$.events[0]'],
  ])('rejects %s', (_case, override, path) => {
    const result = validate({ events: [actionEvent({ ...at('2026-11-24T11:00:00Z'), ...override })] });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((issue) => issue.path)).toContain(path);
  });

  it('accepts a time up to 5 minutes ahead, for agents whose clocks run fast', () => {
    expect(validate({ events: [actionEvent(at('2026-11-24T12:05:00Z'))] })).toMatchObject({ ok: true });
  });

  it('never echoes an actor value in its messages', () => {
    const result = validate({
      events: [actionEvent({ actor: { customerId: 42, email: 'jane@example.com' } })],
    });
    expect(JSON.stringify(result)).not.toContain('jane@example.com');
  });

  it.each([
    ['an empty batch', { events: [] }, '$.events'],
    ['too many events', { events: Array(MAX_EVENTS_PER_REQUEST + 1).fill({}) }, '$.events'],
    ['a body that is an array', [], '$'],
    ['a body without events', { event: [] }, '$.events'],
  ])('rejects %s at the body', (_case, body, path) => {
    const result = validate(body);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues[0]).toMatchObject({ index: null, path });
  });

  it('rejects an event too large for one index item', () => {
    const result = validate({
      events: [actionEvent({ ...at('2026-11-24T11:00:00Z'), output: { text: 'x'.repeat(300_000) } })],
    });
    expect(!result.ok && result.issues).toEqual([
      { index: 0, path: '$.events[0]', message: expect.stringContaining('bytes') },
    ]);
  });
});

describe('toJsonPath', () => {
  it('writes identifiers with dots and anything else in brackets', () => {
    expect(toJsonPath(['events', 3, 'metadata', 'x-y', 'ok'])).toBe('$.events[3].metadata["x-y"].ok');
  });
});
