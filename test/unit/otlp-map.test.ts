import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import { validateBatch } from '#lib/events/validate.ts';
import { ingestEvents } from '#lib/ingest/ingest-events.ts';
import { eventsFromSpans, redactSpan } from '#lib/otlp/map-spans.ts';
import type { OtlpAttributes, OtlpSpan, OtlpSpanEvent } from '#lib/otlp/spans.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { InMemoryEventArchive, InMemoryEventIndex } from '../support/in-memory-stores.ts';

// Spans built by hand with the attribute sets the libraries emit: GenAI (Strands Agents, the Vercel AI
// SDK), OpenInference (LLM, TOOL, AGENT, RETRIEVER), and spans that are no agent's at all.

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const NOW = new Date('2026-03-10T13:00:00Z');
/** 2026-03-10T12:00:00Z in Unix nanoseconds. */
const T0 = BigInt(Date.parse('2026-03-10T12:00:00Z')) * 1_000_000n;
const RESOURCE: OtlpAttributes = {
  'service.name': 'triage-agent',
  'agent_ledger.workflow.id': 'support-triage',
  'agent_ledger.unit.id': 'ticket-4711',
};

let spanCounter = 0;
interface SpanInput {
  readonly attributes?: OtlpAttributes;
  readonly resource?: OtlpAttributes;
  readonly events?: readonly OtlpSpanEvent[];
  readonly status?: OtlpSpan['status'];
  readonly name?: string;
  readonly spanId?: string;
  readonly parentSpanId?: string;
  /** Nanoseconds after T0. */
  readonly startNs?: bigint;
  readonly endNs?: bigint;
}
function span(input: SpanInput = {}): OtlpSpan {
  spanCounter++;
  const built: OtlpSpan = {
    traceId: TRACE,
    spanId: input.spanId ?? spanCounter.toString(16).padStart(16, '0'),
    name: input.name ?? 'span',
    kind: 1,
    startTimeUnixNano: T0 + (input.startNs ?? 0n),
    endTimeUnixNano: T0 + (input.endNs ?? 1_234_567_891n),
    attributes: input.attributes ?? {},
    events: input.events ?? [],
    status: input.status ?? { code: 0 },
    resource: input.resource ?? RESOURCE,
    scope: { name: 'strands.telemetry.tracer', version: '1.9.0' },
  };
  return input.parentSpanId === undefined ? built : { ...built, parentSpanId: input.parentSpanId };
}

// Strands Agents: invoke_agent → chat, execute_tool (GenAI conventions, some deprecated names too).
const strandsAgent = () =>
  span({
    name: 'invoke_agent triage',
    spanId: 'a000000000000001',
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.system': 'strands-agents',
      'gen_ai.agent.name': 'triage',
      'gen_ai.agent.version': '1.4.0',
      'gen_ai.request.model': 'us.anthropic.claude-sonnet-4-20250514-v1:0',
      'gen_ai.usage.input_tokens': 1800,
      'gen_ai.usage.output_tokens': 300,
    },
  });
const strandsChat = () =>
  span({
    name: 'chat',
    spanId: 'a000000000000002',
    parentSpanId: 'a000000000000001',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet',
      'gen_ai.usage.prompt_tokens': 1200,
      'gen_ai.usage.completion_tokens': 200,
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 200,
      'gen_ai.usage.cache_read_input_tokens': 1000,
      'agent_ledger.lane': 'autonomous',
      'agent_ledger.flag.version': 3,
      'agent_ledger.flag.checked_at': '2026-03-10T11:59:59Z',
      'gen_ai.prompt.name': 'triage',
      'gen_ai.prompt.version': '7',
      'gen_ai.data_source.id': 'kb-support',
    },
    events: [
      {
        name: 'gen_ai.choice',
        timeUnixNano: T0 + 1_000_000_000n,
        attributes: { message: '[{"text": "Refund approved."}]', finish_reason: 'end_turn' },
      },
    ],
  });
