import { InvalidRequestError } from '#lib/errors.ts';
import { MAX_JSON_DEPTH, parseStrictJson, StrictJsonError } from '#lib/json/strict-json.ts';
import { ProtobufReader, ProtobufWireError, WireType } from '#lib/otlp/protobuf-reader.ts';
import type {
  OtlpAttributes,
  OtlpEncoding,
  OtlpSpan,
  OtlpSpanEvent,
  OtlpStatusCode,
  OtlpValue,
} from '#lib/otlp/spans.ts';
import { type PathSegment, toJsonPath } from '#lib/validation/zod-issues.ts';

/**
 * OTLP/HTTP trace requests (`ExportTraceServiceRequest`, opentelemetry-proto `collector/trace/v1`) read into
 * `OtlpSpan`s, from either encoding, with the same result for the same spans; and back into OTLP/JSON for the
 * archive. What cannot be kept as sent is refused with an InvalidRequestError that names where it is, as an
 * OTLP/JSON path (`$.resourceSpans[0].scopeSpans[1].spans[3].traceId`) whichever the encoding, plus the byte
 * offset for protobuf.
 */

/** The media types of OTLP/HTTP's two encodings. */
export const OTLP_MEDIA_TYPES = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
} as const satisfies Record<OtlpEncoding, string>;

/** The encoding a Content-Type names (parameters ignored, any case), or undefined when it names neither. */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === OTLP_MEDIA_TYPES.protobuf) return 'protobuf';
  if (mediaType === OTLP_MEDIA_TYPES.json) return 'json';
  return undefined;
}

/**
 * How deep arrays and key-value lists may nest in one attribute value: the ledger's JSON depth, so a value
 * taken here still fits the ledger once it is plain JSON.
 */
export const MAX_ANY_VALUE_DEPTH = MAX_JSON_DEPTH;

/**
 * The JSON depth of the deepest valid OTLP/JSON request: the envelope down to a span event's attribute value
 * (request, resourceSpans, ResourceSpans, scopeSpans, ScopeSpans, spans, Span, events, Event, attributes,
 * KeyValue, AnyValue: 12), then 4 per key-value list (kvlistValue, values, KeyValue, AnyValue). The limit on
 * values themselves is MAX_ANY_VALUE_DEPTH, checked in AnyValue levels.
 */
const OTLP_JSON_MAX_DEPTH = 12 + 4 * MAX_ANY_VALUE_DEPTH;

/** Reads a decompressed `ExportTraceServiceRequest` body; throws InvalidRequestError when it is not valid. */
export function decodeTraceRequest(body: Uint8Array, encoding: OtlpEncoding): OtlpSpan[] {
  return encoding === 'protobuf' ? decodeProtobuf(body) : decodeJson(body);
}

