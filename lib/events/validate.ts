import type { z } from 'zod';
import {
  batchSchema,
  EVENT_TYPES,
  eventSchema,
  type LedgerEvent,
  MAX_EVENT_BYTES,
  MAX_FUTURE_SKEW_MS,
} from '#lib/events/schema.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';

/** One problem with a request: which event (null for the body itself), where in it, and what is wrong. */
export interface ValidationIssue {
  readonly index: number | null;
  readonly path: string;
  readonly message: string;
}

export type BatchValidation =
  | { readonly ok: true; readonly events: LedgerEvent[] }
  | { readonly ok: false; readonly issues: ValidationIssue[] };

/** At most this many issues are reported, so a 500-event garbage batch still gets a readable answer. */
const MAX_ISSUES = 100;

/**
 * Validates a parsed request body against the ingest contract. Every event is checked, so one answer
 * names all problems; the request is valid only when there are none.
 */
export function validateBatch(
  body: unknown,
  options: { now: Date; registry: WorkflowRegistry },
): BatchValidation {
  const batch = batchSchema.safeParse(body);
  if (!batch.success) {
    return { ok: false, issues: batch.error.issues.map((issue) => toIssue(issue, [])).slice(0, MAX_ISSUES) };
  }
  const issues: ValidationIssue[] = [];
  const events: LedgerEvent[] = [];
  const latestAllowed = options.now.getTime() + MAX_FUTURE_SKEW_MS;
  for (const [index, raw] of batch.data.events.entries()) {
    const base = ['events', index];
    const parsed = eventSchema.safeParse(raw);
    if (!parsed.success) {
      issues.push(...parsed.error.issues.map((issue) => toIssue(issue, base)));
      continue;
    }
    const event = parsed.data;
    if (!options.registry.get(event.workflowId)) {
      issues.push(issueAt([...base, 'workflowId'], `workflow '${event.workflowId}' is not registered`));
    }
    const occurredAt = parseRfc3339(event.occurredAt) ?? 0;
    if (occurredAt > latestAllowed) {
      issues.push(issueAt([...base, 'occurredAt'], 'must not be more than 5 minutes in the future'));
    }
    if (Buffer.byteLength(JSON.stringify(event)) > MAX_EVENT_BYTES) {
      issues.push(issueAt(base, `event must be at most ${MAX_EVENT_BYTES} bytes as JSON`));
    }
    events.push(event);
  }
  if (issues.length > 0) return { ok: false, issues: issues.slice(0, MAX_ISSUES) };
  return { ok: true, events };
}

function toIssue(issue: z.core.$ZodIssue, base: (string | number)[]): ValidationIssue {
  const path = [
    ...base,
    ...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment)),
  ];
  if (issue.code === 'unrecognized_keys') {
    const fields = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    const advice =
      path.at(-1) === 'actor' ? 'actor takes only userId and customerId' : 'put free-form data in metadata';
    return issueAt(path, `${fields}; ${advice}`);
  }
  if (issue.code === 'invalid_union' && issue.discriminator === 'type') {
    return issueAt(path, `must be one of ${EVENT_TYPES.join(', ')}`);
  }
  if (issue.code === 'invalid_type') {
    const received = /received (\w+)/.exec(issue.message)?.[1];
    if (received === 'undefined') return issueAt(path, 'is required');
    return issueAt(
      path,
      `must be ${withArticle(issue.expected)}${received ? `, not ${withArticle(received)}` : ''}`,
    );
  }
  return issueAt(path, issue.message);
}

function withArticle(typeName: string): string {
  return /^[aeiou]/.test(typeName) ? `an ${typeName}` : `a ${typeName}`;
}

function issueAt(path: (string | number)[], message: string): ValidationIssue {
  const index = path[0] === 'events' && typeof path[1] === 'number' ? path[1] : null;
  return { index, path: toJsonPath(path), message };
}

/** `['events', 3, 'toolCalls', 0, 'outcome']` → `$.events[3].toolCalls[0].outcome`. */
export function toJsonPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, segment) => {
    if (typeof segment === 'number') return `${acc}[${segment}]`;
    return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)
      ? `${acc}.${segment}`
      : `${acc}[${JSON.stringify(segment)}]`;
  }, '$');
}