const strandsTool = (overrides: SpanInput = {}) =>
  span({
    name: 'execute_tool lookup_order',
    spanId: 'a000000000000003',
    parentSpanId: 'a000000000000001',
    startNs: 2_000_000_000n,
    endNs: 2_250_400_000n,
    attributes: {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.system': 'strands-agents',
      'gen_ai.tool.name': 'lookup_order',
      'gen_ai.tool.call.id': 'tooluse_1',
      'gen_ai.tool.call.arguments': '{"orderId": "o-1"}',
      'server.address': 'orders.internal',
      'server.port': 443,
    },
    ...overrides,
  });

// Vercel AI SDK: ai.generateText.doGenerate (gen_ai.* plus ai.*) and ai.toolCall.
const vercelDoGenerate = () =>
  span({
    name: 'ai.generateText.doGenerate',
    attributes: {
      'operation.name': 'ai.generateText.doGenerate',
      'ai.operationId': 'ai.generateText.doGenerate',
      'ai.model.provider': 'openai.chat',
      'ai.model.id': 'gpt-4o',
      'gen_ai.system': 'openai.chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 50,
      'gen_ai.usage.output_tokens': 10,
      'ai.response.text': 'Hello!',
      'user.id': 'alice@example.com',
    },
  });
const vercelToolCall = () =>
  span({
    name: 'ai.toolCall',
    attributes: {
      'operation.name': 'ai.toolCall',
      'ai.operationId': 'ai.toolCall',
      'ai.toolCall.name': 'weather',
      'ai.toolCall.id': 'call_1',
      'ai.toolCall.args': '{"city":"Berlin"}',
    },
  });

// OpenInference (Arize): LLM, TOOL, AGENT, RETRIEVER kinds, lists flattened.
const oiLlm = () =>
  span({
    name: 'ChatCompletion',
    attributes: {
      'openinference.span.kind': 'LLM',
      'llm.provider': 'openai',
      'llm.system': 'openai',
      'llm.model_name': 'gpt-4o-mini-2024-07-18',
      'llm.token_count.prompt': 900,
      'llm.token_count.completion': 80,
      'llm.token_count.total': 980,
      'llm.token_count.prompt_details.cache_read': 512,
      'llm.prompt_template.version': 'v3',
      'llm.input_messages.0.message.role': 'user',
      'llm.input_messages.0.message.content': 'Where is my order?',
      'llm.output_messages.0.message.role': 'assistant',
      'llm.output_messages.0.message.content': 'It ships tomorrow.',
      'session.id': 'chat-99',
      'user.id': 'u-123',
    },
  });
const oiTool = () =>
  span({
    name: 'lookup_order',
    attributes: {
      'openinference.span.kind': 'TOOL',
      'tool.name': 'lookup_order',
      'tool.description': 'Looks an order up',
      'tool.parameters': '{"orderId": "o-2"}',
      'input.value': '{"orderId": "o-2"}',
      'output.value': 'shipped',
      'url.full': 'https://orders.internal/v1/orders/o-2',
    },
  });
const oiAgent = () =>
  span({ name: 'Agent', attributes: { 'openinference.span.kind': 'AGENT', 'agent.name': 'support-agent' } });
const oiRetriever = () =>
  span({
    name: 'retrieve',
    attributes: {
      'openinference.span.kind': 'RETRIEVER',
      'input.value': 'refund policy',
      'retrieval.documents.0.document.id': 'doc-17',
      'retrieval.documents.0.document.score': 0.91,
      'retrieval.documents.0.document.content': 'Refunds within 30 days…',
      'retrieval.documents.1.document.id': 'doc-4',
      'retrieval.documents.1.document.metadata': '{"url": "https://kb.example.com/4"}',
    },
  });

// Not an agent's: an HTTP client span and a DB span.
const httpClient = () =>
  span({ name: 'GET', attributes: { 'http.request.method': 'GET', 'url.full': 'https://example.com/' } });
const dbSpan = () => span({ name: 'SELECT orders', attributes: { 'db.system.name': 'postgresql' } });

const allSpans = () => [
  strandsAgent(),
  strandsChat(),
  strandsTool(),
  vercelDoGenerate(),
  vercelToolCall(),
  oiLlm(),
  oiTool(),
  oiAgent(),
  oiRetriever(),
  httpClient(),
  dbSpan(),
];

/** The single event of one span, or a failure naming what the span became instead. */
function only(input: OtlpSpan): Record<string, unknown> {
  const mapping = eventsFromSpans([input]);
  expect(mapping.rejected).toEqual([]);
  expect(mapping.events).toHaveLength(1);
  return (mapping.events[0] as { event: Record<string, unknown> }).event;
}