function invalid(path: readonly PathSegment[], message: string): InvalidRequestError {
  return new InvalidRequestError('the OTLP trace request is not valid; nothing was stored', [
    { index: null, path: toJsonPath(path), message },
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// Shared checks

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function hexOf(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += HEX[byte];
  return hex;
}

const ZERO_ID = /^0+$/;
const KINDS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

/** A double as the ledger keeps it: -0 is 0; NaN and ±Infinity, which JSON cannot hold, are OTLP/JSON's words. */
function doubleOf(value: number): OtlpValue {
  if (value === 0) return 0;
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** An int64 as OtlpValue holds it: a number when safe, else its decimal text. */
function int64Of(value: bigint): number | string {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value.toString();
}

/** Mutable while a request is read; handed out as the readonly model. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Attributes = Record<string, OtlpValue>;

// ---------------------------------------------------------------------------------------------------------
// Protobuf

function decodeProtobuf(body: Uint8Array): OtlpSpan[] {
  const reader = new ProtobufReader(body);
  const decoder = new ProtobufDecoder(reader);
  try {
    return decoder.request();
  } catch (error) {
    if (error instanceof ProtobufWireError) throw invalid(decoder.path, error.message);
    throw error;
  }
}

class ProtobufDecoder {
  /** Where the reader is, as an OTLP/JSON path; left as it was where an error was thrown. */
  readonly path: PathSegment[] = [];
  readonly #spans: OtlpSpan[] = [];

  constructor(private readonly reader: ProtobufReader) {}

  /** ExportTraceServiceRequest{resource_spans=1}. */
  request(): OtlpSpan[] {
    const r = this.reader;
    let index = 0;
    while (r.more()) {
      r.tag();
      if (r.field === 1) {
        r.expect(WireType.lengthDelimited, 'resourceSpans');
        this.path.push('resourceSpans', index++);
        this.#resourceSpans();
        this.path.pop();
        this.path.pop();
      } else r.skip();
    }
    return this.#spans;
  }

  /** ResourceSpans{resource=1, scope_spans=2, schema_url=3}. */
  #resourceSpans(): void {
    const r = this.reader;
    const resource: Attributes = {};
    const outer = r.enter();
    let index = 0;
    while (r.more()) {
      r.tag();
      if (r.field === 1) {
        r.expect(WireType.lengthDelimited, 'resource');
        this.path.push('resource');
        this.#resource(resource);
        this.path.pop();
      } else if (r.field === 2) {
        r.expect(WireType.lengthDelimited, 'scopeSpans');
        this.path.push('scopeSpans', index++);
        this.#scopeSpans(resource);
        this.path.pop();
        this.path.pop();
      } else r.skip();
    }
    r.leave(outer);
  }

  /** Resource{attributes=1, dropped_attributes_count=2}; a second Resource merges into the first. */
  #resource(attributes: Attributes): void {
    const r = this.reader;
    const outer = r.enter();
    let index = 0;
    while (r.more()) {
      r.tag();
      if (r.field === 1) {
        r.expect(WireType.lengthDelimited, 'attributes');
        this.path.push('attributes', index++);
        this.#keyValue(attributes, 0);
        this.path.pop();
        this.path.pop();
      } else r.skip();
    }
    r.leave(outer);
  }

  /** ScopeSpans{scope=1, spans=2, schema_url=3}. */
  #scopeSpans(resource: Attributes): void {
    const r = this.reader;
    const scope: Mutable<OtlpSpan['scope']> = { name: '' };
    const outer = r.enter();
    let index = 0;
    while (r.more()) {
      r.tag();
      if (r.field === 1) {
        r.expect(WireType.lengthDelimited, 'scope');
        this.path.push('scope');
        this.#scope(scope);
        this.path.pop();
      } else if (r.field === 2) {
        r.expect(WireType.lengthDelimited, 'spans');
        this.path.push('spans', index++);
        this.#spans.push(this.#span(resource, scope));
        this.path.pop();
        this.path.pop();
      } else r.skip();
    }
    r.leave(outer);
  }

  /** InstrumentationScope{name=1, version=2, attributes=3, dropped_attributes_count=4}. */
  #scope(scope: Mutable<OtlpSpan['scope']>): void {
    const r = this.reader;
    const outer = r.enter();
    while (r.more()) {
      r.tag();
      if (r.field === 1) {
        r.expect(WireType.lengthDelimited, 'name');
        scope.name = this.#string('name');
      } else if (r.field === 2) {
        r.expect(WireType.lengthDelimited, 'version');
        const version = this.#string('version');
        if (version === '') delete scope.version;
        else scope.version = version;
      } else r.skip();
    }
    r.leave(outer);
  }

  /**
   * Span{trace_id=1, span_id=2, trace_state=3, parent_span_id=4, name=5, kind=6, start_time_unix_nano=7,
   * end_time_unix_nano=8, attributes=9, dropped_attributes_count=10, events=11, dropped_events_count=12,
   * links=13, dropped_links_count=14, status=15, flags=16}.
   */
  #span(resource: Attributes, scope: OtlpSpan['scope']): OtlpSpan {
    const r = this.reader;
    const path = this.path;
    let traceId: string | undefined;
    let spanId: string | undefined;
    let parentSpanId: string | undefined;
    let name = '';
    let kind = 0;
    let startTimeUnixNano = 0n;
    let endTimeUnixNano = 0n;
    const attributes: Attributes = {};
    const events: OtlpSpanEvent[] = [];
    const status: Mutable<OtlpSpan['status']> = { code: 0 };
    let attributeIndex = 0;
    const outer = r.enter();
    while (r.more()) {
      r.tag();
      switch (r.field) {
        case 1:
          r.expect(WireType.lengthDelimited, 'traceId');
          traceId = this.#id('traceId', 16);
          break;
        case 2:
          r.expect(WireType.lengthDelimited, 'spanId');
          spanId = this.#id('spanId', 8);
          break;
        case 4:
          r.expect(WireType.lengthDelimited, 'parentSpanId');
          parentSpanId = this.#id('parentSpanId', 8, true);
          break;
        case 5:
          r.expect(WireType.lengthDelimited, 'name');
          name = this.#string('name');
          break;
        case 6:
          r.expect(WireType.varint, 'kind');
          path.push('kind');
          kind = r.int32();
          if (kind < 0 || kind >= KINDS.length) r.fail(`an unknown span kind ${kind}`);
          path.pop();
          break;
        case 7:
          r.expect(WireType.fixed64, 'startTimeUnixNano');
          path.push('startTimeUnixNano');
          startTimeUnixNano = r.fixed64();
          path.pop();
          break;
        case 8:
          r.expect(WireType.fixed64, 'endTimeUnixNano');
          path.push('endTimeUnixNano');
          endTimeUnixNano = r.fixed64();
          path.pop();
          break;
        case 9:
          r.expect(WireType.lengthDelimited, 'attributes');
          path.push('attributes', attributeIndex++);
          this.#keyValue(attributes, 0);
          path.pop();
          path.pop();
          break;
        case 11:
          r.expect(WireType.lengthDelimited, 'events');
          path.push('events', events.length);
          events.push(this.#event());
          path.pop();
          path.pop();
          break;
        case 15:
          r.expect(WireType.lengthDelimited, 'status');
          path.push('status');
          this.#status(status);
          path.pop();
          break;
        default:
          r.skip();
      }
    }
    r.leave(outer);
    if (traceId === undefined) this.#missing('traceId');
    if (spanId === undefined) this.#missing('spanId');
    const span: Mutable<OtlpSpan> = {
      traceId,
      spanId,
      name,
      kind,
      startTimeUnixNano,
      endTimeUnixNano,
      attributes,
      events,
      status,
      resource,
      scope,
    };
    if (parentSpanId !== undefined) span.parentSpanId = parentSpanId;
    return span;
  }

  /** Span.Event{time_unix_nano=1, name=2, attributes=3, dropped_attributes_count=4}. */
  #event(): OtlpSpanEvent {
    const r = this.reader;
    let name = '';
    let timeUnixNano = 0n;
    const attributes: Attributes = {};
    let index = 0;
    const outer = r.enter();
    while (r.more()) {
      r.tag();
      if (r.field === 1) {
        r.expect(WireType.fixed64, 'timeUnixNano');
        this.path.push('timeUnixNano');
        timeUnixNano = r.fixed64();
        this.path.pop();
      } else if (r.field === 2) {
        r.expect(WireType.lengthDelimited, 'name');
        name = this.#string('name');
      } else if (r.field === 3) {
        r.expect(WireType.lengthDelimited, 'attributes');
        this.path.push('attributes', index++);
        this.#keyValue(attributes, 0);
        this.path.pop();
        this.path.pop();
      } else r.skip();
    }
    r.leave(outer);
    return { name, timeUnixNano, attributes };
  }

  /** Status{message=2, code=3}; a second Status merges into the first. */
  #status(status: Mutable<OtlpSpan['status']>): void {
    const r = this.reader;
    const outer = r.enter();
    while (r.more()) {
      r.tag();
      if (r.field === 2) {
        r.expect(WireType.lengthDelimited, 'message');
        const message = this.#string('message');
        if (message === '') delete status.message;
        else status.message = message;
      } else if (r.field === 3) {
        r.expect(WireType.varint, 'code');
        this.path.push('code');
        const code = r.int32();
        if (code < 0 || code >= STATUS_CODES.length) r.fail(`an unknown status code ${code}`);
        status.code = code as OtlpStatusCode;
        this.path.pop();
      } else r.skip();
    }
    r.leave(outer);
  }

  /** KeyValue{key=1, value=2}, added to `target` (keys unique, `__proto__` refused). */
  #keyValue(target: Attributes, depth: number): void {
    const r = this.reader;
    const start = r.position;
    let key = '';
    let value: OtlpValue = null;
    const outer = r.enter();
    while (r.more()) {
      r.tag();
      if (r.field === 1) {
        r.expect(WireType.lengthDelimited, 'key');
        key = this.#string('key');
      } else if (r.field === 2) {
        r.expect(WireType.lengthDelimited, 'value');
        this.path.push('value');
        value = this.#anyValue(depth);
        this.path.pop();
      } else r.skip();
    }
    r.leave(outer);
    this.path.push('key');
    checkKey(target, key, (message) => r.fail(message, start));
    this.path.pop();
    target[key] = value;
  }

  /**
   * AnyValue, a oneof{string_value=1, bool_value=2, int_value=3, double_value=4, array_value=5,
   * kvlist_value=6, bytes_value=7}: the last one set wins, as protobuf has it; none set is null.
   */
  #anyValue(depth: number): OtlpValue {
    const r = this.reader;
    let value: OtlpValue = null;
    const outer = r.enter();
    while (r.more()) {
      r.tag();
      switch (r.field) {
        case 1:
          r.expect(WireType.lengthDelimited, 'stringValue');
          value = this.#string('stringValue');
          break;
        case 2:
          r.expect(WireType.varint, 'boolValue');
          value = r.bool();
          break;
        case 3:
          r.expect(WireType.varint, 'intValue');
          value = r.int64();
          break;
        case 4:
          r.expect(WireType.fixed64, 'doubleValue');
          value = doubleOf(r.double());
          break;
        case 5:
          r.expect(WireType.lengthDelimited, 'arrayValue');
          this.path.push('arrayValue');
          value = this.#arrayValue(depth + 1);
          this.path.pop();
          break;
        case 6:
          r.expect(WireType.lengthDelimited, 'kvlistValue');
          this.path.push('kvlistValue');
          value = this.#kvlistValue(depth + 1);
          this.path.pop();
          break;
        case 7:
          r.expect(WireType.lengthDelimited, 'bytesValue');
          value = Buffer.from(r.bytesField()).toString('base64');
          break;
        default:
          r.skip();
      }
    }
    r.leave(outer);
    return value;
  }

  /** ArrayValue{values=1}. */
  #arrayValue(depth: number): OtlpValue[] {
    const r = this.reader;
    if (depth > MAX_ANY_VALUE_DEPTH) r.fail(`a value nested more than ${MAX_ANY_VALUE_DEPTH} deep`);
    const values: OtlpValue[] = [];
    const outer = r.enter();
    while (r.more()) {
      r.tag();
      if (r.field === 1) {
        r.expect(WireType.lengthDelimited, 'values');
        this.path.push('values', values.length);
        values.push(this.#anyValue(depth));
        this.path.pop();
        this.path.pop();
      } else r.skip();
    }
    r.leave(outer);
    return values;
  }

  /** KeyValueList{values=1}. */
  #kvlistValue(depth: number): Attributes {
    const r = this.reader;
    if (depth > MAX_ANY_VALUE_DEPTH) r.fail(`a value nested more than ${MAX_ANY_VALUE_DEPTH} deep`);
    const values: Attributes = {};
    let index = 0;
    const outer = r.enter();
    while (r.more()) {
      r.tag();
      if (r.field === 1) {
        r.expect(WireType.lengthDelimited, 'values');
        this.path.push('values', index++);
        this.#keyValue(values, depth);
        this.path.pop();
        this.path.pop();
      } else r.skip();
    }
    r.leave(outer);
    return values;
  }

  #string(field: string): string {
    this.path.push(field);
    const value = this.reader.string();
    this.path.pop();
    return value;
  }

  /** A trace or span ID: `length` bytes, not all zero, as lowercase hex; empty (a root) when `optional`. */
  #id(field: string, length: number, optional = false): string | undefined {
    const r = this.reader;
    this.path.push(field);
    const start = r.position;
    const bytes = r.bytesField();
    if (optional && bytes.length === 0) {
      this.path.pop();
      return undefined;
    }
    if (bytes.length !== length) r.fail(`must be ${length} bytes, not ${bytes.length}`, start);
    if (bytes.every((byte) => byte === 0)) r.fail('must not be all zero (an invalid ID)', start);
    this.path.pop();
    return hexOf(bytes);
  }

  #missing(field: string): never {
    this.path.push(field);
    return this.reader.fail('is required');
  }
}

