import type { PathSegment } from '#lib/validation/zod-issues.ts';

/**
 * JSON as the ledger takes it from a client: exactly what was sent, or a refusal that says where. Plain
 * `JSON.parse` changes content without a word — the last of two equal keys wins, `1e400` becomes Infinity
 * (stored as null), `12345678901234567890` loses digits, a `__proto__` key vanishes the moment the value is
 * copied, a lone surrogate turns into U+FFFD on its way into DynamoDB — and nests deeper than any
 * serializer can write back. This parser refuses each of those with the JSON path of the offending value
 * and accepts everything else as `JSON.parse` would.
 */

/** Deeper than any agent's real data, far shallower than a stack overflow. */
export const MAX_JSON_DEPTH = 64;

export class StrictJsonError extends Error {
  override name = 'StrictJsonError';
  constructor(
    /** Where the problem is, as path segments from the root (`[]` for the root itself). */
    readonly path: readonly PathSegment[],
    message: string,
    /** The character offset in the text. */
    readonly offset: number,
    /**
     * `syntax`: the text is not JSON (a truncated body, a stray comma); `content`: it is JSON, but holds a
     * value at `path` the ledger cannot keep as sent.
     */
    readonly kind: 'syntax' | 'content',
  ) {
    super(message);
  }
}

export interface StrictJsonOptions {
  /** How deep arrays and objects may nest; MAX_JSON_DEPTH unless told. */
  readonly maxDepth?: number;
  /**
   * Integers written without fraction or exponent that are not safe integers (beyond ±(2^53 − 1)) come back
   * as `bigint`, exactly, instead of being refused (or kept as a number when a double happens to hold them):
   * for formats whose 64-bit integers are JSON numbers, such as OTLP/JSON. Off unless told.
   */
  readonly bigIntegers?: boolean;
}

export function parseStrictJson(text: string, options: StrictJsonOptions = {}): unknown {
  const parser = new Parser(text, options.maxDepth ?? MAX_JSON_DEPTH, options.bigIntegers ?? false);
  parser.skipWhitespace();
  const value = parser.value(0);
  parser.skipWhitespace();
  if (parser.position < text.length) parser.fail('unexpected text after the JSON value');
  return value;
}

// Sticky patterns: each matches at `lastIndex` only. Strings: no raw control characters (RFC 8259 §7), and
// surrogates only in pairs, so a lone one fails the match (escaped ones are checked after decoding).
const STRING =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw control characters in strings
  /"((?:[^"\\\u0000-\u001f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*)"/y;
/** The common case: no escapes, no surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw control characters in strings
const PLAIN_STRING = /"([^"\\\u0000-\u001f\ud800-\udfff]*)"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const INTEGER_LITERAL = /^-?\d+$/;
const WHITESPACE = /[ \t\n\r]*/y;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