describe('eventsFromSpans: every event it makes is a valid /v1/events event', () => {
  it('maps GenAI, Vercel AI SDK and OpenInference spans to actions that pass validateBatch', () => {
    // Act
    const mapping = eventsFromSpans(allSpans());

    // Assess
    expect(mapping.rejected).toEqual([]);
    expect(mapping.ignored).toBe(2);
    expect(mapping.events).toHaveLength(9);
    const result = validateBatch(
      { events: mapping.events.map((e) => e.event) },
      { now: NOW, registry: defaultRegistry },
    );
    expect(result).toMatchObject({ ok: true });
    expect(mapping.events.map((e) => (e.event.metadata as { otel: { kind: string } }).otel.kind)).toEqual([
      'agent',
      'model',
      'tool',
      'model',
      'tool',
      'model',
      'tool',
      'agent',
      'tool',
    ]);
  });

  it('ingests the mapped events through the ingest use case, the user ID hashed', async () => {
    // Prepare
    const index = new InMemoryEventIndex();
    const archive = new InMemoryEventArchive();
    const events = eventsFromSpans(allSpans()).events.map((e) => e.event);

    // Act
    const result = await ingestEvents(
      { events },
      { principal: 'test', workflows: '*' },
      {
        index,
        archive,
        registry: defaultRegistry,
        hasher: new ActorHasher(Buffer.alloc(32, 3)),
        clock: () => NOW,
        newRequestId: () => 'req-1',
      },
    );

    // Assess
    expect(result).toMatchObject({ accepted: 9, duplicates: 0, conflicts: 0 });
    expect(JSON.stringify([...index.items.values()])).not.toContain('alice@example.com');
  });
});