/** Refuses a key a plain object cannot hold as sent: a repeated one, or `__proto__`. */
function checkKey(target: Attributes, key: string, fail: (message: string) => never): void {
  if (key === '__proto__') fail('a key named "__proto__" is not accepted');
  // A new key reads undefined (values never are); only then is the slower own-property check needed.
  if (target[key] !== undefined && Object.hasOwn(target, key))
    fail(`the key ${JSON.stringify(key)} appears twice`);
}

// ---------------------------------------------------------------------------------------------------------
// JSON

class OtlpJsonError extends Error {
  override name = 'OtlpJsonError';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeJson(body: Uint8Array): OtlpSpan[] {
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw invalid([], 'the body is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = parseStrictJson(text, { maxDepth: OTLP_JSON_MAX_DEPTH, bigIntegers: true });
  } catch (error) {
    if (!(error instanceof StrictJsonError)) throw error;
    if (error.kind === 'syntax') throw invalid([], `${error.message} at character ${error.offset}`);
    throw invalid(error.path, error.message);
  }
  const decoder = new JsonDecoder();
  try {
    return decoder.request(parsed);
  } catch (error) {
    if (error instanceof OtlpJsonError) throw invalid(decoder.path, error.message);
    throw error;
  }
}

type JsonObject = Record<string, unknown>;

const HEX_ID = { 16: /^[0-9a-fA-F]{32}$/, 8: /^[0-9a-fA-F]{16}$/ } as const;
const UNSIGNED_DECIMAL = /^\d+$/;
const SIGNED_DECIMAL = /^-?\d+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)={0,2}$/;
const ANY_VALUE_FIELDS = [
  ['stringValue', 'string_value'],
  ['boolValue', 'bool_value'],
  ['intValue', 'int_value'],
  ['doubleValue', 'double_value'],
  ['arrayValue', 'array_value'],
  ['kvlistValue', 'kvlist_value'],
  ['bytesValue', 'bytes_value'],
] as const;

