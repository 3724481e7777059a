import { beforeEach, describe, expect, it } from 'vitest';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import type { IngestDependencies } from '#lib/ingest/ingest-events.ts';
import { ingestSpans } from '#lib/ingest/ingest-spans.ts';
import { decodeTraceRequest } from '#lib/otlp/decode.ts';
import type { OtlpAttributes, OtlpSpan } from '#lib/otlp/spans.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { InMemoryEventArchive, InMemoryEventIndex } from '../support/in-memory-stores.ts';

const NOW = Date.parse('2026-11-24T12:00:00Z');
let index: InMemoryEventIndex;
let archive: InMemoryEventArchive;
let deps: IngestDependencies;

beforeEach(() => {
  index = new InMemoryEventIndex();
  archive = new InMemoryEventArchive();
  let requests = 0;
  deps = {
    index,
    archive,
    registry: defaultRegistry,
    hasher: new ActorHasher(Buffer.alloc(32, 7)),
    clock: () => new Date(NOW),
    newRequestId: () => `req-${++requests}`,
  };
});

let spanCounter = 0;
/** A model-call span of support-triage, ended a minute ago, with these attributes on top. */
function chatSpan(attributes: OtlpAttributes = {}, endMs = NOW - 60_000): OtlpSpan {
  spanCounter++;
  return {
    traceId: 'a'.repeat(24) + spanCounter.toString(16).padStart(8, '0'),
    spanId: spanCounter.toString(16).padStart(16, '0'),
    name: 'chat',
    kind: 3,
    startTimeUnixNano: BigInt(endMs - 900) * 1_000_000n,
    endTimeUnixNano: BigInt(endMs) * 1_000_000n,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 100,
      'agent_ledger.unit.id': 'T-1',
      ...attributes,
    },
    events: [],
    status: { code: 0 },
    resource: { 'service.name': 'triage-agent', 'agent_ledger.workflow.id': 'support-triage' },
    scope: { name: 'triage-agent' },
  };
}

const everyWorkflow = { principal: 'test', workflows: '*' as const };

describe('ingestSpans', () => {
  it('stores the good spans of a request beside a span whose event the ledger refuses', async () => {
    // Prepare: the second span ends an hour in the future, which no event may
    const spans = [chatSpan(), chatSpan({}, NOW + 3_600_000), chatSpan()];

    // Act
    const result = await ingestSpans(spans, everyWorkflow, deps);

    // Assess
    expect(result.storedSpans).toBe(2);
    expect(result.events.accepted).toBe(2);
    expect(result.rejected).toEqual([
      {
        traceId: spans[1]?.traceId,
        spanId: spans[1]?.spanId,
        reason: expect.stringContaining('must not be more than 5 minutes in the future'),
      },
    ]);
    expect([...index.items.values()].map((stored) => stored.event.eventId).sort()).toEqual(
      [spans[0], spans[2]].map((span) => `otel:${span?.traceId}:${span?.spanId}`).sort(),
    );
  });

  it('rejects the spans of a workflow the caller may not write, and stores its other spans', async () => {
    const spans = [chatSpan(), chatSpan({ 'agent_ledger.workflow.id': 'code-review' })];
    const result = await ingestSpans(
      spans,
      { principal: 'triage', workflows: new Set(['support-triage']) },
      deps,
    );
    expect(result.storedSpans).toBe(1);
    expect(result.rejected.map(({ spanId, reason }) => [spanId, reason])).toEqual([
      [spans[1]?.spanId, "this caller may not write workflow 'code-review'"],
    ]);
  });

  it('archives the stored spans, people hashed, as an OTLP/JSON request that reads back', async () => {
    // Prepare
    const span = chatSpan({ 'user.id': 'raw-person-42' });

    // Act
    await ingestSpans([span], everyWorkflow, deps);

    // Assess
    const [key, request] = [...archive.rawSpans][0] ?? [];
    expect(key).toBe('raw/retention=24m/workflow=support-triage/dt=2026-11-24/_spans-req-1.otlp.json.gz');
    expect(JSON.stringify(request)).not.toContain('raw-person-42');
    const [archived] = decodeTraceRequest(Buffer.from(JSON.stringify(request ?? {})), 'json');
    expect(archived?.attributes['user.id']).toBe(deps.hasher.hash('userId', 'raw-person-42'));
    expect({ ...archived, attributes: { ...archived?.attributes, 'user.id': 'raw-person-42' } }).toEqual(
      span,
    );
  });

  it('counts nothing twice when the same spans are exported again', async () => {
    const spans = [chatSpan(), chatSpan()];
    await ingestSpans(spans, everyWorkflow, deps);
    const again = await ingestSpans(spans, everyWorkflow, deps);
    expect(again.events).toMatchObject({ accepted: 0, duplicates: 2, conflicts: 0 });
    expect(index.items.size).toBe(2);
  });

  it('ignores spans that are not agent spans, and sends more than 500 events in several requests', async () => {
    const http: OtlpSpan = { ...chatSpan(), attributes: { 'http.request.method': 'GET' } };
    const many = Array.from({ length: 620 }, () => chatSpan());
    const result = await ingestSpans([http, ...many], everyWorkflow, deps);
    expect(result).toMatchObject({ storedSpans: 620, ignoredSpans: 1, rejected: [] });
    expect(result.events.accepted).toBe(620);
    expect(archive.objects.size).toBe(2);
  });
});