describe('eventsFromSpans: model calls', () => {
  it('maps a Strands chat span: deprecated token names, cached tokens outside inputTokens, prompt, flag, output', () => {
    // Act
    const event = only(strandsChat());

    // Assess
    expect(event).toEqual({
      eventId: `otel:${TRACE}:a000000000000002`,
      type: 'action',
      workflowId: 'support-triage',
      unitId: 'ticket-4711',
      occurredAt: '2026-03-10T12:00:01.234567891Z',
      lane: 'autonomous',
      flag: { version: 3, checkedAt: '2026-03-10T11:59:59Z' },
      model: { provider: 'anthropic', name: 'claude-sonnet' },
      usage: { inputTokens: 200, outputTokens: 200, cachedInputTokens: 1000 },
      prompt: { templateId: 'triage', templateVersion: '7' },
      toolCalls: [],
      output: { text: 'Refund approved.' },
      retrieval: [{ kind: 'data_source', id: 'kb-support' }],
      durationMs: 1235,
      metadata: {
        otel: {
          traceId: TRACE,
          spanId: 'a000000000000002',
          parentSpanId: 'a000000000000001',
          kind: 'model',
          scope: { name: 'strands.telemetry.tracer', version: '1.9.0' },
        },
      },
    });
    expect(parseRfc3339(event.occurredAt as string)).toBe(Date.parse('2026-03-10T12:00:01.234Z'));
  });

  it('reads only the deprecated token names when the current ones are absent', () => {
    // Prepare
    const input = span({
      attributes: {
        'gen_ai.operation.name': 'text_completion',
        'gen_ai.system': 'openai',
        'gen_ai.request.model': 'gpt-3.5-turbo-instruct',
        'gen_ai.usage.prompt_tokens': 40,
        'gen_ai.usage.completion_tokens': 5,
      },
    });

    // Act + Assess
    expect(only(input)).toMatchObject({
      model: { provider: 'openai', name: 'gpt-3.5-turbo-instruct' },
      usage: { inputTokens: 40, outputTokens: 5 },
    });
  });

  it('prefers gen_ai.provider.name over gen_ai.system, and the response model (also the version) over the request model', () => {
    // Prepare
    const input = span({
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'aws.bedrock',
        'gen_ai.system': 'anthropic',
        'gen_ai.request.model': 'claude',
        'gen_ai.response.model': 'claude-sonnet-4-20250514',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.output_tokens': 2,
        'gen_ai.usage.cache_read.input_tokens': 4,
        'gen_ai.output.messages': JSON.stringify([
          { role: 'assistant', parts: [{ type: 'text', content: 'Hi.' }], finish_reason: 'stop' },
        ]),
      },
    });

    // Act + Assess
    expect(only(input)).toMatchObject({
      model: {
        provider: 'aws.bedrock',
        name: 'claude-sonnet-4-20250514',
        version: 'claude-sonnet-4-20250514',
      },
      usage: { inputTokens: 6, outputTokens: 2, cachedInputTokens: 4 },
      output: { text: 'Hi.' },
    });
  });

  it('maps a Vercel AI SDK doGenerate span, the provider kept as the span says it', () => {
    expect(only(vercelDoGenerate())).toMatchObject({
      model: { provider: 'openai.chat', name: 'gpt-4o-2024-08-06' },
      usage: { inputTokens: 50, outputTokens: 10 },
      output: { text: 'Hello!' },
      actor: { userId: 'alice@example.com' },
    });
  });

  it('maps an OpenInference LLM span: llm.* names, cache_read outside inputTokens, session.id as the unit', () => {
    // Prepare: no agent_ledger.unit.id anywhere.
    const input = { ...oiLlm(), resource: { 'agent_ledger.workflow.id': 'support-triage' } };

    // Act + Assess
    expect(only(input)).toMatchObject({
      unitId: 'chat-99',
      model: { provider: 'openai', name: 'gpt-4o-mini-2024-07-18' },
      usage: { inputTokens: 388, outputTokens: 80, cachedInputTokens: 512 },
      prompt: { templateVersion: 'v3' },
      output: { text: 'It ships tomorrow.' },
      actor: { userId: 'u-123' },
    });
  });

  it('rejects a span whose cached tokens exceed its input tokens rather than store a guess', () => {
    // Prepare
    const input = span({
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 1,
        'gen_ai.usage.cache_read.input_tokens': 150,
      },
    });

    // Act
    const mapping = eventsFromSpans([input]);

    // Assess
    expect(mapping.events).toEqual([]);
    expect(mapping.rejected).toEqual([
      {
        traceId: TRACE,
        spanId: input.spanId,
        reason: expect.stringContaining('150 cached input tokens exceed') as unknown as string,
      },
    ]);
  });

  it('rejects token counts that are not non-negative integers, and keeps int64 decimal strings', () => {
    const bad = span({ attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 1.5 } });
    const big = span({
      attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.usage.input_tokens': '12345' },
    });
    expect(eventsFromSpans([bad]).rejected[0]?.reason).toContain('gen_ai.usage.input_tokens');
    expect(only(big)).toMatchObject({ usage: { inputTokens: 12345, outputTokens: 0 } });
  });

  it('keeps gen_ai.evaluation.result and guardrail span events in the action metadata', () => {
    // Prepare
    const input = span({
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' },
      events: [
        {
          name: 'gen_ai.evaluation.result',
          timeUnixNano: T0,
          attributes: {
            'gen_ai.evaluation.name': 'relevance',
            'gen_ai.evaluation.score.value': 0.8,
            'gen_ai.evaluation.score.label': 'relevant',
            'user.id': 'evaluated-user',
          },
        },
        { name: 'guardrail.result', timeUnixNano: T0, attributes: { action: 'NONE' } },
      ],
    });

    // Act
    const event = only(input);

    // Assess
    expect(event.metadata).toMatchObject({
      evaluations: [
        {
          name: 'gen_ai.evaluation.result',
          attributes: { 'gen_ai.evaluation.name': 'relevance', 'gen_ai.evaluation.score.value': 0.8 },
        },
      ],
      guardrails: [{ name: 'guardrail.result', attributes: { action: 'NONE' } }],
    });
    expect(JSON.stringify(event)).not.toContain('evaluated-user');
    expect(validateBatch({ events: [event] }, { now: NOW, registry: defaultRegistry })).toMatchObject({
      ok: true,
    });
  });
});

