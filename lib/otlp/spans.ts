/**
 * OTLP trace data as the ledger reads it, the same whichever encoding brought it (OTLP/HTTP protobuf or
 * OTLP/JSON): `decode.ts` makes these from a request body, `map-spans.ts` makes ledger events of them, and
 * the traces handler archives them (with personal attributes hashed) so events can be derived again.
 */

/**
 * An attribute value. `int64` values are numbers when they are safe integers and decimal strings
 * otherwise (never silently rounded); `bytes` are base64 strings; arrays and key-value lists nest.
 */
export type OtlpValue = string | number | boolean | null | readonly OtlpValue[] | OtlpAttributes;
export interface OtlpAttributes {
  readonly [key: string]: OtlpValue;
}

/** OTLP's `Status.code`: 0 unset, 1 ok, 2 error. */
export type OtlpStatusCode = 0 | 1 | 2;

export interface OtlpSpanEvent {
  readonly name: string;
  readonly timeUnixNano: bigint;
  readonly attributes: OtlpAttributes;
}

/** One span with what it inherits from its `ResourceSpans` and `ScopeSpans`. */
export interface OtlpSpan {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** 16 lowercase hex digits; absent for a root span. */
  readonly parentSpanId?: string;
  readonly name: string;
  /** OTLP's `SpanKind`: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: OtlpAttributes;
  readonly events: readonly OtlpSpanEvent[];
  readonly status: { readonly code: OtlpStatusCode; readonly message?: string };
  /** The attributes of the span's resource (`service.name` and the like). */
  readonly resource: OtlpAttributes;
  readonly scope: { readonly name: string; readonly version?: string };
}

/** The encodings of OTLP/HTTP, by their media types. */
export type OtlpEncoding = 'protobuf' | 'json';

/** A span the ledger did not store, and why; summed into the response's `partialSuccess`. */
export interface RejectedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly reason: string;
}
