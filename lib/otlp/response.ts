import type { OtlpEncoding } from '#lib/otlp/spans.ts';

/**
 * The bodies an OTLP/HTTP trace endpoint answers with, in the request's encoding: an
 * `ExportTraceServiceResponse` on success (with `partial_success` only when some spans were rejected, as
 * the OTLP spec requires), and a `google.rpc.Status` with a 4xx or 5xx.
 */

/** What the ledger did not store of a request: how many spans, and why in a few words. */
export interface TracePartialSuccess {
  readonly rejectedSpans: number;
  readonly errorMessage: string;
}

/**
 * `ExportTraceServiceResponse{partial_success=1: ExportTracePartialSuccess{rejected_spans=1 int64,
 * error_message=2 string}}`. Without `partial` (everything stored): an empty message, `{}` in JSON. In JSON,
 * `rejectedSpans` is a number (OTLP/JSON readers take int64 as numbers or strings; a count is always safe).
 */
export function encodeTraceResponse(
  partial: TracePartialSuccess | undefined,
  encoding: OtlpEncoding,
): Uint8Array {
  if (encoding === 'json') {
    return jsonBytes(
      partial === undefined
        ? {}
        : { partialSuccess: { rejectedSpans: partial.rejectedSpans, errorMessage: partial.errorMessage } },
    );
  }
  if (partial === undefined) return new Uint8Array(0);
  const inner = new ProtobufWriter();
  if (partial.rejectedSpans !== 0) inner.varintField(1, partial.rejectedSpans);
  if (partial.errorMessage !== '') inner.stringField(2, partial.errorMessage);
  return new ProtobufWriter().bytesField(1, inner.finish()).finish();
}

/**
 * `google.rpc.Status{code=1 int32, message=2 string}`, the body of OTLP/HTTP's 4xx and 5xx answers; in
 * JSON `{"code":…,"message":…}`.
 */
export function encodeStatus(code: number, message: string, encoding: OtlpEncoding): Uint8Array {
  if (encoding === 'json') return jsonBytes({ code, message });
  const writer = new ProtobufWriter();
  if (code !== 0) writer.varintField(1, code);
  if (message !== '') writer.stringField(2, message);
  return writer.finish();
}

function jsonBytes(value: object): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Just enough of a protobuf writer for the two small messages above. */
class ProtobufWriter {
  readonly #bytes: number[] = [];

  varintField(field: number, value: number): this {
    this.#varint(field << 3);
    if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not an integer`);
    // Negative int32/int64 values are their 64-bit two's complement, 10 bytes.
    let rest = BigInt.asUintN(64, BigInt(value));
    while (rest >= 0x80n) {
      this.#bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.#bytes.push(Number(rest));
    return this;
  }

  stringField(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  bytesField(field: number, value: Uint8Array): this {
    this.#varint((field << 3) | 2);
    this.#varint(value.length);
    for (const byte of value) this.#bytes.push(byte);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  #varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.#bytes.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.#bytes.push(rest);
  }
}