describe('eventsFromSpans: tool executions and agent invocations', () => {
  it('maps an execute_tool span to one tool call with endpoint, parsed parameters, outcome and duration', () => {
    expect(only(strandsTool())).toMatchObject({
      eventId: `otel:${TRACE}:a000000000000003`,
      toolCalls: [
        {
          name: 'lookup_order',
          endpoint: 'orders.internal:443',
          parameters: { orderId: 'o-1' },
          outcome: 'success',
          durationMs: 250,
        },
      ],
      durationMs: 250,
      metadata: { otel: { kind: 'tool', parentSpanId: 'a000000000000001' } },
    });
  });

  it('marks a tool span with status ERROR as a failure with error.type as its errorCode', () => {
    // Prepare
    const failed = strandsTool({
      status: { code: 2, message: 'timeout' },
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'lookup_order',
        'gen_ai.tool.call.arguments': 'order o-1', // not JSON: kept as the string
        'error.type': 'TimeoutError',
      },
    });

    // Act + Assess
    const event = only(failed);
    expect(event.toolCalls).toEqual([
      {
        name: 'lookup_order',
        parameters: 'order o-1',
        outcome: 'failure',
        errorCode: 'TimeoutError',
        durationMs: 250,
      },
    ]);
  });

  it('maps Vercel ai.toolCall and OpenInference TOOL spans', () => {
    expect(only(vercelToolCall())).toMatchObject({
      toolCalls: [{ name: 'weather', parameters: { city: 'Berlin' }, outcome: 'success' }],
    });
    expect(only(oiTool())).toMatchObject({
      toolCalls: [
        {
          name: 'lookup_order',
          endpoint: 'https://orders.internal/v1/orders/o-2',
          parameters: { orderId: 'o-2' },
          outcome: 'success',
        },
      ],
    });
  });

  it('rejects a tool span that names no tool', () => {
    const input = span({ attributes: { 'gen_ai.operation.name': 'execute_tool' } });
    expect(eventsFromSpans([input]).rejected[0]?.reason).toBe(
      'a tool execution without gen_ai.tool.name or tool.name',
    );
  });

  it('maps invoke_agent and OpenInference AGENT spans to agent actions without usage', () => {
    const strands = only(strandsAgent());
    expect(strands).toMatchObject({
      agent: { id: 'triage', version: '1.4.0' },
      metadata: { otel: { kind: 'agent' } },
    });
    // The agent span's token totals repeat its model calls': costing them again would count them twice.
    expect(strands.usage).toBeUndefined();
    expect(strands.model).toBeUndefined();
    expect(only(oiAgent())).toMatchObject({ agent: { id: 'support-agent' } });
    const byId = span({
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.id': 'asst_1',
        'gen_ai.agent.name': 'x',
      },
    });
    expect(only(byId)).toMatchObject({ agent: { id: 'asst_1' } });
  });

  it('maps an OpenInference RETRIEVER span to a non-step action with its flattened documents', () => {
    expect(only(oiRetriever())).toMatchObject({
      retrieval: [
        { kind: 'document', id: 'doc-17' },
        { kind: 'document', id: 'doc-4', uri: 'https://kb.example.com/4' },
      ],
      metadata: { otel: { kind: 'tool' } },
    });
  });
});

