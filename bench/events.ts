import { randomBytes } from 'node:crypto';
import { createRng } from '#lib/util/seeded-random.ts';

/**
 * Realistic `action` events (SPEC "Ingest") for the two demo workflows: agent, lane, flag, prompt, model,
 * retrieval, tool calls, output, usage, actor. About 1 KB each as JSON; a seeded generator keeps the
 * shape and size stable from run to run while every eventId is fresh.
 */

export const BATCH_SIZE = 100;
export const WORKFLOWS = ['support-triage', 'code-review'] as const;
export type BenchWorkflow = (typeof WORKFLOWS)[number];

export interface BenchBatch {
  readonly workflowId: BenchWorkflow;
  readonly events: readonly Record<string, unknown>[];
}

const SUPPORT_REPLIES = [
  'I reset the two-factor enrolment on your account; sign in again and enrol a new device in Settings.',
  'The duplicate charge of 49.00 EUR was refunded to the original card; expect it within 5 business days.',
  'Your export was stuck behind a failed job. I restarted it; the CSV is now under Reports > Exports.',
];
const REVIEW_NOTES = [
  'fetchPage() never resets the backoff after a success; reset attempt to 0 after each 2xx and add a test.',
  'This adds a NOT NULL column without a default to a live table; add it nullable, backfill, then constrain.',
  'LGTM. Minor: the handler logs the full request body at INFO, including the email; log counts only.',
];

function hex(random: () => number, length: number): string {
  let out = '';
  while (out.length < length)
    out += Math.floor(random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  return out.slice(0, length);
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function actionEvent(
  random: () => number,
  workflowId: BenchWorkflow,
  eventId: string,
  nowMs: number,
): Record<string, unknown> {
  // Within the past day, at least a minute old.
  const occurredMs = nowMs - 60_000 - Math.floor(random() * 86_000_000);
  const occurredAt = new Date(occurredMs).toISOString();
  const checkedAt = new Date(occurredMs - 1_000 - Math.floor(random() * 30_000)).toISOString();
  const support = workflowId === 'support-triage';
  const unitNumber = 10_000 + Math.floor(random() * 90_000);
  const inputTokens = 800 + Math.floor(random() * 6_000);
  const text = pick(random, support ? SUPPORT_REPLIES : REVIEW_NOTES);
  return {
    eventId,
    type: 'action',
    workflowId,
    unitId: support ? `ZD-${unitNumber}` : `acme/payments#${unitNumber}`,
    occurredAt,
    actor: {
      userId: `user-${Math.floor(random() * 5_000)}`,
      customerId: `cust-${Math.floor(random() * 800)}`,
    },
    agent: { id: support ? 'triage-agent' : 'review-agent', version: '1.14.2' },
    lane: pick(random, ['autonomous', 'hitl', 'shadow'] as const),
    flag: { version: 42, checkedAt },
    prompt: { templateId: support ? 'triage-reply' : 'pr-review', templateVersion: '7' },
    model: { provider: 'anthropic', name: 'claude-sonnet-4', version: '2025-05-14' },
    retrieval: [
      {
        kind: support ? 'ticket' : 'diff',
        id: support ? `ZD-${unitNumber}` : `sha-${hex(random, 12)}`,
        uri: support
          ? `https://acme.zendesk.com/agent/tickets/${unitNumber}`
          : `https://github.com/acme/payments/pull/${unitNumber}/files`,
        contentHash: `sha256:${hex(random, 64)}`,
      },
    ],
    toolCalls: [
      {
        name: support ? 'crm.lookupCustomer' : 'github.getPullRequest',
        endpoint: support ? 'https://crm.internal/api/v2/customers' : 'https://api.github.com/repos',
        parameters: { id: unitNumber, fields: ['plan', 'status'] },
        outcome: 'success',
        durationMs: 40 + Math.floor(random() * 400),
      },
      {
        name: support ? 'zendesk.postReply' : 'github.createReviewComment',
        endpoint: support ? 'https://acme.zendesk.com/api/v2/tickets' : 'https://api.github.com/repos',
        parameters: { id: unitNumber, draft: random() < 0.5 },
        outcome: random() < 0.97 ? 'success' : 'failure',
        durationMs: 60 + Math.floor(random() * 600),
      },
    ],
    output: {
      text,
      confidence: Math.round(random() * 1000) / 1000,
    },
    usage: {
      inputTokens,
      outputTokens: 120 + Math.floor(random() * 900),
      cachedInputTokens: Math.floor(random() * 4_000),
    },
    durationMs: 900 + Math.floor(random() * 9_000),
  };
}

/**
 * `count` events in batches of BATCH_SIZE, one workflow per batch (alternating), so every request is
 * one archive object. Event IDs carry `tag` and a random run token, so they never collide across runs.
 */
export function generateBatches(count: number, tag: string, nowMs: number, seed = 1): BenchBatch[] {
  // Seeded, so runs are comparable.
  const random = createRng(seed).next;
  const token = randomBytes(4).toString('hex');
  const batches: BenchBatch[] = [];
  for (let start = 0, b = 0; start < count; start += BATCH_SIZE, b++) {
    const workflowId = WORKFLOWS[b % WORKFLOWS.length] as BenchWorkflow;
    const events: Record<string, unknown>[] = [];
    for (let i = start; i < Math.min(count, start + BATCH_SIZE); i++) {
      events.push(
        actionEvent(random, workflowId, `bench-${tag}-${token}-${i.toString().padStart(6, '0')}`, nowMs),
      );
    }
    batches.push({ workflowId, events });
  }
  return batches;
}

export function averageEventBytes(batches: readonly BenchBatch[]): number {
  let bytes = 0;
  let count = 0;
  for (const batch of batches) {
    for (const event of batch.events) {
      bytes += Buffer.byteLength(JSON.stringify(event));
      count++;
    }
  }
  return count > 0 ? bytes / count : 0;
}
