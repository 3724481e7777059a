import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '#lib/errors.ts';
import { parseStrictJson, StrictJsonError } from '#lib/json/strict-json.ts';
import {
  decodeTraceRequest,
  MAX_ANY_VALUE_DEPTH,
  OTLP_MEDIA_TYPES,
  otlpEncodingOf,
  otlpJsonOf,
} from '#lib/otlp/decode.ts';
import { encodeStatus, encodeTraceResponse } from '#lib/otlp/response.ts';
import type { OtlpAttributes, OtlpEncoding, OtlpSpan, OtlpValue } from '#lib/otlp/spans.ts';

// ---------------------------------------------------------------------------------------------------------
// Prepare: real spans from the OpenTelemetry SDK, serialized by its own OTLP serializers

function recordSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'support-agent', 'deployment.environment': 'prod' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const genai = provider.getTracer('@arizeai/openinference-instrumentation-openai', '4.2.7');
  const plain = provider.getTracer('workflow');
  const root = plain.startSpan('invoke_agent support', {
    kind: SpanKind.INTERNAL,
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'support' },
  });
  const rootContext = trace.setSpan(context.active(), root);
  const chat = genai.startSpan(
    'chat gpt-4o',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 345,
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.stream': false,
        'gen_ai.response.finish_reasons': ['stop', 'length'],
        'llm.token_count.prompt': 1200,
        'test.negative': -42,
        'test.bools': [true, false],
        'test.doubles': [1.5, -2.25],
        'test.unicode': 'Grüße, 世界 🌍',
      },
    },
    rootContext,
  );
  chat.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': 'hello' });
  chat.addEvent('retry', { attempt: 2 });
  chat.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
  chat.end();
  const tool = plain.startSpan('execute_tool lookup', { kind: SpanKind.SERVER }, rootContext);
  tool.setStatus({ code: SpanStatusCode.OK });
  tool.end();
  root.end();
  return exporter.getFinishedSpans();
}

function bodies(spans: ReadableSpan[]): Record<OtlpEncoding, Uint8Array> {
  const protobuf = ProtobufTraceSerializer.serializeRequest(spans);
  const json = JsonTraceSerializer.serializeRequest(spans);
  if (!protobuf || !json) throw new Error('the serializers wrote nothing');
  return { protobuf, json };
}

function nanosOf(time: ReadableSpan['startTime']): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

/** The InvalidRequestError decoding throws, as its single issue; fails the test when it accepts or throws another. */
function refusal(body: Uint8Array | string, encoding: OtlpEncoding): { path: string; message: string } {
  try {
    decodeTraceRequest(typeof body === 'string' ? Buffer.from(body) : body, encoding);
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    expect(error.issues).toHaveLength(1);
    const [issue] = error.issues;
    expect(issue?.index).toBeNull();
    return { path: issue?.path ?? '', message: issue?.message ?? '' };
  }
  throw new Error('the body was accepted');
}

// ---------------------------------------------------------------------------------------------------------
// A hand-written protobuf writer for cases the SDK cannot produce

type Field = Uint8Array;

function varintBytes(value: bigint): number[] {
  let rest = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return out;
}
const tag = (field: number, wireType: number) => varintBytes(BigInt((field << 3) | wireType));
const pb = {
  varint: (field: number, value: number | bigint): Field =>
    Uint8Array.from([...tag(field, 0), ...varintBytes(BigInt(value))]),
  fixed64: (field: number, value: bigint): Field => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(value);
    return Uint8Array.from([...tag(field, 1), ...bytes]);
  },
  double: (field: number, value: number): Field => {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(value);
    return Uint8Array.from([...tag(field, 1), ...bytes]);
  },
  fixed32: (field: number, value: number): Field => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(value);
    return Uint8Array.from([...tag(field, 5), ...bytes]);
  },
  bytes: (field: number, value: Uint8Array | number[]): Field =>
    Uint8Array.from([...tag(field, 2), ...varintBytes(BigInt(value.length)), ...value]),
  string: (field: number, value: string): Field => pb.bytes(field, Buffer.from(value)),
  message: (field: number, ...fields: Field[]): Field => pb.bytes(field, concat(...fields)),
  group: (field: number, ...fields: Field[]): Field =>
    concat(Uint8Array.from(tag(field, 3)), ...fields, Uint8Array.from(tag(field, 4))),
};
function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((part) => [...part]));
}

const TRACE_ID = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const SPAN_ID = Buffer.from('b7ad6b7169203331', 'hex');

/** An ExportTraceServiceRequest with one span holding `spanFields` after its IDs and name. */
function requestWithSpan(...spanFields: Field[]): Uint8Array {
  return pb.message(
    1,
    pb.message(1, pb.message(1, pb.string(1, 'service.name'), pb.message(2, pb.string(1, 'svc')))),
    pb.message(
      2,
      pb.message(1, pb.string(1, 'scope'), pb.string(2, '1.0')),
      pb.message(2, pb.bytes(1, TRACE_ID), pb.bytes(2, SPAN_ID), pb.string(5, 'span'), ...spanFields),
    ),
  );
}
const anyValueAttribute = (key: string, ...anyValue: Field[]) =>
  pb.message(9, pb.string(1, key), pb.message(2, ...anyValue));