describe('eventsFromSpans: placing a span', () => {
  it('takes workflow and unit from the span before the resource, and gen_ai.conversation.id last', () => {
    // Prepare
    const onSpan = span({
      attributes: {
        'gen_ai.operation.name': 'chat',
        'agent_ledger.workflow.id': 'code-review',
        'agent_ledger.unit.id': 'pr-1',
        'gen_ai.conversation.id': 'conv-1',
      },
    });
    const onResource = span({
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.conversation.id': 'conv-1' },
    });
    const byConversation = span({
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.conversation.id': 'conv-1' },
      resource: { 'agent_ledger.workflow.id': 'support-triage' },
    });

    // Act + Assess
    expect(only(onSpan)).toMatchObject({ workflowId: 'code-review', unitId: 'pr-1' });
    expect(only(onResource)).toMatchObject({ workflowId: 'support-triage', unitId: 'ticket-4711' });
    expect(only(byConversation)).toMatchObject({ workflowId: 'support-triage', unitId: 'conv-1' });
  });

  it('takes the lane from the span before the resource', () => {
    const input = span({
      attributes: { 'gen_ai.operation.name': 'chat', 'agent_ledger.lane': 'shadow' },
      resource: { ...RESOURCE, 'agent_ledger.lane': 'hitl' },
    });
    expect(only(input)).toMatchObject({ lane: 'shadow' });
    expect(only({ ...input, attributes: { 'gen_ai.operation.name': 'chat' } })).toMatchObject({
      lane: 'hitl',
    });
  });

  it('takes the flag from the span only: a resource is set once per process, not before each action', () => {
    const input = span({
      attributes: { 'gen_ai.operation.name': 'chat' },
      resource: {
        ...RESOURCE,
        'agent_ledger.flag.version': 1,
        'agent_ledger.flag.checked_at': '2026-03-01T00:00:00Z',
      },
    });
    expect(only(input).flag).toBeUndefined();
  });

  it('rejects an agent span with no workflow or no unit, with a readable reason', () => {
    // Prepare
    const noWorkflow = span({
      attributes: { 'gen_ai.operation.name': 'chat' },
      resource: { 'service.name': 'x' },
    });
    const noUnit = span({
      attributes: { 'openinference.span.kind': 'LLM' },
      resource: { 'agent_ledger.workflow.id': 'support-triage' },
    });

    // Act
    const mapping = eventsFromSpans([noWorkflow, noUnit]);

    // Assess
    expect(mapping.events).toEqual([]);
    expect(mapping.ignored).toBe(0);
    expect(mapping.rejected).toEqual([
      {
        traceId: TRACE,
        spanId: noWorkflow.spanId,
        reason: 'no agent_ledger.workflow.id on the span or its resource',
      },
      {
        traceId: TRACE,
        spanId: noUnit.spanId,
        reason:
          'no agent_ledger.unit.id on the span or its resource, and no gen_ai.conversation.id or session.id on the span',
      },
    ]);
  });

  it('ignores spans that are no agent’s, even unplaced, and rejects GenAI operations it cannot map', () => {
    // Prepare
    const unplacedHttp = { ...httpClient(), resource: {} };
    const chain = span({ attributes: { 'openinference.span.kind': 'CHAIN' } });
    const unknownOperation = span({ attributes: { 'gen_ai.operation.name': 'dance' } });

    // Act
    const mapping = eventsFromSpans([unplacedHttp, dbSpan(), chain, unknownOperation]);

    // Assess
    expect(mapping.ignored).toBe(3);
    expect(mapping.events).toEqual([]);
    expect(mapping.rejected.map((r) => r.spanId)).toEqual([unknownOperation.spanId]);
  });
});

describe('eventsFromSpans: unit events', () => {
  it('adds the unit event a span asks for, with its own eventId, from an agent span or a plain span', () => {
    // Prepare
    const startedWithChat = span({
      spanId: 'b000000000000001',
      attributes: { 'gen_ai.operation.name': 'chat', 'agent_ledger.unit.status': 'started' },
    });
    const completed = span({
      spanId: 'b000000000000002',
      attributes: { 'agent_ledger.unit.status': 'completed', 'agent_ledger.unit.outcome': 'resolved' },
    });
    const escalated = span({
      spanId: 'b000000000000003',
      attributes: { 'agent_ledger.unit.status': 'escalated' },
      status: { code: 2, message: 'customer asked for a human' },
    });
    const escalatedWithReason = span({
      attributes: {
        'agent_ledger.unit.status': 'escalated',
        'agent_ledger.unit.escalation_reason': 'refund > 500',
      },
    });
    const escalatedBare = span({ name: 'handoff', attributes: { 'agent_ledger.unit.status': 'escalated' } });

    // Act
    const mapping = eventsFromSpans([
      startedWithChat,
      completed,
      escalated,
      escalatedWithReason,
      escalatedBare,
    ]);

    // Assess
    const events = mapping.events.map((e) => e.event);
    expect(events.map((e) => [e.eventId, e.type])).toEqual([
      [`otel:${TRACE}:b000000000000001`, 'action'],
      [`otel:${TRACE}:b000000000000001:unit`, 'unit.started'],
      [`otel:${TRACE}:b000000000000002:unit`, 'unit.completed'],
      [`otel:${TRACE}:b000000000000003:unit`, 'unit.escalated'],
      [`otel:${TRACE}:${escalatedWithReason.spanId}:unit`, 'unit.escalated'],
      [`otel:${TRACE}:${escalatedBare.spanId}:unit`, 'unit.escalated'],
    ]);
    expect(events[2]).toMatchObject({ outcome: 'resolved' });
    expect(events.slice(3).map((e) => e.reason)).toEqual([
      'customer asked for a human',
      'refund > 500',
      "escalated by span 'handoff' (no agent_ledger.unit.escalation_reason given)",
    ]);
    expect(validateBatch({ events }, { now: NOW, registry: defaultRegistry })).toMatchObject({ ok: true });
  });

  it('rejects an unknown unit status', () => {
    const input = span({ attributes: { 'agent_ledger.unit.status': 'done' } });
    expect(eventsFromSpans([input]).rejected[0]?.reason).toContain('agent_ledger.unit.status');
  });
});

