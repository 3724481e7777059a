import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { OpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { type Attributes, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { CostAccumulator } from '#lib/pricing/cost.ts';
import { PriceBook } from '#lib/pricing/price-table.ts';
import { apiClient, rawRequest } from '../support/api.ts';
import { filesWithContent } from '../support/data-dir.ts';
import { actionEvent } from '../support/events.ts';
import { TEST_PRICES } from '../support/reviewed-unit.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const TRACES_URL = `${stack.api}/v1/traces`;
const AUTH = { Authorization: `Bearer ${stack.token}` };

/**
 * Sets the unit on every span as it starts, as the README's baggage processor does (here from a variable:
 * the test has no context manager to carry baggage across awaits).
 */
class UnitAttributes implements SpanProcessor {
  unitId = '';
  onStart(span: Span): void {
    span.setAttribute('agent_ledger.unit.id', this.unitId);
  }
  onEnd(): void {}
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** A tracer provider as an agent service sets one up: its resource names the workflow. */
function agentTracing(exporter: SpanExporter, workflowId = 'support-triage') {
  const unit = new UnitAttributes();
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'triage-agent',
      'agent_ledger.workflow.id': workflowId,
    }),
    spanProcessors: [unit, new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)],
  });
  return { provider, unit, memory, tracer: provider.getTracer('triage-agent', '1.0.0') };
}

function endSpan(tracer: Tracer, name: string, attributes: Attributes, error?: string): void {
  const span = tracer.startSpan(name, { attributes });
  if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end();
}

/** One agent step as the GenAI conventions describe it: the agent, its model call and its tool call. */
function genAiStep(tracer: Tracer, userId: string): void {
  const agent = tracer.startSpan('invoke_agent triage', {
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.id': 'triage-bot',
      'gen_ai.agent.version': '1.4.0',
      'agent_ledger.lane': 'shadow',
    },
  });
  endSpan(tracer, 'chat claude-sonnet', {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.request.model': 'claude-sonnet',
    'gen_ai.usage.input_tokens': 1600,
    'gen_ai.usage.cache_read.input_tokens': 400,
    'gen_ai.usage.output_tokens': 180,
    'gen_ai.prompt.name': 'triage',
    'gen_ai.prompt.version': '7',
    'agent_ledger.lane': 'shadow',
    'user.id': userId,
  });
  endSpan(tracer, 'execute_tool lookup_order', {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'lookup_order',
    'gen_ai.tool.call.arguments': '{"orderId":"O-1"}',
    'server.address': 'orders.internal',
    'agent_ledger.lane': 'shadow',
  });
  endSpan(
    tracer,
    'execute_tool lookup_order',
    {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'lookup_order',
      'gen_ai.tool.call.arguments': '{"orderId":"O-2"}',
      'error.type': 'timeout',
      'agent_ledger.lane': 'shadow',
    },
    'the order service timed out',
  );
  agent.setAttribute('agent_ledger.unit.status', 'completed');
  agent.end();
}

async function eventsOfUnit(unitId: string): Promise<LedgerEvent[]> {
  const read = await api.getEvents('support-triage', { unitId, limit: '100' });
  expect(read.status).toBe(200);
  return read.body.items as LedgerEvent[];
}

function costOf(events: readonly LedgerEvent[]) {
  const costs = new CostAccumulator(new PriceBook([TEST_PRICES]));
  for (const event of events) {
    if (event.type === 'action') costs.addAction(event, Date.parse(event.occurredAt));
  }
  const { modelUsd, toolUsd } = costs.costs();
  return { modelUsd, toolUsd };
}

/** The OTLP/JSON body the SDK's own serializer makes of these spans. */
const jsonBody = (spans: ReadableSpan[]) => Buffer.from(JsonTraceSerializer.serializeRequest(spans) ?? []);