/** decodeTraceRequest, with the issues in the message when it refuses (for a readable failure). */
function decode(body: Uint8Array, encoding: OtlpEncoding): OtlpSpan[] {
  try {
    return decodeTraceRequest(body, encoding);
  } catch (error) {
    if (error instanceof InvalidRequestError) throw new Error(`refused: ${JSON.stringify(error.issues)}`);
    throw error;
  }
}

function onlySpan(body: Uint8Array, encoding: OtlpEncoding = 'protobuf'): OtlpSpan {
  const spans = decode(body, encoding);
  expect(spans).toHaveLength(1);
  return spans[0] as OtlpSpan;
}

/** An AnyValue nested `depth` arrays deep around a string. */
function nestedArray(depth: number): Field {
  let value = pb.string(1, 'leaf');
  for (let i = 0; i < depth; i++) value = pb.message(5, pb.message(1, value));
  return value;
}

/** JSON of one span holding `extra` fields. */
function jsonRequest(span: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [
          {
            scope: { name: 'scope' },
            spans: [
              {
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: 'b7ad6b7169203331',
                name: 'span',
                ...span,
              },
            ],
          },
        ],
      },
    ],
    ...extra,
  });
}
const SPAN_PATH = '$.resourceSpans[0].scopeSpans[0].spans[0]';

// ---------------------------------------------------------------------------------------------------------

describe('decodeTraceRequest: bodies from the OpenTelemetry SDK serializers', () => {
  it('reads the same spans from protobuf and from JSON', () => {
    // Prepare
    const spans = recordSpans();
    const { protobuf, json } = bodies(spans);
    // Act
    const fromProtobuf = decodeTraceRequest(protobuf, 'protobuf');
    const fromJson = decodeTraceRequest(json, 'json');
    // Assess
    expect(fromProtobuf).toHaveLength(3);
    expect(fromJson).toStrictEqual(fromProtobuf);
  });

  it('keeps every value as the SDK recorded it', () => {
    // Prepare
    const recorded = recordSpans();
    const decoded = decodeTraceRequest(bodies(recorded).protobuf, 'protobuf');
    const byName = new Map(decoded.map((span) => [span.name, span]));
    const chatRecord = recorded.find((span) => span.name === 'chat gpt-4o') as ReadableSpan;
    const rootRecord = recorded.find((span) => span.name === 'invoke_agent support') as ReadableSpan;
    // Act
    const chat = byName.get('chat gpt-4o') as OtlpSpan;
    const root = byName.get('invoke_agent support') as OtlpSpan;
    const tool = byName.get('execute_tool lookup') as OtlpSpan;
    // Assess
    expect(chat).toStrictEqual({
      traceId: chatRecord.spanContext().traceId,
      spanId: chatRecord.spanContext().spanId,
      parentSpanId: rootRecord.spanContext().spanId,
      name: 'chat gpt-4o',
      kind: 3,
      startTimeUnixNano: nanosOf(chatRecord.startTime),
      endTimeUnixNano: nanosOf(chatRecord.endTime),
      attributes: {
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 345,
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.stream': false,
        'gen_ai.response.finish_reasons': ['stop', 'length'],
        'llm.token_count.prompt': 1200,
        'test.negative': -42,
        'test.bools': [true, false],
        'test.doubles': [1.5, -2.25],
        'test.unicode': 'Grüße, 世界 🌍',
      },
      events: [
        {
          name: 'gen_ai.content.prompt',
          timeUnixNano: nanosOf(chatRecord.events[0]?.time ?? [0, 0]),
          attributes: { 'gen_ai.prompt': 'hello' },
        },
        {
          name: 'retry',
          timeUnixNano: nanosOf(chatRecord.events[1]?.time ?? [0, 0]),
          attributes: { attempt: 2 },
        },
      ],
      status: { code: 2, message: 'rate limited' },
      resource: expect.objectContaining({
        'service.name': 'support-agent',
        'deployment.environment': 'prod',
      }),
      scope: { name: '@arizeai/openinference-instrumentation-openai', version: '4.2.7' },
    });
    expect(chat.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(chat.startTimeUnixNano / 1000n)).toBe(
      // In microseconds from the [seconds, nanoseconds] pair itself: hrTimeToNanoseconds gives a double,
      // which cannot hold today's nanoseconds exactly and made this off by one now and then.
      chatRecord.startTime[0] * 1_000_000 + Math.trunc(chatRecord.startTime[1] / 1000),
    );
    expect(root.parentSpanId).toBeUndefined();
    expect('parentSpanId' in root).toBe(false);
    expect(root.kind).toBe(1);
    expect(root.status).toStrictEqual({ code: 0 });
    expect(root.scope).toStrictEqual({ name: 'workflow' });
    expect(tool).toMatchObject({ kind: 2, status: { code: 1 }, parentSpanId: root.spanId });
    expect(tool.traceId).toBe(root.traceId);
    // One resource object for the spans of one ResourceSpans.
    expect(tool.resource).toBe(chat.resource);
  });

  it('keeps an int64 above 2^53 exact in either encoding, as its decimal text', () => {
    // Prepare: the SDK takes the number 2^60; its JSON serializer writes the double's shortest form.
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider
      .getTracer('t')
      .startSpan('big', { attributes: { big: 2 ** 60, small: 2 ** 53 - 1 } })
      .end();
    const { protobuf, json } = bodies(exporter.getFinishedSpans());
    // Act
    const fromProtobuf = onlySpan(protobuf);
    const fromJson = onlySpan(json, 'json');
    // Assess: the varint holds 2^60 exactly; the JSON text says 1152921504606847000, kept as written.
    expect(new TextDecoder().decode(json)).toContain('"intValue":1152921504606847000');
    expect(fromProtobuf.attributes).toStrictEqual({ big: '1152921504606846976', small: 2 ** 53 - 1 });
    expect(fromJson.attributes).toStrictEqual({ big: '1152921504606847000', small: 2 ** 53 - 1 });
  });

  it('reads an empty request as no spans', () => {
    expect(decodeTraceRequest(new Uint8Array(0), 'protobuf')).toStrictEqual([]);
    expect(decodeTraceRequest(Buffer.from('{}'), 'json')).toStrictEqual([]);
    expect(decodeTraceRequest(Buffer.from('{"resourceSpans":[]}'), 'json')).toStrictEqual([]);
  });
});