/** Reads OTLP/JSON: protobuf's JSON mapping with OTLP's exceptions (hex IDs, integer enums). */
class JsonDecoder {
  /** Where the decoder is; left as it was where an error was thrown. */
  readonly path: PathSegment[] = [];

  request(value: unknown): OtlpSpan[] {
    const request = this.#object(value);
    const spans: OtlpSpan[] = [];
    this.#each(request, 'resourceSpans', 'resource_spans', (resourceSpans) => {
      const object = this.#object(resourceSpans);
      const resource: Attributes = {};
      const resourceObject = this.#field(object, 'resource', 'resource');
      if (resourceObject !== undefined) {
        this.path.push('resource');
        this.#attributes(this.#object(resourceObject), resource);
        this.path.pop();
      }
      this.#each(object, 'scopeSpans', 'scope_spans', (scopeSpans) => {
        const object = this.#object(scopeSpans);
        const scope = this.#scope(object);
        this.#each(object, 'spans', 'spans', (span) => {
          spans.push(this.#span(this.#object(span), resource, scope));
        });
      });
    });
    return spans;
  }

  #scope(scopeSpans: JsonObject): OtlpSpan['scope'] {
    const value = this.#field(scopeSpans, 'scope', 'scope');
    if (value === undefined) return { name: '' };
    this.path.push('scope');
    const object = this.#object(value);
    const name = this.#string(object, 'name', 'name');
    const version = this.#string(object, 'version', 'version');
    this.path.pop();
    return version === '' ? { name } : { name, version };
  }

  #span(object: JsonObject, resource: Attributes, scope: OtlpSpan['scope']): OtlpSpan {
    const traceId = this.#id(object, 'traceId', 'trace_id', 16);
    const spanId = this.#id(object, 'spanId', 'span_id', 8);
    const parentSpanId = this.#id(object, 'parentSpanId', 'parent_span_id', 8, true);
    const attributes: Attributes = {};
    this.#attributes(object, attributes);
    const events: OtlpSpanEvent[] = [];
    this.#each(object, 'events', 'events', (event) => {
      const eventObject = this.#object(event);
      const eventAttributes: Attributes = {};
      this.#attributes(eventObject, eventAttributes);
      events.push({
        name: this.#string(eventObject, 'name', 'name'),
        timeUnixNano: this.#time(eventObject, 'timeUnixNano', 'time_unix_nano'),
        attributes: eventAttributes,
      });
    });
    const span: Mutable<OtlpSpan> = {
      traceId: traceId as string,
      spanId: spanId as string,
      name: this.#string(object, 'name', 'name'),
      kind: this.#enum(object, 'kind', 'kind', KINDS),
      startTimeUnixNano: this.#time(object, 'startTimeUnixNano', 'start_time_unix_nano'),
      endTimeUnixNano: this.#time(object, 'endTimeUnixNano', 'end_time_unix_nano'),
      attributes,
      events,
      status: this.#status(object),
      resource,
      scope,
    };
    if (parentSpanId !== undefined) span.parentSpanId = parentSpanId;
    return span;
  }

  #status(span: JsonObject): OtlpSpan['status'] {
    const value = this.#field(span, 'status', 'status');
    if (value === undefined) return { code: 0 };
    this.path.push('status');
    const object = this.#object(value);
    const code = this.#enum(object, 'code', 'code', STATUS_CODES) as OtlpStatusCode;
    const message = this.#string(object, 'message', 'message');
    this.path.pop();
    return message === '' ? { code } : { code, message };
  }

  /** An object's `attributes` (repeated KeyValue) into `target`. */
  #attributes(object: JsonObject, target: Attributes): void {
    this.#each(object, 'attributes', 'attributes', (keyValue) => this.#keyValue(keyValue, target, 0));
  }

  #keyValue(value: unknown, target: Attributes, depth: number): void {
    const object = this.#object(value);
    const key = this.#string(object, 'key', 'key');
    const anyValue = this.#field(object, 'value', 'value');
    this.path.push('value');
    const decoded = anyValue === undefined ? null : this.#anyValue(anyValue, depth);
    this.path.pop();
    this.path.push('key');
    checkKey(target, key, (message) => this.#fail(message));
    this.path.pop();
    target[key] = decoded;
  }

  #anyValue(value: unknown, depth: number): OtlpValue {
    const object = this.#object(value);
    let found: (typeof ANY_VALUE_FIELDS)[number][0] | undefined;
    let raw: unknown;
    for (const [camel, snake] of ANY_VALUE_FIELDS) {
      const field = this.#field(object, camel, snake);
      if (field === undefined) continue;
      if (found !== undefined) this.#fail(`sets both ${found} and ${camel}; an AnyValue holds one`);
      found = camel;
      raw = field;
    }
    if (found === undefined) return null;
    this.path.push(found);
    const decoded = this.#anyValueField(found, raw, depth);
    this.path.pop();
    return decoded;
  }

  #anyValueField(field: (typeof ANY_VALUE_FIELDS)[number][0], raw: unknown, depth: number): OtlpValue {
    switch (field) {
      case 'stringValue':
        if (typeof raw !== 'string') this.#fail(`must be a string, not ${typeOf(raw)}`);
        return raw;
      case 'boolValue':
        if (typeof raw !== 'boolean') this.#fail(`must be a boolean, not ${typeOf(raw)}`);
        return raw;
      case 'intValue':
        return int64Of(this.#integer(raw, INT64_MIN, INT64_MAX, 'an int64'));
      case 'doubleValue':
        return this.#double(raw);
      case 'bytesValue':
        if (typeof raw !== 'string' || !BASE64.test(raw)) this.#fail('must be a base64 string');
        return Buffer.from(raw, 'base64').toString('base64');
      case 'arrayValue': {
        if (depth + 1 > MAX_ANY_VALUE_DEPTH)
          this.#fail(`a value nested more than ${MAX_ANY_VALUE_DEPTH} deep`);
        const values: OtlpValue[] = [];
        this.#each(this.#object(raw), 'values', 'values', (item) => {
          values.push(this.#anyValue(item, depth + 1));
        });
        return values;
      }
      case 'kvlistValue': {
        if (depth + 1 > MAX_ANY_VALUE_DEPTH)
          this.#fail(`a value nested more than ${MAX_ANY_VALUE_DEPTH} deep`);
        const values: Attributes = {};
        this.#each(this.#object(raw), 'values', 'values', (item) => this.#keyValue(item, values, depth + 1));
        return values;
      }
    }
  }

  /** An integer in [min, max]: a JSON number that is an integer (exact, as bigint when not safe) or decimal text. */
  #integer(raw: unknown, min: bigint, max: bigint, what: string): bigint {
    let value: bigint;
    if (typeof raw === 'bigint') value = raw;
    else if (typeof raw === 'number' && Number.isInteger(raw)) value = BigInt(raw);
    else if (typeof raw === 'string' && (min < 0n ? SIGNED_DECIMAL : UNSIGNED_DECIMAL).test(raw)) {
      value = BigInt(raw);
    } else {
      return this.#fail(
        `must be ${what} (an integer, or its decimal digits in a string), not ${describe(raw)}`,
      );
    }
    if (value < min || value > max) this.#fail(`${String(raw)} is out of range for ${what}`);
    return value;
  }

  #double(raw: unknown): OtlpValue {
    if (typeof raw === 'number') return doubleOf(raw);
    if (typeof raw === 'bigint') return doubleOf(Number(raw));
    if (typeof raw === 'string') {
      if (raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity') return raw;
      if (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(raw)) return doubleOf(Number(raw));
    }
    return this.#fail(`must be a number, not ${describe(raw)}`);
  }

  #time(object: JsonObject, camel: string, snake: string): bigint {
    const raw = this.#field(object, camel, snake);
    if (raw === undefined) return 0n;
    this.path.push(camel);
    const value = this.#integer(raw, 0n, UINT64_MAX, 'a fixed64 time in nanoseconds');
    this.path.pop();
    return value;
  }

  #enum(object: JsonObject, camel: string, snake: string, names: readonly string[]): number {
    const raw = this.#field(object, camel, snake);
    if (raw === undefined) return 0;
    this.path.push(camel);
    const value = typeof raw === 'string' ? names.indexOf(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= names.length) {
      this.#fail(`must be one of 0 to ${names.length - 1} (${names.join(', ')}), not ${describe(raw)}`);
    }
    this.path.pop();
    return value;
  }

  /** A trace or span ID as hex (any case; lowercase out); `""` or absent is a root when `optional`. */
  #id(object: JsonObject, camel: string, snake: string, bytes: 8 | 16, optional = false): string | undefined {
    const raw = this.#field(object, camel, snake);
    this.path.push(camel);
    if (raw === undefined || raw === '') {
      if (optional) {
        this.path.pop();
        return undefined;
      }
      this.#fail('is required');
    }
    if (typeof raw !== 'string' || !HEX_ID[bytes].test(raw)) {
      this.#fail(`must be ${bytes * 2} hex digits (${bytes} bytes), not ${describe(raw)}`);
    }
    if (ZERO_ID.test(raw)) this.#fail('must not be all zero (an invalid ID)');
    this.path.pop();
    return raw.toLowerCase();
  }

  #string(object: JsonObject, camel: string, snake: string): string {
    const raw = this.#field(object, camel, snake);
    if (raw === undefined) return '';
    if (typeof raw !== 'string') {
      this.path.push(camel);
      this.#fail(`must be a string, not ${typeOf(raw)}`);
    }
    return raw;
  }

  /** Calls `each` on every item of a repeated field, with the path set to the item. */
  #each(object: JsonObject, camel: string, snake: string, each: (item: unknown) => void): void {
    const raw = this.#field(object, camel, snake);
    if (raw === undefined) return;
    this.path.push(camel);
    if (!Array.isArray(raw)) this.#fail(`must be an array, not ${typeOf(raw)}`);
    for (const [index, item] of raw.entries()) {
      this.path.push(index);
      each(item);
      this.path.pop();
    }
    this.path.pop();
  }

  /** A field by its JSON name or its proto name (not both); null is the default value, as absent. */
  #field(object: JsonObject, camel: string, snake: string): unknown {
    const value = object[camel];
    if (camel !== snake && Object.hasOwn(object, snake)) {
      if (Object.hasOwn(object, camel)) {
        this.path.push(snake);
        this.#fail(`${camel} and ${snake} are the same field, given twice`);
      }
      const other = object[snake];
      return other === null ? undefined : other;
    }
    return value === null || !Object.hasOwn(object, camel) ? undefined : value;
  }

  #object(value: unknown): JsonObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.#fail(`must be an object, not ${typeOf(value)}`);
    }
    return value as JsonObject;
  }

  #fail(message: string): never {
    throw new OtlpJsonError(message);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'bigint') return 'a number';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return typeOf(value);
}