class Parser {
  position = 0;
  readonly #path: PathSegment[] = [];

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
    private readonly bigIntegers: boolean,
  ) {}

  fail(message: string, kind: 'syntax' | 'content' = 'syntax'): never {
    throw new StrictJsonError([...this.#path], message, this.position, kind);
  }

  skipWhitespace(): void {
    WHITESPACE.lastIndex = this.position;
    WHITESPACE.exec(this.text);
    this.position = WHITESPACE.lastIndex;
  }

  value(depth: number): unknown {
    const char = this.text[this.position];
    switch (char) {
      case '{':
        return this.#object(depth + 1);
      case '[':
        return this.#array(depth + 1);
      case '"':
        return this.#string();
      case 't':
        return this.#literal('true', true);
      case 'f':
        return this.#literal('false', false);
      case 'n':
        return this.#literal('null', null);
      default:
        if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.#number();
        return this.fail(
          char === undefined ? 'the JSON ends too early' : `unexpected character ${JSON.stringify(char)}`,
        );
    }
  }

  #enter(depth: number): void {
    if (depth > this.maxDepth)
      this.fail(`nests more than ${this.maxDepth} arrays and objects deep`, 'content');
    this.position++;
    this.skipWhitespace();
  }

  #object(depth: number): Record<string, unknown> {
    this.#enter(depth);
    const object: Record<string, unknown> = {};
    if (this.text[this.position] === '}') {
      this.position++;
      return object;
    }
    for (;;) {
      if (this.text[this.position] !== '"') this.fail('expected a quoted key');
      const key = this.#string();
      this.#path.push(key);
      if (key === '__proto__') this.fail('a key named "__proto__" is not accepted', 'content');
      if (Object.hasOwn(object, key))
        this.fail(`the key ${JSON.stringify(key)} appears twice in one object`, 'content');
      this.skipWhitespace();
      if (this.text[this.position] !== ':') this.fail('expected ":" after the key');
      this.position++;
      this.skipWhitespace();
      object[key] = this.value(depth);
      this.#path.pop();
      if (this.#endOfMember('}')) return object;
    }
  }

  #array(depth: number): unknown[] {
    this.#enter(depth);
    const array: unknown[] = [];
    if (this.text[this.position] === ']') {
      this.position++;
      return array;
    }
    for (;;) {
      this.#path.push(array.length);
      array.push(this.value(depth));
      this.#path.pop();
      if (this.#endOfMember(']')) return array;
    }
  }

  /** After a member: true past the closing bracket, false past a comma; anything else is refused there. */
  #endOfMember(closer: '}' | ']'): boolean {
    this.skipWhitespace();
    const next = this.text[this.position];
    if (next !== closer && next !== ',') this.fail(`expected "," or "${closer}"`);
    this.position++;
    if (next === closer) return true;
    this.skipWhitespace();
    return false;
  }

  #string(): string {
    PLAIN_STRING.lastIndex = this.position;
    const plain = PLAIN_STRING.exec(this.text);
    if (plain) {
      this.position = PLAIN_STRING.lastIndex;
      return plain[1] as string;
    }
    STRING.lastIndex = this.position;
    const match = STRING.exec(this.text);
    if (!match) {
      const end = this.text.indexOf('"', this.position + 1);
      if (LONE_SURROGATE.test(this.text.slice(this.position, end === -1 ? undefined : end))) {
        this.fail('holds a lone UTF-16 surrogate, which is not valid Unicode', 'content');
      }
      this.fail('is not a valid JSON string (unescaped control character, bad escape or no closing quote)');
    }
    const raw = match[1] as string;
    if (!raw.includes('\\')) {
      this.position = STRING.lastIndex;
      return raw;
    }
    const value = JSON.parse(match[0]) as string;
    if (raw.includes('\\u') && LONE_SURROGATE.test(value)) {
      this.fail('holds a lone UTF-16 surrogate, which is not valid Unicode', 'content');
    }
    this.position = STRING.lastIndex;
    return value;
  }

  #number(): number | bigint {
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail('is not a valid JSON number');
    const literal = match[0];
    const value = Number(literal);
    if (this.bigIntegers && !Number.isSafeInteger(value) && INTEGER_LITERAL.test(literal)) {
      this.position = NUMBER.lastIndex;
      return BigInt(literal);
    }
    if (!Number.isFinite(value))
      this.fail(`the number ${literal} is too large to store; send it as a string`, 'content');
    // Most literals are already the shortest form of their double; only the others need the digit check.
    if (String(value) !== literal && !sameDecimal(literal, String(value))) {
      this.fail(
        `the number ${literal} cannot be stored exactly (it would read back as ${value}); send it as a string`,
        'content',
      );
    }
    this.position = NUMBER.lastIndex;
    return value;
  }

  #literal<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.position)) {
      this.position += word.length;
      return value;
    }
    return this.fail(`unexpected character ${JSON.stringify(this.text[this.position])}`);
  }
}

/**
 * Whether two decimal literals denote the same number exactly (`1.50` and `1.5e0` do; `0.1` and the 17-digit
 * expansion of the double nearest it do not). Zero is zero whatever its sign.
 */
function sameDecimal(a: string, b: string): boolean {
  const x = normalize(a);
  const y = normalize(b);
  return (
    x.digits === y.digits && (x.digits === '' || (x.negative === y.negative && x.exponent === y.exponent))
  );
}

/** `-0012.3400e1` → negative, digits `1234`, exponent 3: the value is 0.1234 × 10³, negated. */
function normalize(literal: string): { negative: boolean; digits: string; exponent: number } {
  const match = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!match) return { negative: false, digits: literal, exponent: 0 };
  const [, sign, whole = '', fraction = '', exp = '0'] = match;
  let digits = whole + fraction;
  // Position of the decimal point relative to the start of `digits`, then shifted by the exponent.
  let point = whole.length + Number(exp);
  const leading = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(leading);
  point -= leading;
  digits = digits.replace(/0+$/, '');
  return { negative: sign === '-', digits, exponent: point };
}