describe('decodeTraceRequest: protobuf by hand', () => {
  it('skips unknown fields of every wire type, at every level', () => {
    // Prepare
    const unknown = [
      pb.varint(99, 123456789n),
      pb.fixed64(98, 7n),
      pb.fixed32(97, 7),
      pb.string(96, 'later field'),
      pb.group(95, pb.varint(1, 1), pb.group(2, pb.string(3, 'nested group'))),
    ];
    const plain = requestWithSpan(pb.varint(6, 3));
    const withUnknown = concat(
      ...unknown,
      pb.message(
        1,
        ...unknown,
        pb.message(
          1,
          ...unknown,
          pb.message(1, pb.string(1, 'service.name'), pb.message(2, pb.string(1, 'svc'))),
        ),
        pb.message(
          2,
          ...unknown,
          pb.message(1, pb.string(1, 'scope'), ...unknown, pb.string(2, '1.0')),
          pb.message(
            2,
            ...unknown,
            pb.bytes(1, TRACE_ID),
            pb.bytes(2, SPAN_ID),
            pb.string(5, 'span'),
            pb.varint(6, 3),
            pb.fixed32(16, 0x101),
            pb.message(13, pb.bytes(1, TRACE_ID)),
          ),
        ),
      ),
    );
    // Act
    const spans = decode(withUnknown, 'protobuf');
    // Assess
    expect(spans).toStrictEqual(decode(plain, 'protobuf'));
    expect(spans[0]).toMatchObject({
      traceId: TRACE_ID.toString('hex'),
      kind: 3,
      resource: { 'service.name': 'svc' },
    });
  });

  it('reads negative, 64-bit, bytes, double, empty and nested values', () => {
    // Prepare
    const body = requestWithSpan(
      anyValueAttribute('negative', pb.varint(3, -5n)),
      anyValueAttribute('min', pb.varint(3, -(2n ** 63n))),
      anyValueAttribute('max', pb.varint(3, 2n ** 63n - 1n)),
      anyValueAttribute('unsafe negative', pb.varint(3, -(2n ** 53n))),
      anyValueAttribute('bytes', pb.bytes(7, [0, 1, 2, 0xff])),
      anyValueAttribute('double', pb.double(4, -0.5)),
      anyValueAttribute('negative zero', pb.double(4, -0)),
      anyValueAttribute('nan', pb.double(4, Number.NaN)),
      anyValueAttribute('empty'),
      anyValueAttribute('last wins', pb.string(1, 'first'), pb.varint(2, 1)),
      anyValueAttribute(
        'kvlist',
        pb.message(6, pb.message(1, pb.string(1, 'inner'), pb.message(2, nestedArray(2)))),
      ),
      // A KeyValue with its value before its key.
      pb.message(9, pb.message(2, pb.string(1, 'v')), pb.string(1, 'value first')),
    );
    // Act
    const span = onlySpan(body);
    // Assess
    expect(span.attributes).toStrictEqual({
      negative: -5,
      min: '-9223372036854775808',
      max: '9223372036854775807',
      'unsafe negative': '-9007199254740992',
      bytes: 'AAEC/w==',
      double: -0.5,
      'negative zero': 0,
      nan: 'NaN',
      empty: null,
      'last wins': true,
      kvlist: { inner: [['leaf']] },
      'value first': 'v',
    });
    expect(Object.is(span.attributes['negative zero'], 0)).toBe(true);
  });

  it('reads times as exact 64-bit bigints, and a negative int32 kind as refused', () => {
    const span = onlySpan(
      requestWithSpan(pb.fixed64(7, 2n ** 64n - 1n), pb.fixed64(8, 1_700_000_000_123_456_789n)),
    );
    expect(span.startTimeUnixNano).toBe(2n ** 64n - 1n);
    expect(span.endTimeUnixNano).toBe(1_700_000_000_123_456_789n);
    expect(refusal(requestWithSpan(pb.varint(6, -1n)), 'protobuf')).toMatchObject({
      path: `${SPAN_PATH}.kind`,
      message: expect.stringContaining('unknown span kind -1'),
    });
  });

  it('refuses wrong ID lengths, all-zero IDs and missing IDs, at their path', () => {
    const span = (...fields: Field[]) =>
      pb.message(
        1,
        pb.message(2, pb.message(2, ...fields), pb.message(2, ...fields), pb.message(2, ...fields)),
      );
    const ok = [pb.bytes(1, TRACE_ID), pb.bytes(2, SPAN_ID)];
    expect(decode(span(...ok), 'protobuf')).toHaveLength(3);
    const cases: [Field[], string, RegExp][] = [
      [[pb.bytes(1, TRACE_ID.subarray(0, 15)), ok[1] as Field], 'traceId', /must be 16 bytes, not 15/],
      [[ok[0] as Field, pb.bytes(2, Buffer.alloc(8))], 'spanId', /all zero/],
      [[pb.bytes(1, Buffer.alloc(16)), ok[1] as Field], 'traceId', /all zero/],
      [[...ok, pb.bytes(4, SPAN_ID.subarray(1))], 'parentSpanId', /must be 8 bytes, not 7/],
      [[ok[1] as Field], 'traceId', /is required/],
      [[ok[0] as Field], 'spanId', /is required/],
    ];
    for (const [fields, field, message] of cases) {
      expect(refusal(span(...fields), 'protobuf')).toMatchObject({
        path: `$.resourceSpans[0].scopeSpans[0].spans[0].${field}`,
        message: expect.stringMatching(message),
      });
    }
    // The second ScopeSpans of the same ResourceSpans gets its own index.
    const second = pb.message(
      1,
      pb.message(2, pb.message(2, ...ok)),
      pb.message(2, pb.message(2, ...ok), pb.message(2, pb.bytes(1, TRACE_ID))),
    );
    expect(refusal(second, 'protobuf').path).toBe('$.resourceSpans[0].scopeSpans[1].spans[1].spanId');
    // An empty parent is a root.
    expect(onlySpan(requestWithSpan(pb.bytes(4, []))).parentSpanId).toBeUndefined();
  });

  it('refuses strings that are not UTF-8, never writing U+FFFD', () => {
    const invalid = [[0xc3], [0xff, 0x61], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xc0, 0xaf]];
    for (const bytes of invalid) {
      const body = requestWithSpan(pb.message(9, pb.string(1, 'k'), pb.message(2, pb.bytes(1, bytes))));
      expect(refusal(body, 'protobuf')).toMatchObject({
        path: `${SPAN_PATH}.attributes[0].value.stringValue`,
        message: expect.stringMatching(/not valid UTF-8 at byte \d+/),
      });
    }
    const badName = pb.message(1, pb.message(2, pb.message(2, pb.bytes(5, [0x61, 0x80]))));
    expect(refusal(badName, 'protobuf').path).toBe(`${SPAN_PATH}.name`);
  });

  it('refuses truncated and malformed input with the byte offset', () => {
    const body = bodies(recordSpans()).protobuf;
    for (const length of [1, 2, 10, 50, body.length - 1]) {
      expect(refusal(body.subarray(0, length), 'protobuf').message).toMatch(/at byte \d+$/);
    }
    expect(refusal(Uint8Array.from([0x0a, 0x05, 0x0a]), 'protobuf')).toStrictEqual({
      path: '$.resourceSpans[0]',
      message: 'a length-delimited field longer than what is left of its message at byte 1',
    });
    expect(refusal(Uint8Array.from([0x10, 0x80, 0x80]), 'protobuf').message).toBe(
      'truncated varint at byte 1',
    );
    expect(refusal(Uint8Array.from([0x10, ...Array(9).fill(0xff), 0x02]), 'protobuf').message).toMatch(
      /longer than 64 bits/,
    );
    expect(refusal(Uint8Array.from([0x00]), 'protobuf').message).toBe('a field numbered 0 at byte 0');
    expect(refusal(Uint8Array.from([0x0f]), 'protobuf').message).toMatch(/invalid wire type 7/);
    expect(refusal(Uint8Array.from([0x14]), 'protobuf').message).toMatch(/unexpected group end/);
    expect(refusal(pb.group(5, pb.varint(1, 1)).subarray(0, 3), 'protobuf').message).toMatch(
      /without its end/,
    );
    // resourceSpans sent as a varint.
    expect(refusal(pb.varint(1, 5), 'protobuf').message).toMatch(
      /field 1 \(resourceSpans\) has wire type 0, not 2/,
    );
    // A nested field running past its message's end (the span's length says 2, its traceId needs 18).
    const overrun = pb.message(1, pb.message(2, Uint8Array.from([0x12, 0x02, ...pb.bytes(1, TRACE_ID)])));
    expect(refusal(overrun, 'protobuf')).toStrictEqual({
      path: '$.resourceSpans[0].scopeSpans[0].spans[0].traceId',
      message: 'a length-delimited field longer than what is left of its message at byte 7',
    });
  });

  it(`refuses values nested more than ${MAX_ANY_VALUE_DEPTH} deep, and takes ${MAX_ANY_VALUE_DEPTH}`, () => {
    const deepest = onlySpan(requestWithSpan(anyValueAttribute('deep', nestedArray(MAX_ANY_VALUE_DEPTH))));
    let value: OtlpValue | undefined = deepest.attributes.deep;
    for (let i = 0; i < MAX_ANY_VALUE_DEPTH; i++) value = (value as OtlpValue[])[0];
    expect(value).toBe('leaf');
    const refused = refusal(
      requestWithSpan(anyValueAttribute('deep', nestedArray(MAX_ANY_VALUE_DEPTH + 1))),
      'protobuf',
    );
    expect(refused.message).toMatch(/nested more than 64 deep/);
    expect(refused.path).toMatch(
      /^\$\.resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value(\.arrayValue\.values\[0\]){64}\.arrayValue$/,
    );
    // Deep groups in an unknown field are refused too, without a stack overflow.
    let group = pb.varint(1, 1);
    for (let i = 0; i < 100; i++) group = pb.group(7, group);
    expect(refusal(group, 'protobuf').message).toMatch(/groups nested more than 64 deep/);
  });

  it('refuses a repeated attribute key and a key named __proto__', () => {
    const twice = requestWithSpan(
      anyValueAttribute('k', pb.string(1, 'a')),
      anyValueAttribute('k', pb.string(1, 'b')),
    );
    expect(refusal(twice, 'protobuf')).toMatchObject({
      path: `${SPAN_PATH}.attributes[1].key`,
      message: expect.stringContaining('appears twice'),
    });
    const proto = requestWithSpan(anyValueAttribute('__proto__', pb.string(1, 'a')));
    expect(refusal(proto, 'protobuf').message).toMatch(/__proto__/);
  });
});