describe('POST /v1/traces with the OpenTelemetry SDK', () => {
  it('stores a GenAI step sent by the HTTP/JSON exporter as costed, auditable ledger events', async () => {
    // Prepare
    const exporter = new JsonTraceExporter({ url: TRACES_URL, headers: AUTH });
    const { provider, unit, tracer } = agentTracing(exporter);
    unit.unitId = `T-otel-json-${randomUUID().slice(0, 8)}`;

    // Act
    genAiStep(tracer, `person-${unit.unitId}`);
    await provider.forceFlush();

    // Assess
    const events = await eventsOfUnit(unit.unitId);
    const model = events.find((event) => event.type === 'action' && event.model?.name === 'claude-sonnet');
    expect(model).toMatchObject({
      type: 'action',
      lane: 'shadow',
      model: { provider: 'anthropic', name: 'claude-sonnet' },
      // The ledger's inputTokens leaves out the cached ones, which the conventions count inside the input.
      usage: { inputTokens: 1200, cachedInputTokens: 400, outputTokens: 180 },
      prompt: { templateId: 'triage', templateVersion: '7' },
    });
    const tools = events.flatMap((event) => (event.type === 'action' ? (event.toolCalls ?? []) : []));
    expect(tools).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'lookup_order', parameters: { orderId: 'O-1' }, outcome: 'success' }),
        expect.objectContaining({
          name: 'lookup_order',
          parameters: { orderId: 'O-2' },
          outcome: 'failure',
          errorCode: 'timeout',
        }),
      ]),
    );
    expect(events.some((event) => event.type === 'unit.completed')).toBe(true);
    await provider.shutdown();
  });

  it('costs the spans as it costs the same actions sent as events, and a re-export counts nothing twice', async () => {
    // Prepare: the same step, once as spans (protobuf, gzip) and once as hand-written events
    const exporter = new ProtobufTraceExporter({
      url: TRACES_URL,
      headers: AUTH,
      compression: CompressionAlgorithm.GZIP,
    });
    const { provider, unit, tracer, memory } = agentTracing(exporter);
    unit.unitId = `T-otel-proto-${randomUUID().slice(0, 8)}`;
    genAiStep(tracer, `person-${unit.unitId}`);
    await provider.forceFlush();
    const asEvents = `T-events-${randomUUID().slice(0, 8)}`;
    const common = { unitId: asEvents, lane: 'shadow', approval: undefined };
    const sent = await api.postEvents({
      events: [
        actionEvent({
          ...common,
          model: { provider: 'anthropic', name: 'claude-sonnet', version: 'x' },
          usage: { inputTokens: 1200, cachedInputTokens: 400, outputTokens: 180 },
          toolCalls: [],
        }),
        actionEvent({
          ...common,
          model: undefined,
          usage: undefined,
          toolCalls: [
            { name: 'lookup_order', outcome: 'success' },
            { name: 'lookup_order', outcome: 'failure' },
          ],
        }),
      ],
    });
    expect(sent.status).toBe(202);
    const before = await eventsOfUnit(unit.unitId);

    // Act: the exporter sends the same spans again, as after a timeout
    const again = await rawRequest(stack.api, {
      path: '/v1/traces',
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'gzip',
        authorization: AUTH.Authorization,
      },
      body: gzipSync(Buffer.from(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans()) ?? [])),
    });

    // Assess
    expect(again.status).toBe(200);
    expect(await eventsOfUnit(unit.unitId)).toEqual(before);
    const fromSpans = costOf(before);
    expect(fromSpans.modelUsd).toBeGreaterThan(0);
    expect(fromSpans).toEqual(costOf(await eventsOfUnit(asEvents)));
    await provider.shutdown();
  });

  it('answers a span it cannot place in partialSuccess and stores the rest of the request', async () => {
    // Prepare: one placed span, one without a workflow anywhere
    const { unit, tracer, memory } = agentTracing(new InMemorySpanExporter());
    unit.unitId = `T-partial-${randomUUID().slice(0, 8)}`;
    genAiStep(tracer, 'someone');
    const orphan = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    endSpan(orphan.getTracer('x'), 'chat', {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'claude-sonnet',
    });

    // Act
    const answer = await rawRequest(stack.api, {
      path: '/v1/traces',
      headers: { 'content-type': 'application/json', authorization: AUTH.Authorization },
      body: jsonBody(memory.getFinishedSpans()),
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.partialSuccess.rejectedSpans).toBe(1);
    expect(answer.body.partialSuccess.errorMessage).toContain('agent_ledger.workflow.id');
    expect((await eventsOfUnit(unit.unitId)).length).toBeGreaterThanOrEqual(4);
  });

  it('keeps no raw user.id anywhere at rest, in the index, the event archive or the raw spans', async () => {
    // Prepare
    const userId = `raw-user-${randomUUID()}`;
    const exporter = new JsonTraceExporter({ url: TRACES_URL, headers: AUTH });
    const { provider, unit, tracer } = agentTracing(exporter);
    unit.unitId = `T-person-${randomUUID().slice(0, 8)}`;

    // Act
    genAiStep(tracer, userId);
    await provider.forceFlush();

    // Assess: stored (the events are there, the raw spans archived), and the raw ID nowhere
    const events = await eventsOfUnit(unit.unitId);
    expect(events.find((event) => event.actor?.userId)?.actor?.userId).toMatch(/^hmac-sha256:/);
    const files = filesWithContent(stack.dataDir);
    expect(files.some(({ path }) => /_spans-[^/]+\.otlp\.json\.gz/.test(path))).toBe(true);
    expect(files.filter(({ content }) => content.includes(userId)).map(({ path }) => path)).toEqual([]);
    await provider.shutdown();
  });

  it('refuses what is not OTLP with an OTLP status: 415 for another media type, 400 for bytes that are not protobuf', async () => {
    const wrongType = await rawRequest(stack.api, {
      path: '/v1/traces',
      headers: { 'content-type': 'text/plain', authorization: AUTH.Authorization },
      body: 'hello',
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body).toMatchObject({
      code: 3,
      message: expect.stringContaining('application/x-protobuf'),
    });
    const garbage = await rawRequest(stack.api, {
      path: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf', authorization: AUTH.Authorization },
      body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x01]),
    });
    expect(garbage.status).toBe(400);
    expect(garbage.headers['content-type']).toBe('application/x-protobuf');
    const noToken = await rawRequest(stack.api, {
      path: '/v1/traces',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noToken.status).toBe(401);
  });
});