describe('eventsFromSpans: idempotent and independent of other spans', () => {
  it('gives the same events for the same span in every call, with distinct valid eventIds', () => {
    // Prepare: the same spans twice, built apart.
    spanCounter = 0;
    const spans = allSpans();
    spanCounter = 0;
    const rebuilt = allSpans();

    // Act
    const first = eventsFromSpans(spans).events.map((e) => e.event);
    const second = eventsFromSpans(rebuilt).events.map((e) => e.event);

    // Assess
    expect(second).toEqual(first);
    const ids = first.map((e) => e.eventId as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });

  it('maps each span the same whatever else is in the request, in any order', () => {
    // Prepare
    const spans = allSpans();
    const alone = new Map(spans.map((s) => [s.spanId, eventsFromSpans([s])]));

    // Act + Assess
    fc.assert(
      fc.property(fc.shuffledSubarray(spans), (subset) => {
        const mapping = eventsFromSpans(subset);
        const expected = subset.flatMap((s) => alone.get(s.spanId)?.events.map((e) => e.event) ?? []);
        expect(mapping.events.map((e) => e.event)).toEqual(expected);
        expect(mapping.ignored).toBe(subset.filter((s) => alone.get(s.spanId)?.ignored === 1).length);
      }),
    );
  });
});

describe('redactSpan', () => {
  const hasher = new ActorHasher(Buffer.alloc(32, 9));
  const hash = hasher.hash.bind(hasher);

  it('replaces every personal value on the span, its resource and its events by the digest', () => {
    // Prepare
    const raw = {
      userId: 'user-8a1f',
      email: 'jane.doe@example.com',
      name: 'jdoe',
      fullName: 'Jane Doe',
      endUser: 'enduser-77',
      pseudo: 'pseudo-55',
      customer: 'cust-ACME-991',
    };
    const input = span({
      attributes: {
        'gen_ai.operation.name': 'chat',
        'user.id': raw.userId,
        'user.email': raw.email,
        'user.name': raw.name,
        'agent_ledger.customer.id': raw.customer,
        app: { user: { full_name: raw.fullName } },
        user: { email: raw.email },
      },
      resource: { ...RESOURCE, 'enduser.id': raw.endUser, 'enduser.pseudo.id': raw.pseudo },
      events: [
        {
          name: 'gen_ai.evaluation.result',
          timeUnixNano: T0,
          attributes: { 'user.full_name': raw.fullName },
        },
      ],
    });

    // Act
    const redacted = redactSpan(input, hash);

    // Assess
    const json = JSON.stringify(redacted, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    for (const value of Object.values(raw)) expect(json).not.toContain(value);
    expect(redacted.attributes['user.id']).toBe(hasher.hash('userId', raw.userId));
    expect(redacted.attributes['agent_ledger.customer.id']).toBe(hasher.hash('customerId', raw.customer));
    expect(redacted.resource['enduser.id']).toBe(hasher.hash('userId', raw.endUser));
    expect(redacted.attributes['gen_ai.operation.name']).toBe('chat');
    expect(redacted.resource['agent_ledger.workflow.id']).toBe('support-triage');
    // The original is untouched, and a redacted span still maps (to the digest as the user).
    expect(input.attributes['user.id']).toBe(raw.userId);
    expect(only(redacted)).toMatchObject({ actor: { userId: hasher.hash('userId', raw.userId) } });
  });
});
