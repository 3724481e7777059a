// `BENCH_ONLY=traces npm run bench`: spans/s through POST /v1/traces (OTLP/HTTP protobuf, as the SDK's
// exporter sends it) beside events/s through POST /v1/events for the same actions (the events the
// ledger makes of such spans, sent as JSON), on one local stack; and the protobuf decode's CPU per span.
//
// Settings (environment): BENCH_TRACE_SPANS (10000 per path), BENCH_CONCURRENCY's first value (4),
// BENCH_PORT (3900).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { decodeTraceRequest } from '#lib/otlp/decode.ts';
import { eventsFromSpans } from '#lib/otlp/map-spans.ts';
import { chunk } from '#lib/util/concurrency.ts';
import { type Answer, runLoad } from './api-load.ts';
import { intSetting } from './settings.ts';
import { findFreePortTriple, startStackProcess } from './stack-process.ts';
import { fixed, percentile, perSecond } from './stats.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const SPANS = intSetting('BENCH_TRACE_SPANS', 10_000, 200, 100_000);
const CONCURRENCY = Number((process.env.BENCH_CONCURRENCY ?? '4').split(',')[0]);
const BASE_PORT = intSetting('BENCH_PORT', 3900, 1024, 65_000);
/** What the SDK's BatchSpanProcessor sends at most per export is 512; agents' batches are usually smaller. */
const SPANS_PER_REQUEST = 100;

const log = (line = '') => console.log(line);

/**
 * `count` spans of agent steps as the GenAI conventions describe them, through the real SDK: per step a
 * model call (tokens, cached tokens, prompt version, lane, user) and a tool execution (arguments, server).
 */
function agentSpans(count: number, run: string): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'triage-agent',
      'agent_ledger.workflow.id': 'support-triage',
    }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('triage-agent', '1.4.0');
  for (let step = 0; step < count / 2; step++) {
    const unit = {
      'agent_ledger.unit.id': `T-bench-${run}-${Math.floor(step / 4)}`,
      'agent_ledger.lane': 'hitl',
    };
    tracer
      .startSpan('chat claude-sonnet', {
        attributes: {
          ...unit,
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'anthropic',
          'gen_ai.request.model': 'claude-sonnet',
          'gen_ai.response.model': 'claude-sonnet-2026-05',
          'gen_ai.usage.input_tokens': 1200 + (step % 700),
          'gen_ai.usage.cache_read.input_tokens': 400,
          'gen_ai.usage.output_tokens': 150 + (step % 90),
          'gen_ai.prompt.name': 'triage',
          'gen_ai.prompt.version': '7',
          'gen_ai.response.finish_reasons': ['tool_calls'],
          'agent_ledger.flag.version': '12',
          'agent_ledger.flag.checked_at': new Date().toISOString(),
          'user.id': `customer-${step % 97}`,
        },
      })
      .end();
    tracer
      .startSpan('execute_tool lookup_order', {
        attributes: {
          ...unit,
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': 'lookup_order',
          'gen_ai.tool.call.arguments': JSON.stringify({
            orderId: `O-${step}`,
            include: ['lines', 'refunds'],
          }),
          'server.address': 'orders.internal',
        },
      })
      .end();
  }
  return memory.getFinishedSpans();
}

const protobufBody = (spans: ReadableSpan[]) =>
  Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? []);

/** The /v1/events bodies of the same actions: what the ledger makes of the spans, as JSON. */
function eventBodies(spans: readonly ReadableSpan[]): { bodies: Buffer[]; events: number[] } {
  const bodies: Buffer[] = [];
  const events: number[] = [];
  for (const group of chunk(spans, SPANS_PER_REQUEST)) {
    const mapped = eventsFromSpans(decodeTraceRequest(protobufBody(group), 'protobuf'));
    if (mapped.rejected.length > 0) throw new Error(`bench spans rejected: ${mapped.rejected[0]?.reason}`);
    bodies.push(Buffer.from(JSON.stringify({ events: mapped.events.map(({ event }) => event) })));
    events.push(mapped.events.length);
  }
  return { bodies, events };
}

function expectAccepted(events: readonly number[]) {
  return (answer: Answer, index: number) => {
    const body = JSON.parse(answer.body) as { accepted?: number };
    if (answer.status !== 202 || body.accepted !== events[index]) {
      throw new Error(`events batch ${index}: ${answer.status} ${answer.body.slice(0, 300)}`);
    }
  };
}

function expectAllSpansStored(answer: Answer, index: number): void {
  // A full success is an empty ExportTraceServiceResponse; a partial one names rejected spans.
  if (answer.status !== 200 || answer.body.length > 0) {
    throw new Error(`traces batch ${index}: ${answer.status} ${JSON.stringify(answer.body.slice(0, 300))}`);
  }
}