describe('decodeTraceRequest: OTLP/JSON by hand', () => {
  it('reads int64 and times exactly, whether numbers or strings', () => {
    // Prepare: JSON numbers beyond 2^53 written out in full, as a non-JS serializer writes them.
    const text = jsonRequest({
      startTimeUnixNano: 'START',
      endTimeUnixNano: '18446744073709551615',
      attributes: [
        { key: 'big', value: { intValue: 'BIG' } },
        { key: 'bigText', value: { intValue: '-9223372036854775808' } },
        { key: 'text', value: { intValue: '42' } },
        { key: 'exponent', value: { intValue: 1e3 } },
        { key: 'double', value: { doubleValue: 1e300 } },
        { key: 'doubleText', value: { doubleValue: 'Infinity' } },
        { key: 'bytes', value: { bytesValue: 'AAEC/w==' } },
        { key: 'empty', value: {} },
        { key: 'none' },
      ],
    })
      .replace('"START"', '1700000000123456789')
      .replace('"BIG"', '1234567890123456789');
    // Act
    const span = onlySpan(Buffer.from(text), 'json');
    // Assess
    expect(span.startTimeUnixNano).toBe(1_700_000_000_123_456_789n);
    expect(span.endTimeUnixNano).toBe(2n ** 64n - 1n);
    expect(span.attributes).toStrictEqual({
      big: '1234567890123456789',
      bigText: '-9223372036854775808',
      text: 42,
      exponent: 1000,
      double: 1e300,
      doubleText: 'Infinity',
      bytes: 'AAEC/w==',
      empty: null,
      none: null,
    });
  });

  it('takes snake_case keys, enum names, uppercase hex, an empty parent and unknown fields', () => {
    const camel = onlySpan(
      Buffer.from(jsonRequest({ kind: 3, status: { code: 2, message: 'x' }, startTimeUnixNano: '5' })),
      'json',
    );
    const other = onlySpan(
      Buffer.from(
        JSON.stringify({
          resource_spans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }], extra: 1 },
              scope_spans: [
                {
                  scope: { name: 'scope', version: '' },
                  spans: [
                    {
                      trace_id: '0AF7651916CD43DD8448EB211C80319C',
                      span_id: 'B7AD6B7169203331',
                      parent_span_id: '',
                      name: 'span',
                      kind: 'SPAN_KIND_CLIENT',
                      status: { code: 'STATUS_CODE_ERROR', message: 'x' },
                      start_time_unix_nano: 5,
                      flags: 257,
                      links: [{ traceId: 'not even checked' }],
                      somethingNew: { deeply: [1, 2, 3] },
                    },
                  ],
                },
              ],
            },
          ],
        }),
      ),
      'json',
    );
    expect(other).toStrictEqual(camel);
    expect(camel.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('refuses bad values at their JSON path', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ traceId: 'abc' }, 'traceId', /32 hex digits/],
      [{ traceId: 'CvdlGRbNQ92ESOshHIAxnA==' }, 'traceId', /32 hex digits/],
      [{ spanId: '0000000000000000' }, 'spanId', /all zero/],
      [{ parentSpanId: 'b7ad6b716920333' }, 'parentSpanId', /16 hex digits/],
      [{ traceId: undefined }, 'traceId', /is required/],
      [{ kind: 9 }, 'kind', /must be one of 0 to 5/],
      [{ kind: 'CLIENT' }, 'kind', /must be one of/],
      [{ startTimeUnixNano: -1 }, 'startTimeUnixNano', /out of range/],
      [{ startTimeUnixNano: '18446744073709551616' }, 'startTimeUnixNano', /out of range/],
      [{ startTimeUnixNano: 1.5 }, 'startTimeUnixNano', /must be a fixed64/],
      [{ name: 5 }, 'name', /must be a string/],
      [{ status: { code: 3 } }, 'status.code', /must be one of 0 to 2/],
      [{ attributes: {} }, 'attributes', /must be an array/],
      [
        { attributes: [{ key: 'k', value: { intValue: '9223372036854775808' } }] },
        'attributes[0].value.intValue',
        /out of range/,
      ],
      [
        { attributes: [{ key: 'k', value: { intValue: 1.5 } }] },
        'attributes[0].value.intValue',
        /must be an int64/,
      ],
      [
        { attributes: [{ key: 'k', value: { intValue: '1e3' } }] },
        'attributes[0].value.intValue',
        /must be an int64/,
      ],
      [
        { attributes: [{ key: 'k', value: { stringValue: 'a', intValue: 1 } }] },
        'attributes[0].value',
        /sets both/,
      ],
      [
        { attributes: [{ key: 'k', value: { bytesValue: 'not base64!' } }] },
        'attributes[0].value.bytesValue',
        /base64/,
      ],
      [
        { attributes: [{ key: 'k', value: { boolValue: 'true' } }] },
        'attributes[0].value.boolValue',
        /boolean/,
      ],
      [{ attributes: [{ key: 'k' }, { key: 'k' }] }, 'attributes[1].key', /appears twice/],
      [{ events: [{ name: 'e', timeUnixNano: 'soon' }] }, 'events[0].timeUnixNano', /must be a fixed64/],
      [
        { traceId: '0af7651916cd43dd8448eb211c80319c', trace_id: '0af7651916cd43dd8448eb211c80319c' },
        'trace_id',
        /given twice/,
      ],
    ];
    for (const [fields, path, message] of cases) {
      expect(refusal(jsonRequest(fields), 'json'), path).toMatchObject({
        path: `${SPAN_PATH}.${path}`,
        message: expect.stringMatching(message),
      });
    }
    expect(refusal('{"resourceSpans":{}}', 'json')).toMatchObject({ path: '$.resourceSpans' });
    expect(refusal('[]', 'json')).toMatchObject({ path: '$', message: 'must be an object, not an array' });
  });

  it('keeps the strict parser’s refusals: syntax, UTF-8, duplicate keys, __proto__, depth', () => {
    expect(refusal('{"resourceSpans":[', 'json')).toMatchObject({ path: '$', message: /ends too early/ });
    expect(refusal(Uint8Array.from([0x7b, 0xff, 0x7d]), 'json')).toStrictEqual({
      path: '$',
      message: 'the body is not valid UTF-8',
    });
    expect(refusal('{"resourceSpans":[],"resourceSpans":[]}', 'json').message).toMatch(/appears twice/);
    expect(
      refusal(jsonRequest({}).replace('"name":"span"', '"name":"span","__proto__":{}'), 'json'),
    ).toMatchObject({
      path: `${SPAN_PATH}.__proto__`,
    });
    expect(refusal(jsonRequest({ attributes: [{ key: '__proto__', value: {} }] }), 'json').path).toBe(
      `${SPAN_PATH}.attributes[0].key`,
    );
    expect(refusal(`${'['.repeat(300)}${']'.repeat(300)}`, 'json').message).toMatch(/nests more than/);
  });

  it(`takes attribute values ${MAX_ANY_VALUE_DEPTH} deep, refuses deeper, as protobuf does`, () => {
    const nested = (depth: number): unknown => {
      let value: unknown = { stringValue: 'leaf' };
      for (let i = 0; i < depth; i++) value = { kvlistValue: { values: [{ key: 'k', value }] } };
      return value;
    };
    const event = (depth: number) =>
      jsonRequest({ events: [{ name: 'e', attributes: [{ key: 'deep', value: nested(depth) }] }] });
    const span = onlySpan(Buffer.from(event(MAX_ANY_VALUE_DEPTH)), 'json');
    expect(JSON.stringify(span.events[0]?.attributes)).toBe(
      `{"deep":${'{"k":'.repeat(MAX_ANY_VALUE_DEPTH)}"leaf"${'}'.repeat(MAX_ANY_VALUE_DEPTH + 1)}`,
    );
    expect(refusal(event(MAX_ANY_VALUE_DEPTH + 1), 'json').message).toMatch(/nest/);
  });
});

