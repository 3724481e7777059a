import { type Caller, mayAccess } from '#lib/auth/caller.ts';
import { MAX_EVENTS_PER_REQUEST } from '#lib/events/schema.ts';
import { validateBatch } from '#lib/events/validate.ts';
import { otlpJsonOf } from '#lib/otlp/decode.ts';
import { eventsFromSpans, redactSpan } from '#lib/otlp/map-spans.ts';
import type { OtlpSpan, RejectedSpan } from '#lib/otlp/spans.ts';
import { rawSpansObjectKey } from '#lib/storage/archive-bucket.ts';
import { chunk } from '#lib/util/concurrency.ts';
import {
  defaultRequestId,
  type IngestDependencies,
  type IngestResult,
  ingestValidEvents,
} from './ingest-events.ts';

export interface SpanIngestResult {
  /** Spans that became ledger events (stored now, or already stored by an earlier export). */
  readonly storedSpans: number;
  /** Spans that are not agent spans (an HTTP client span, a database span): neither stored nor rejected. */
  readonly ignoredSpans: number;
  /** Agent spans the ledger did not store, and why: OTLP's `partialSuccess`. */
  readonly rejected: readonly RejectedSpan[];
  /** What the events of the stored spans did, as `/v1/events` reports it. */
  readonly events: Pick<IngestResult, 'accepted' | 'duplicates' | 'conflicts'> & {
    readonly violations: number;
  };
}

/**
 * The OTLP ingest use case (`POST /v1/traces`): spans → ledger events (`lib/otlp/map-spans.ts`) → the same
 * validation, hashing, archive and idempotent index as `/v1/events`. Unlike `/v1/events`, it is not
 * all-or-nothing: OTLP answers a span it cannot take in `partialSuccess` and stores the rest, since an
 * exporter does not resend a batch for one bad span. A span is stored whole or not at all (a span with a
 * unit event and an action keeps both or neither).
 *
 * The raw spans of the stored events are archived first, personal attributes hashed, so events can be
 * derived again when the conventions change; then the events go through the events path in requests of at
 * most MAX_EVENTS_PER_REQUEST. A failure anywhere is thrown: every write is idempotent (eventIds come from
 * trace and span IDs), so the exporter's retry of the whole request is safe.
 */
export async function ingestSpans(
  spans: readonly OtlpSpan[],
  caller: Caller,
  deps: IngestDependencies,
): Promise<SpanIngestResult> {
  const receivedAt = deps.clock();
  const mapping = eventsFromSpans(spans);
  const rejected: RejectedSpan[] = [...mapping.rejected];

  // Group by span, so one bad event rejects its span and nothing else.
  const bySpan = new Map<OtlpSpan, Record<string, unknown>[]>();
  for (const { span, event } of mapping.events) {
    const events = bySpan.get(span) ?? [];
    events.push(event);
    bySpan.set(span, events);
  }
  const placed = [...bySpan].flatMap(([span, events]) => {
    const workflowId = events[0]?.workflowId;
    if (typeof workflowId === 'string' && !mayAccess(caller, workflowId)) {
      rejected.push(rejection(span, `this caller may not write workflow '${workflowId}'`));
      return [];
    }
    return [{ span, events }];
  });

  const valid: { span: OtlpSpan; events: IngestableEvents }[] = [];
  for (let group of groupsByEventCount(placed, MAX_EVENTS_PER_REQUEST)) {
    // Validate, reject the spans the issues name, and validate the rest again (validateBatch names at most
    // 100 issues), until what is left passes whole.
    while (group.length > 0) {
      const validation = validateBatch(
        { events: group.flatMap(({ events }) => events) },
        { now: receivedAt, registry: deps.registry },
      );
      if (validation.ok) {
        let first = 0;
        for (const { span, events } of group) {
          valid.push({ span, events: validation.events.slice(first, first + events.length) });
          first += events.length;
        }
        break;
      }
      const bodyProblem = validation.issues.find((issue) => issue.index === null);
      if (bodyProblem) {
        // Only a batch-level problem (more events than a request takes) lands here, which grouping avoids.
        for (const { span } of group) rejected.push(rejection(span, bodyProblem.message));
        break;
      }
      const rest: typeof group = [];
      let first = 0;
      for (const entry of group) {
        const last = first + entry.events.length;
        const problem = validation.issues.find(
          (issue) => issue.index !== null && issue.index >= first && issue.index < last,
        );
        if (problem) {
          rejected.push(rejection(entry.span, `${eventPath(problem.path, first)}: ${problem.message}`));
        } else {
          rest.push(entry);
        }
        first = last;
      }
      group = rest;
    }
  }

  await archiveRawSpans(valid, deps, receivedAt);

  let accepted = 0;
  let duplicates = 0;
  let conflicts = 0;
  let violations = 0;
  for (const group of chunk(
    valid.flatMap(({ events }) => events),
    MAX_EVENTS_PER_REQUEST,
  )) {
    const result = await ingestValidEvents(group, caller, deps, receivedAt);
    accepted += result.accepted;
    duplicates += result.duplicates;
    conflicts += result.conflicts;
    violations += result.violations?.length ?? 0;
  }
  return {
    storedSpans: valid.length,
    ignoredSpans: mapping.ignored,
    rejected,
    events: { accepted, duplicates, conflicts, violations },
  };
}

type IngestableEvents = Parameters<typeof ingestValidEvents>[0];

/** One archive object per workflow: the stored spans as one OTLP/JSON request, people hashed. */
async function archiveRawSpans(
  valid: readonly { span: OtlpSpan; events: IngestableEvents }[],
  deps: IngestDependencies,
  receivedAt: Date,
): Promise<void> {
  const byWorkflow = new Map<string, OtlpSpan[]>();
  for (const { span, events } of valid) {
    const workflowId = events[0]?.workflowId;
    if (!workflowId) continue;
    const spans = byWorkflow.get(workflowId) ?? [];
    spans.push(redactSpan(span, (field, value) => deps.hasher.hash(field, value)));
    byWorkflow.set(workflowId, spans);
  }
  const requestId = (deps.newRequestId ?? defaultRequestId)();
  await Promise.all(
    [...byWorkflow].map(([workflowId, spans]) => {
      // biome-ignore lint/style/noNonNullAssertion: validateBatch checked the workflow is registered
      const { retentionMonths } = deps.registry.get(workflowId)!;
      const key = rawSpansObjectKey({ retentionMonths, workflowId, receivedAt, requestId });
      return deps.archive.putRawSpans(key, otlpJsonOf(spans));
    }),
  );
}

function rejection(span: OtlpSpan, reason: string): RejectedSpan {
  return { traceId: span.traceId, spanId: span.spanId, reason };
}

/**
 * Where in its span's events a problem is: `$.events[7].usage.inputTokens` of a validated group, for a span
 * whose events start at 6 → `its event 2 at $.usage.inputTokens`.
 */
function eventPath(path: string, firstIndexOfSpan: number): string {
  const match = /^\$\.events\[(\d+)\](.*)$/.exec(path);
  if (!match) return path;
  const within = Number(match[1]) - firstIndexOfSpan;
  return `${within === 0 ? 'its event' : `its event ${within + 1}`} at $${match[2]}`;
}

/** Consecutive groups of spans with at most `maxEvents` events each (a span's events stay together). */
function groupsByEventCount<T extends { events: readonly unknown[] }>(
  items: readonly T[],
  maxEvents: number,
): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let count = 0;
  for (const item of items) {
    if (count + item.events.length > maxEvents && current.length > 0) {
      groups.push(current);
      current = [];
      count = 0;
    }
    current.push(item);
    count += item.events.length;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