export async function runTracesBench(): Promise<void> {
  log('\n=== OTLP traces beside events ===');
  const half = Math.floor(SPANS / 2);
  const viaEvents = eventBodies(agentSpans(SPANS, 'events'));
  const traceSpans = agentSpans(SPANS, 'traces');
  const viaTraces = chunk(traceSpans, SPANS_PER_REQUEST).map(protobufBody);
  log(
    `  ${SPANS} spans (half model calls, half tool calls) per path, ${SPANS_PER_REQUEST} per request, concurrency ${CONCURRENCY}`,
  );

  // Decode CPU per span: the protobuf bodies as the handler reads them, three times over.
  const cpuBefore = process.cpuUsage();
  for (let pass = 0; pass < 3; pass++) for (const body of viaTraces) decodeTraceRequest(body, 'protobuf');
  const cpu = process.cpuUsage(cpuBefore);
  const decodeUsPerSpan = (cpu.user + cpu.system) / (3 * traceSpans.length);
  const jsonBytes = JsonTraceSerializer.serializeRequest(traceSpans.slice(0, 100))?.length ?? 0;
  log(
    `  protobuf decode: ${fixed(decodeUsPerSpan)} µs CPU per span (${fixed(viaTraces.reduce((s, b) => s + b.length, 0) / traceSpans.length)} bytes per span; OTLP/JSON ${fixed(jsonBytes / 100)})`,
  );

  const workDir = mkdtempSync(join(tmpdir(), 'agent-ledger-bench-traces-'));
  const running = await startStackProcess({
    repoRoot: REPO_ROOT,
    dataDir: join(workDir, 'data'),
    port: await findFreePortTriple(BASE_PORT),
  });
  try {
    const api = running.endpoints.api;
    // Warm-up, not measured: both handlers loaded, connections open, DynamoDB Local's JIT warm.
    const warmEvents = eventBodies(agentSpans(400, 'warm-events'));
    await runLoad({
      url: new URL('/v1/events', api),
      token: running.token,
      contentType: 'application/json',
      bodies: warmEvents.bodies,
      concurrency: CONCURRENCY,
      check: expectAccepted(warmEvents.events),
    });
    await runLoad({
      url: new URL('/v1/traces', api),
      token: running.token,
      contentType: 'application/x-protobuf',
      bodies: chunk(agentSpans(400, 'warm-traces'), SPANS_PER_REQUEST).map(protobufBody),
      concurrency: CONCURRENCY,
      check: expectAllSpansStored,
    });
    // Interleaved halves, so drift of a loaded machine hits both paths alike.
    const rounds = [0, 1].map((round) => ({
      events: {
        bodies: viaEvents.bodies.slice(
          round * (half / SPANS_PER_REQUEST),
          (round + 1) * (half / SPANS_PER_REQUEST),
        ),
        counts: viaEvents.events.slice(
          round * (half / SPANS_PER_REQUEST),
          (round + 1) * (half / SPANS_PER_REQUEST),
        ),
      },
      traces: viaTraces.slice(round * (half / SPANS_PER_REQUEST), (round + 1) * (half / SPANS_PER_REQUEST)),
    }));
    const totals = {
      eventsMs: 0,
      events: 0,
      tracesMs: 0,
      spans: 0,
      eventLatency: [] as number[],
      traceLatency: [] as number[],
    };
    for (const round of rounds) {
      const events = await runLoad({
        url: new URL('/v1/events', api),
        token: running.token,
        contentType: 'application/json',
        bodies: round.events.bodies,
        concurrency: CONCURRENCY,
        check: expectAccepted(round.events.counts),
      });
      totals.eventsMs += events.wallMs;
      totals.events += round.events.counts.reduce((sum, n) => sum + n, 0);
      totals.eventLatency.push(...events.latenciesMs);
      const traces = await runLoad({
        url: new URL('/v1/traces', api),
        token: running.token,
        contentType: 'application/x-protobuf',
        bodies: round.traces,
        concurrency: CONCURRENCY,
        check: expectAllSpansStored,
      });
      totals.tracesMs += traces.wallMs;
      totals.spans += round.traces.length * SPANS_PER_REQUEST;
      totals.traceLatency.push(...traces.latenciesMs);
    }
    const eventsPerSecond = perSecond(totals.events, totals.eventsMs);
    const spansPerSecond = perSecond(totals.spans, totals.tracesMs);
    log(
      `  /v1/events:  ${fixed(eventsPerSecond)} events/s (p50 ${fixed(percentile(totals.eventLatency, 50))} ms per request of ${SPANS_PER_REQUEST})`,
    );
    log(
      `  /v1/traces:  ${fixed(spansPerSecond)} spans/s (p50 ${fixed(percentile(totals.traceLatency, 50))} ms per request of ${SPANS_PER_REQUEST})`,
    );
    log(`  ratio: ${fixed(spansPerSecond / eventsPerSecond, 2)}× the events path (goal ≥ 0.8×)`);
  } finally {
    await running.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