describe('decodeTraceRequest: anything a client sends gives spans or an InvalidRequestError', {
  timeout: 60_000,
}, () => {
  const valid = bodies(recordSpans());
  const decodesOrRefuses = (body: Uint8Array, encoding: OtlpEncoding) => {
    try {
      const spans = decodeTraceRequest(body, encoding);
      for (const span of spans) {
        expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(JSON.stringify(span, (_, v) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(
          '\ufffd',
        );
      }
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).issues).toHaveLength(1);
    }
  };

  it('random bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom<OtlpEncoding>('protobuf', 'json'),
        (bytes, encoding) => decodesOrRefuses(bytes, encoding),
      ),
      { numRuns: 2000 },
    );
  });

  const mutation = (length: number) =>
    fc.array(
      fc.oneof(
        fc.record({
          kind: fc.constant('set' as const),
          at: fc.nat(length - 1),
          byte: fc.integer({ min: 0, max: 255 }),
        }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat(length - 1) }),
        fc.record({
          kind: fc.constant('insert' as const),
          at: fc.nat(length - 1),
          bytes: fc.uint8Array({ maxLength: 12 }),
        }),
      ),
      { minLength: 1, maxLength: 4 },
    );
  const mutate = (
    body: Uint8Array,
    mutations: ReturnType<typeof mutation> extends fc.Arbitrary<infer M> ? M : never,
  ) => {
    let out: Uint8Array = Uint8Array.from(body);
    for (const change of mutations) {
      const at = Math.min(change.at, Math.max(out.length - 1, 0));
      if (change.kind === 'set') out[at] = change.byte;
      else if (change.kind === 'cut') out = out.subarray(0, at);
      else out = concat(out.subarray(0, at), change.bytes, out.subarray(at));
    }
    return out;
  };

  it('mutations of a valid protobuf body', () => {
    fc.assert(
      fc.property(mutation(valid.protobuf.length), (mutations) =>
        decodesOrRefuses(mutate(valid.protobuf, mutations), 'protobuf'),
      ),
      { numRuns: 3000 },
    );
  });

  it('mutations of a valid JSON body', () => {
    fc.assert(
      fc.property(mutation(valid.json.length), (mutations) =>
        decodesOrRefuses(mutate(valid.json, mutations), 'json'),
      ),
      { numRuns: 3000 },
    );
  });

  it('random JSON values in the places of fields', () => {
    const text = new TextDecoder().decode(valid.json);
    const fields = [...text.matchAll(/"(\w+)":/g)].map((match) => match[1] as string);
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
        const replaced = text.replace(
          new RegExp(`"${field}":("[^"]*"|-?\\d+|true|false|\\[\\]|\\{\\})`),
          `"${field}":${JSON.stringify(value)}`,
        );
        fc.pre(!replaced.includes('"__proto__"'));
        decodesOrRefuses(Buffer.from(replaced), 'json');
      }),
      { numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------

const hex = (bytes: number) =>
  fc
    .uint8Array({ minLength: bytes, maxLength: bytes })
    .filter((id) => id.some((byte) => byte !== 0))
    .map((id) => Buffer.from(id).toString('hex'));
const key = fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__');
const value: fc.Arbitrary<OtlpValue> = fc.letrec<{ value: OtlpValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (d === 0 ? 0 : d)),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => b.toString()),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 3, noNullPrototype: true }),
  ),
})).value;
const attributes: fc.Arbitrary<OtlpAttributes> = fc.dictionary(key, value, {
  maxKeys: 4,
  noNullPrototype: true,
});
const time = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const otlpSpan: fc.Arbitrary<OtlpSpan> = fc
  .record({
    traceId: hex(16),
    spanId: hex(8),
    parentSpanId: fc.option(hex(8), { nil: undefined }),
    name: fc.string(),
    kind: fc.integer({ min: 0, max: 5 }),
    startTimeUnixNano: time,
    endTimeUnixNano: time,
    attributes,
    events: fc.array(
      fc.record({ name: fc.string(), timeUnixNano: time, attributes }, { noNullPrototype: true }),
      { maxLength: 2 },
    ),
    code: fc.constantFrom(0 as const, 1 as const, 2 as const),
    message: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
    resource: fc.constantFrom<OtlpAttributes>({ 'service.name': 'a' }, { 'service.name': 'b', n: 1 }, {}),
    scope: fc.constantFrom({ name: 'x' }, { name: 'x', version: '1' }, { name: '' }),
  })
  .map(
    ({ parentSpanId, code, message, ...span }): OtlpSpan => ({
      ...span,
      ...(parentSpanId === undefined ? {} : { parentSpanId }),
      status: message === undefined ? { code } : { code, message },
    }),
  );

