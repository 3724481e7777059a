/**
 * The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), read by hand: varints,
 * fixed 32- and 64-bit values and length-delimited fields, with every read bounded by the message it sits in.
 * Truncated or malformed input throws a ProtobufWireError that names the byte offset; it never reads past a
 * message's end, and unknown fields of any wire type (groups included) can be skipped.
 */

export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  startGroup: 3,
  endGroup: 4,
  fixed32: 5,
} as const;

/** How deep deprecated groups may nest inside an unknown field before the input is refused. */
const MAX_GROUP_DEPTH = 64;

export class ProtobufWireError extends Error {
  override name = 'ProtobufWireError';
  constructor(
    message: string,
    /** The offset in the whole body where the problem is. */
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

/** Strings must be valid UTF-8: a fatal decoder throws instead of writing U+FFFD; a BOM is kept as sent. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class ProtobufReader {
  /** The offset of the next byte to read. */
  position = 0;
  /** The end of the message being read: reads never pass it. */
  #limit: number;
  /** The last varint's low and high 32 bits, both unsigned. */
  #low = 0;
  #high = 0;
  /** The field number and wire type of the last tag read. */
  field = 0;
  wireType = 0;
  /** Where the last tag started. */
  tagOffset = 0;
  readonly #view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.#limit = bytes.length;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Whether the current message has more fields. */
  more(): boolean {
    return this.position < this.#limit;
  }

  fail(message: string, offset = this.position): never {
    throw new ProtobufWireError(message, offset);
  }

  /** Reads a field's tag into `field` and `wireType`. */
  tag(): void {
    this.tagOffset = this.position;
    this.#varint('tag');
    const tag = this.#low;
    if (this.#high !== 0) this.fail('a field tag larger than 32 bits', this.tagOffset);
    this.field = tag >>> 3;
    this.wireType = tag & 7;
    if (this.field === 0) this.fail('a field numbered 0', this.tagOffset);
    if (this.wireType > 5) this.fail(`an invalid wire type ${this.wireType}`, this.tagOffset);
  }

  /** Refuses a known field sent with another wire type than its own. */
  expect(wireType: number, name: string): void {
    if (this.wireType !== wireType) {
      this.fail(
        `field ${this.field} (${name}) has wire type ${this.wireType}, not ${wireType}`,
        this.tagOffset,
      );
    }
  }

  /** A varint's low 32 bits, unsigned: enums, uint32 counts, bools. */
  uint32(): number {
    this.#varint('varint');
    return this.#low;
  }

  /** A varint as int32 (sign-extended to 10 bytes on the wire when negative). */
  int32(): number {
    this.#varint('varint');
    return this.#low | 0;
  }

  bool(): boolean {
    this.#varint('varint');
    return this.#low !== 0 || this.#high !== 0;
  }

  /** A varint as int64: a number when it is a safe integer, else its exact decimal text. */
  int64(): number | string {
    this.#varint('varint');
    // hi (signed) × 2³² + lo is exact whenever the result is a safe integer; otherwise take the slow path.
    const value = (this.#high | 0) * 4294967296 + this.#low;
    if (Number.isSafeInteger(value)) return value;
    return BigInt.asIntN(64, (BigInt(this.#high) << 32n) | BigInt(this.#low)).toString();
  }

  fixed32(): number {
    this.#need(4, 'fixed32');
    const value = this.#view.getUint32(this.position, true);
    this.position += 4;
    return value;
  }

  fixed64(): bigint {
    this.#need(8, 'fixed64');
    const value = this.#view.getBigUint64(this.position, true);
    this.position += 8;
    return value;
  }

  double(): number {
    this.#need(8, 'double');
    const value = this.#view.getFloat64(this.position, true);
    this.position += 8;
    return value;
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytesField(): Uint8Array {
    const length = this.#length();
    const start = this.position;
    this.position += length;
    return this.bytes.subarray(start, start + length);
  }

  /** A length-delimited field as a string: valid UTF-8 or a refusal. */
  string(): string {
    const start = this.position;
    const length = this.#length();
    const from = this.position;
    const to = from + length;
    this.position = to;
    const bytes = this.bytes;
    // Short ASCII (most keys and names) is faster by hand than through TextDecoder, and allocates no view.
    if (length <= 32) {
      let ascii = '';
      let i = from;
      for (; i < to; i++) {
        const byte = bytes[i] as number;
        if (byte >= 0x80) break;
        ascii += String.fromCharCode(byte);
      }
      if (i === to) return ascii;
    }
    try {
      return UTF8.decode(bytes.subarray(from, to));
    } catch {
      return this.fail('a string that is not valid UTF-8', start);
    }
  }

  /**
   * Enters an embedded message (a length-delimited field): reads are bounded by its end until `leave` is
   * called with the returned value.
   */
  enter(): number {
    const length = this.#length();
    const outer = this.#limit;
    this.#limit = this.position + length;
    return outer;
  }

  /** Leaves an embedded message; its fields must have ended exactly at its end. */
  leave(outer: number): void {
    if (this.position !== this.#limit) this.fail('a field that runs past the end of its message');
    this.#limit = outer;
  }

  /** Skips the field whose tag was just read, whatever its wire type. */
  skip(): void {
    this.#skip(this.wireType, this.field, 0);
  }

  #skip(wireType: number, field: number, depth: number): void {
    switch (wireType) {
      case WireType.varint:
        this.#varint('varint');
        return;
      case WireType.fixed64:
        this.#need(8, 'fixed64');
        this.position += 8;
        return;
      case WireType.lengthDelimited: {
        // Not `position += #length()`: that would add to the position before the length was read.
        const length = this.#length();
        this.position += length;
        return;
      }
      case WireType.fixed32:
        this.#need(4, 'fixed32');
        this.position += 4;
        return;
      case WireType.startGroup: {
        if (depth >= MAX_GROUP_DEPTH) this.fail(`groups nested more than ${MAX_GROUP_DEPTH} deep`);
        for (;;) {
          if (!this.more()) this.fail(`a group (field ${field}) without its end`);
          this.tag();
          if (this.wireType === WireType.endGroup) {
            if (this.field !== field) {
              this.fail(`a group end for field ${this.field} inside field ${field}'s group`, this.tagOffset);
            }
            return;
          }
          this.#skip(this.wireType, this.field, depth + 1);
        }
      }
      default:
        // An end-group tag outside any group.
        this.fail(`an unexpected group end (field ${field})`, this.tagOffset);
    }
  }

  #need(count: number, what: string): void {
    if (this.#limit - this.position < count) this.fail(`truncated ${what}`);
  }

  #length(): number {
    const start = this.position;
    this.#varint('length');
    const length = this.#low;
    if (this.#high !== 0 || length > this.#limit - this.position) {
      this.fail('a length-delimited field longer than what is left of its message', start);
    }
    return length;
  }

  /** Reads a varint of up to 10 bytes into #low and #high. */
  #varint(what: string): void {
    const start = this.position;
    const bytes = this.bytes;
    const limit = this.#limit;
    let position = this.position;
    if (position < limit) {
      const first = bytes[position] as number;
      if (first < 0x80) {
        this.position = position + 1;
        this.#low = first;
        this.#high = 0;
        return;
      }
    }
    let low = 0;
    let high = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (position >= limit) this.fail(`truncated ${what}`, start);
      const byte = bytes[position++] as number;
      low |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.#done(position, low, 0);
        return;
      }
    }
    if (position >= limit) this.fail(`truncated ${what}`, start);
    let byte = bytes[position++] as number;
    low |= (byte & 0x0f) << 28;
    high = (byte & 0x7f) >> 4;
    if (byte < 0x80) {
      this.#done(position, low, high);
      return;
    }
    for (let shift = 3; shift < 31; shift += 7) {
      if (position >= limit) this.fail(`truncated ${what}`, start);
      byte = bytes[position++] as number;
      high |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.#done(position, low, high);
        return;
      }
    }
    // The tenth byte holds bit 63 only.
    if (position >= limit) this.fail(`truncated ${what}`, start);
    byte = bytes[position++] as number;
    if (byte > 1) this.fail(`a ${what} longer than 64 bits`, start);
    this.#done(position, low, high | (byte << 31));
  }

  #done(position: number, low: number, high: number): void {
    this.position = position;
    this.#low = low >>> 0;
    this.#high = high >>> 0;
  }
}
