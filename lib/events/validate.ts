import {
  batchSchema,
  eventSchema,
  type LedgerEvent,
  MAX_EVENT_BYTES,
  MAX_FUTURE_SKEW_MS,
} from '#lib/events/schema.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { type IssueOptions, parseWithIssues, toJsonPath } from '#lib/validation/zod-issues.ts';

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
  const batch = parseWithIssues(batchSchema, body, ADVICE);
  if (!batch.success) {
    return { ok: false, issues: batch.issues.map((issue) => withIndex(issue, null)).slice(0, MAX_ISSUES) };
  }
  const issues: ValidationIssue[] = [];
  const events: LedgerEvent[] = [];
  const latestAllowed = options.now.getTime() + MAX_FUTURE_SKEW_MS;
  for (const [index, raw] of batch.data.events.entries()) {
    const base = ['events', index];
    const parsed = parseWithIssues(eventSchema, raw, { ...ADVICE, base });
    if (!parsed.success) {
      issues.push(...parsed.issues.map((issue) => withIndex(issue, index)));
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

/** Where free-form data goes instead of an unknown field: nothing personal may slip past the hashing. */
const ADVICE: IssueOptions = {
  unknownFieldAdvice: (path) =>
    path.at(-1) === 'actor' ? 'actor takes only userId and customerId' : 'put free-form data in metadata',
};

function withIndex(issue: { path: string; message: string }, index: number | null): ValidationIssue {
  return { index, path: issue.path, message: issue.message };
}

function issueAt(path: (string | number)[], message: string): ValidationIssue {
  return { index: issueIndexOf(path), path: toJsonPath(path), message };
}

/** The event a problem at `path` of an ingest body is in (`$.events[3]…` → 3), or null for the body itself. */
export function issueIndexOf(path: readonly (string | number)[]): number | null {
  return path[0] === 'events' && typeof path[1] === 'number' ? path[1] : null;
}