describe('otlpJsonOf: the archive form reads back to the same spans', () => {
  it('for any spans', () => {
    fc.assert(
      fc.property(fc.array(otlpSpan, { maxLength: 6 }), (spans) => {
        const text = JSON.stringify(otlpJsonOf(spans));
        expect(decodeTraceRequest(Buffer.from(text), 'json')).toStrictEqual(spans);
      }),
      { numRuns: 300 },
    );
  });

  it('for spans from the SDK, grouped back by resource and scope', () => {
    const spans = decodeTraceRequest(bodies(recordSpans()).protobuf, 'protobuf');
    const archived = otlpJsonOf(spans) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
    expect(archived.resourceSpans).toHaveLength(1);
    expect(archived.resourceSpans[0]?.scopeSpans.map((scope) => scope.spans.length)).toStrictEqual([1, 2]);
    expect(JSON.stringify(archived)).toContain(`"startTimeUnixNano":"${spans[0]?.startTimeUnixNano}"`);
    expect(decodeTraceRequest(Buffer.from(JSON.stringify(archived)), 'json')).toStrictEqual(spans);
  });
});

describe('encodeTraceResponse and encodeStatus', () => {
  it('answers full success with an empty message, or {} in JSON', () => {
    expect(encodeTraceResponse(undefined, 'protobuf')).toStrictEqual(new Uint8Array(0));
    expect(new TextDecoder().decode(encodeTraceResponse(undefined, 'json'))).toBe('{}');
    expect(
      ProtobufTraceSerializer.deserializeResponse(encodeTraceResponse(undefined, 'protobuf')),
    ).toStrictEqual({});
  });

  it('answers partial success as the exporters read it', () => {
    const partial = { rejectedSpans: 300, errorMessage: 'spans of unknown workflows — see docs' };
    const protobuf = encodeTraceResponse(partial, 'protobuf');
    expect(ProtobufTraceSerializer.deserializeResponse(protobuf)).toStrictEqual({ partialSuccess: partial });
    const json = encodeTraceResponse(partial, 'json');
    expect(JsonTraceSerializer.deserializeResponse(json)).toStrictEqual({ partialSuccess: partial });
    // By hand: 0a (field 1, LD) len, 08 (field 1, varint) ac 02 = 300, 12 (field 2, LD) len text.
    const text = Buffer.from(partial.errorMessage);
    expect([...protobuf]).toStrictEqual([
      0x0a,
      3 + 2 + text.length,
      0x08,
      0xac,
      0x02,
      0x12,
      text.length,
      ...text,
    ]);
    // A warning with nothing rejected still sets partial_success.
    expect([...encodeTraceResponse({ rejectedSpans: 0, errorMessage: '' }, 'protobuf')]).toStrictEqual([
      0x0a, 0x00,
    ]);
  });

  it('encodes a google.rpc.Status', () => {
    expect([...encodeStatus(3, 'bad', 'protobuf')]).toStrictEqual([0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]);
    expect([...encodeStatus(0, '', 'protobuf')]).toStrictEqual([]);
    expect([...encodeStatus(-1, '', 'protobuf')]).toStrictEqual([0x08, ...Array(9).fill(0xff), 0x01]);
    expect(JSON.parse(new TextDecoder().decode(encodeStatus(3, 'bad "x"', 'json')))).toStrictEqual({
      code: 3,
      message: 'bad "x"',
    });
  });
});

