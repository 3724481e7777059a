// zod/mini: the same checks, issues and messages as zod, without the methods zod puts on every schema
// instance, which make a schema slower to build and ingest's cold start longer (issue 12, item 5).
import * as z from 'zod/mini';
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
  .check(z.refine((value) => parseRfc3339(value) !== undefined, 'must be an RFC 3339 timestamp with offset'));
const text = (max: number) =>
  z
    .string()
    .check(z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));
const nonNegativeInteger = z.number().check(z.int('must be an integer'), z.gte(0, 'must be ≥ 0'));
const laneSchema = z.enum(['autonomous', 'hitl', 'shadow']);
const optionalText = z.optional(z.string());
const stringOrNumber = z.union([z.string(), z.number()]);

const common = {
  eventId: z
    .string()
    .check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 characters of [A-Za-z0-9._:-]')),
  workflowId: z.string().check(z.regex(/^[a-z][a-z0-9-]{1,62}$/, 'must match ^[a-z][a-z0-9-]{1,62}$')),
  unitId: text(256),
  occurredAt: timestamp,
  actor: z.optional(z.strictObject({ userId: z.optional(text(256)), customerId: z.optional(text(256)) })),
  metadata: z.optional(z.record(z.string(), z.unknown())),
};

const actionFields = {
  agent: z.optional(z.looseObject({ id: text(256), version: optionalText })),
  lane: z.optional(laneSchema),
  flag: z.optional(z.looseObject({ version: stringOrNumber, checkedAt: timestamp })),
  prompt: z.optional(
    z.looseObject({ templateId: optionalText, templateVersion: z.optional(stringOrNumber) }),
  ),
  model: z.optional(z.looseObject({ provider: optionalText, name: optionalText, version: optionalText })),
  retrieval: z.optional(
    z.array(
      z.looseObject({ kind: z.string(), id: z.string(), uri: optionalText, contentHash: optionalText }),
    ),
  ),
  toolCalls: z.optional(
    z.array(
      z.looseObject({
        name: text(256),
        endpoint: optionalText,
        parameters: z.optional(z.unknown()),
        outcome: z.optional(z.enum(['success', 'failure'])),
        errorCode: optionalText,
        durationMs: z.optional(nonNegativeInteger),
      }),
    ),
  ),
  output: z.optional(
    z.looseObject({
      text: optionalText,
      ref: optionalText,
      contentHash: optionalText,
      confidence: z.optional(z.number().check(z.gte(0, 'must be in [0, 1]'), z.lte(1, 'must be in [0, 1]'))),
    }),
  ),
  usage: z.optional(
    z.looseObject({
      inputTokens: nonNegativeInteger,
      outputTokens: nonNegativeInteger,
      cachedInputTokens: z.optional(nonNegativeInteger),
    }),
  ),
  approval: z.optional(
    z.looseObject({
      approverId: text(256),
      decision: z.enum(['approved', 'rejected', 'edited']),
      decidedAt: timestamp,
    }),
  ),
  durationMs: z.optional(nonNegativeInteger),
};

export const eventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('action'), ...common, ...actionFields }),
  z.strictObject({ type: z.literal('unit.started'), ...common }),
  z.strictObject({ type: z.literal('unit.completed'), ...common, outcome: optionalText }),
  z.strictObject({ type: z.literal('unit.escalated'), ...common, reason: text(2000) }),
  z.strictObject({
    type: z.literal('review.verdict'),
    ...common,
    reviewerId: text(256),
    verdict: z.enum(['pass', 'defect']),
    reviewMinutes: z.number().check(z.gte(0, 'must be ≥ 0')),
    category: optionalText,
    escaped: z.optional(z.boolean()),
  }),
  z.strictObject({
    type: z.literal('rollback'),
    ...common,
    reason: text(2000),
    initiatedBy: text(256),
    lane: z.optional(laneSchema),
    from: z.optional(z.union([z.string(), z.boolean()])),
    to: z.optional(z.union([z.string(), z.boolean()])),
  }),
]);
export type LedgerEvent = z.infer<typeof eventSchema>;

export const batchSchema = z.strictObject({
  events: z
    .array(z.unknown())
    .check(
      z.minLength(1, 'must hold at least 1 event'),
      z.maxLength(MAX_EVENTS_PER_REQUEST, `must hold at most ${MAX_EVENTS_PER_REQUEST} events`),
    ),
});
