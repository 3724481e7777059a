import { randomUUID } from 'node:crypto';
import type { LedgerEvent } from '#lib/events/schema.ts';
import type { StoredEvent } from '#lib/ports.ts';

/** A complete, replayable `action` event (every field the SPEC lists), with fresh IDs. */
export function actionEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: `evt-${randomUUID()}`,
    type: 'action',
    workflowId: 'support-triage',
    unitId: `ticket-${randomUUID().slice(0, 8)}`,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    actor: { userId: 'agent-operator-7', customerId: 'customer-0042' },
    agent: { id: 'triage-bot', version: '1.4.0' },
    lane: 'hitl',
    flag: { version: 12, checkedAt: new Date(Date.now() - 61_000).toISOString() },
    prompt: { templateId: 'triage', templateVersion: '7' },
    model: { provider: 'anthropic', name: 'claude-sonnet', version: '2026-05' },
    retrieval: [{ kind: 'kb', id: 'KB-12', uri: 'https://kb.example/12', contentHash: 'sha256:ab12' }],
    toolCalls: [
      {
        name: 'lookup_order',
        endpoint: 'orders.get',
        parameters: { orderId: 'O-1' },
        outcome: 'success',
        durationMs: 41,
      },
    ],
    output: { text: 'Refund approved per policy 4.2', confidence: 0.92 },
    usage: { inputTokens: 1200, outputTokens: 180, cachedInputTokens: 400 },
    approval: {
      approverId: 'lead-3',
      decision: 'approved',
      decidedAt: new Date(Date.now() - 30_000).toISOString(),
    },
    durationMs: 2300,
    ...overrides,
  };
}

export function unitEvent(
  type: string,
  unitId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    eventId: `evt-${randomUUID()}`,
    type,
    workflowId: 'support-triage',
    unitId,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    ...overrides,
  };
}

/**
 * A parsed event as the index keeps it, for in-memory stores: received when it occurred, kept far into
 * the future, with placeholder hash and archive key (for tests that read events, not ones that dedupe).
 */
export function indexedEvent(event: LedgerEvent): StoredEvent {
  return {
    event,
    occurredAtMs: Date.parse(event.occurredAt),
    receivedAt: event.occurredAt,
    contentHash: 'h',
    expiresAt: 4_000_000_000,
    archiveKey: 'k',
  };
}