describe('otlpEncodingOf', () => {
  it('names the encoding of a Content-Type, parameters and case aside', () => {
    expect(otlpEncodingOf('application/x-protobuf')).toBe('protobuf');
    expect(otlpEncodingOf('Application/X-Protobuf; charset=binary')).toBe('protobuf');
    expect(otlpEncodingOf('application/json')).toBe('json');
    expect(otlpEncodingOf(' APPLICATION/JSON ;charset=utf-8')).toBe('json');
    expect(otlpEncodingOf('application/protobuf')).toBeUndefined();
    expect(otlpEncodingOf('text/plain')).toBeUndefined();
    expect(otlpEncodingOf('')).toBeUndefined();
    expect(otlpEncodingOf(undefined)).toBeUndefined();
    expect(OTLP_MEDIA_TYPES).toStrictEqual({ protobuf: 'application/x-protobuf', json: 'application/json' });
  });
});

describe('parseStrictJson with bigIntegers', () => {
  it('returns integers beyond 2^53 as exact bigints, and nothing else changes', () => {
    expect(
      parseStrictJson('[12345678901234567891,-9007199254740993,9007199254740991,1.5,1e21]', {
        bigIntegers: true,
      }),
    ).toStrictEqual([12345678901234567891n, -9007199254740993n, 9007199254740991, 1.5, 1e21]);
    // Without the option, the same text is refused, as before.
    expect(() => parseStrictJson('12345678901234567891')).toThrow(StrictJsonError);
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), (integer) => {
        const parsed = parseStrictJson(`{"n":${integer}}`, { bigIntegers: true }) as { n: unknown };
        expect(BigInt(parsed.n as bigint | number)).toBe(integer);
        expect(typeof parsed.n).toBe(Number.isSafeInteger(Number(integer)) ? 'number' : 'bigint');
      }),
    );
  });
});