describe('POST /v1/traces from a real instrumentation library', () => {
  let fakeModelApi: Server;
  let baseURL: string;

  beforeAll(async () => {
    // A small stand-in for the OpenAI API: one chat completion, with usage and cached tokens.
    fakeModelApi = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: 'gpt-4o-mini-2024-07-18',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: 'Refund approved per policy 4.2' },
                finish_reason: 'stop',
              },
            ],
            usage: {
              prompt_tokens: 900,
              completion_tokens: 60,
              total_tokens: 960,
              prompt_tokens_details: { cached_tokens: 300 },
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => fakeModelApi.listen(0, '127.0.0.1', resolve));
    baseURL = `http://127.0.0.1:${(fakeModelApi.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => fakeModelApi.close(() => resolve())));

  it("stores OpenInference's spans of the OpenAI client as a costed model call", async () => {
    // Prepare: OpenInference instruments the official client; spans go out with the protobuf exporter
    const exporter = new ProtobufTraceExporter({ url: TRACES_URL, headers: AUTH });
    const { provider, unit } = agentTracing(exporter);
    unit.unitId = `T-openinference-${randomUUID().slice(0, 8)}`;
    const instrumentation = new OpenAIInstrumentation({ tracerProvider: provider });
    instrumentation.manuallyInstrument(OpenAI);
    const client = new OpenAI({ apiKey: 'test-key', baseURL });

    // Act
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Where is my refund?' }],
    });
    await provider.forceFlush();

    // Assess
    expect(completion.choices[0]?.message.content).toContain('Refund');
    const events = await eventsOfUnit(unit.unitId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'action',
      model: { provider: 'openai', name: 'gpt-4o-mini-2024-07-18' },
      usage: { inputTokens: 600, cachedInputTokens: 300, outputTokens: 60 },
    });
    instrumentation.disable();
    await provider.shutdown();
  });
});