// ---------------------------------------------------------------------------------------------------------
// Back to OTLP/JSON, for the archive

/**
 * The spans as one OTLP/JSON ExportTraceServiceRequest: the form raw spans are archived in, read back by
 * `decodeTraceRequest(…, 'json')` to the same spans in the same order. Consecutive spans with equal resources
 * share a ResourceSpans, and consecutive ones with equal scopes in it a ScopeSpans, so the spans of one
 * request are grouped back as they came. Times are decimal strings; IDs lowercase hex. Each value is written
 * as the AnyValue it reads back as: strings (int64 text and base64 bytes among them) as `stringValue`, safe
 * integers as `intValue`, other numbers as `doubleValue`.
 */
export function otlpJsonOf(spans: readonly OtlpSpan[]): object {
  const resourceSpans: { resource: object; scopeSpans: { scope: object; spans: object[] }[] }[] = [];
  let resourceKey: string | undefined;
  let scopeKey: string | undefined;
  for (const span of spans) {
    const nextResourceKey = JSON.stringify(span.resource);
    if (nextResourceKey !== resourceKey) {
      resourceSpans.push({ resource: { attributes: keyValuesOf(span.resource) }, scopeSpans: [] });
      resourceKey = nextResourceKey;
      scopeKey = undefined;
    }
    const nextScopeKey = JSON.stringify([span.scope.name, span.scope.version ?? null]);
    const scopeSpans = (resourceSpans.at(-1) as (typeof resourceSpans)[number]).scopeSpans;
    if (nextScopeKey !== scopeKey) {
      const { name, version } = span.scope;
      scopeSpans.push({ scope: version === undefined ? { name } : { name, version }, spans: [] });
      scopeKey = nextScopeKey;
    }
    (scopeSpans.at(-1) as (typeof scopeSpans)[number]).spans.push(spanJsonOf(span));
  }
  return { resourceSpans };
}

function spanJsonOf(span: OtlpSpan): object {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId === undefined ? {} : { parentSpanId: span.parentSpanId }),
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: span.startTimeUnixNano.toString(),
    endTimeUnixNano: span.endTimeUnixNano.toString(),
    attributes: keyValuesOf(span.attributes),
    events: span.events.map((event) => ({
      timeUnixNano: event.timeUnixNano.toString(),
      name: event.name,
      attributes: keyValuesOf(event.attributes),
    })),
    status:
      span.status.message === undefined
        ? { code: span.status.code }
        : { code: span.status.code, message: span.status.message },
  };
}

function keyValuesOf(attributes: OtlpAttributes): object[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValueOf(value) }));
}

function anyValueOf(value: OtlpValue): object {
  if (value === null) return {};
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return { intValue: value === 0 ? 0 : value };
    return { doubleValue: Number.isFinite(value) ? value : String(value) };
  }
  if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValueOf) } };
  return { kvlistValue: { values: keyValuesOf(value as OtlpAttributes) } };
}
