// The namespace import lets the bundler leave out zod's locales and JSON Schema code (−350 KiB).
import * as z from 'zod';
import { parseRfc3339 } from '#lib/events/timestamps.ts';

/**
 * The ingest contract (SPEC "Ingest"): the schema is also the TypeScript type of an event.
 * Event objects are strict, so a misspelt field is reported instead of silently dropped; free-form
 * extras belong in `metadata`. `actor` is strict above all: it is the only place raw identifiers may
 * arrive, and they are hashed before anything is stored, so no unknown key may slip through unhashed.
 */

export const MAX_EVENTS_PER_REQUEST = 500;
export const MAX_BODY_BYTES = 1024 * 1024;
/** One event must fit a DynamoDB item (400 KB) with room for its index attributes. */
export const MAX_EVENT_BYTES = 256 * 1024;
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

export const EVENT_TYPES = [
  'action',
  'unit.started',
  'unit.completed',
  'unit.escalated',
  'review.verdict',
  'rollback',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const timestamp = z
  .string()
  .refine((value) => parseRfc3339(value) !== undefined, 'must be an RFC 3339 timestamp with offset');
const text = (max: number) =>
  z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const nonNegativeInteger = z.number().int('must be an integer').min(0, 'must be ≥ 0');
const laneSchema = z.enum(['autonomous', 'hitl', 'shadow']);

const common = {
  eventId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 characters of [A-Za-z0-9._:-]'),
  workflowId: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'must match ^[a-z][a-z0-9-]{1,62}$'),
  unitId: text(256),
  occurredAt: timestamp,
  actor: z.strictObject({ userId: text(256).optional(), customerId: text(256).optional() }).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
};

const actionFields = {
  agent: z.looseObject({ id: text(256), version: z.string().optional() }).optional(),
  lane: laneSchema.optional(),
  flag: z.looseObject({ version: z.union([z.string(), z.number()]), checkedAt: timestamp }).optional(),
  prompt: z
    .looseObject({
      templateId: z.string().optional(),
      templateVersion: z.union([z.string(), z.number()]).optional(),
    })
    .optional(),
  model: z
    .looseObject({
      provider: z.string().optional(),
      name: z.string().optional(),
      version: z.string().optional(),
    })
    .optional(),
  retrieval: z
    .array(
      z.looseObject({
        kind: z.string(),
        id: z.string(),
        uri: z.string().optional(),
        contentHash: z.string().optional(),
      }),
    )
    .optional(),
  toolCalls: z
    .array(
      z.looseObject({
        name: text(256),
        endpoint: z.string().optional(),
        parameters: z.unknown().optional(),
        outcome: z.enum(['success', 'failure']).optional(),
        errorCode: z.string().optional(),
        durationMs: nonNegativeInteger.optional(),
      }),
    )
    .optional(),
  output: z
    .looseObject({
      text: z.string().optional(),
      ref: z.string().optional(),
      contentHash: z.string().optional(),
      confidence: z.number().min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]').optional(),
    })
    .optional(),
  usage: z
    .looseObject({
      inputTokens: nonNegativeInteger,
      outputTokens: nonNegativeInteger,
      cachedInputTokens: nonNegativeInteger.optional(),
    })
    .optional(),
  approval: z
    .looseObject({
      approverId: text(256),
      decision: z.enum(['approved', 'rejected', 'edited']),
      decidedAt: timestamp,
    })
    .optional(),
  durationMs: nonNegativeInteger.optional(),
};

export const eventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('action'), ...common, ...actionFields }),
  z.strictObject({ type: z.literal('unit.started'), ...common }),
  z.strictObject({ type: z.literal('unit.completed'), ...common, outcome: z.string().optional() }),
  z.strictObject({ type: z.literal('unit.escalated'), ...common, reason: text(2000) }),
  z.strictObject({
    type: z.literal('review.verdict'),
    ...common,
    reviewerId: text(256),
    verdict: z.enum(['pass', 'defect']),
    reviewMinutes: z.number().min(0, 'must be ≥ 0'),
    category: z.string().optional(),
    escaped: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal('rollback'),
    ...common,
    reason: text(2000),
    initiatedBy: text(256),
    lane: laneSchema.optional(),
    from: z.union([z.string(), z.boolean()]).optional(),
    to: z.union([z.string(), z.boolean()]).optional(),
  }),
]);
export type LedgerEvent = z.infer<typeof eventSchema>;

export const batchSchema = z.strictObject({
  events: z
    .array(z.unknown())
    .min(1, 'must hold at least 1 event')
    .max(MAX_EVENTS_PER_REQUEST, `must hold at most ${MAX_EVENTS_PER_REQUEST} events`),
});
