import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, parseStrictJson, StrictJsonError } from '#lib/json/strict-json.ts';

/** The error parseStrictJson throws for `text`, or undefined when it accepts it. */
function refusal(
  text: string,
): { path: readonly (string | number)[]; message: string; kind: StrictJsonError['kind'] } | undefined {
  try {
    parseStrictJson(text);
    return undefined;
  } catch (error) {
    if (!(error instanceof StrictJsonError)) throw error;
    return { path: error.path, message: error.message, kind: error.kind };
  }
}

describe('parseStrictJson: exactly what was sent, or a refusal that says where', () => {
  it('reads what JSON.parse reads, for any JSON a serializer writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        // A key named __proto__ is refused on purpose (below); everything else must read the same.
        fc.pre(!text.includes('"__proto__"'));
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('reads pretty-printed JSON, escapes and surrogate pairs', () => {
    expect(
      parseStrictJson(' {\n "a" : [ 1 , -2.5e3 , true , null ],\t"é\\n\\u00e9": "🙂\\ud83d\\ude42" } '),
    ).toEqual({
      a: [1, -2500, true, null],
      'é\né': '🙂🙂',
    });
    expect(parseStrictJson('1.50')).toBe(1.5);
    expect(parseStrictJson('-0')).toBe(-0);
  });

  it.each([
    [
      'a key twice in one object',
      '{"events":[{"eventId":"a","eventId":"b"}]}',
      ['events', 0, 'eventId'],
      'appears twice',
      'content',
    ],
    ['a top-level key twice', '{"events":[],"events":[]}', ['events'], 'appears twice', 'content'],
    [
      'a __proto__ key',
      '{"metadata":{"__proto__":{"admin":true}}}',
      ['metadata', '__proto__'],
      '"__proto__"',
      'content',
    ],
    ['a number too large for a double', '{"n":1e400}', ['n'], 'too large', 'content'],
    [
      'a number that would lose digits',
      '{"n":12345678901234567890}',
      ['n'],
      'cannot be stored exactly',
      'content',
    ],
    ['a tiny number that would read back as 0', '[1e-400]', [0], 'cannot be stored exactly', 'content'],
    ['an escaped lone surrogate', '{"unitId":"\\ud800"}', ['unitId'], 'lone UTF-16 surrogate', 'content'],
    ['a raw lone surrogate', `{"unitId":"a${'\ud800'}b"}`, ['unitId'], 'lone UTF-16 surrogate', 'content'],
    ['a raw control character in a string', '{"a":"x\u0001"}', ['a'], 'not a valid JSON string', 'syntax'],
    ['text after the value', '{} {}', [], 'after the JSON value', 'syntax'],
    ['a trailing comma', '[1,]', [1], 'unexpected character', 'syntax'],
    ['an unquoted key', '{a:1}', [], 'quoted key', 'syntax'],
    ['a truncated body', '{"a":[1,2', ['a'], 'expected "," or "]"', 'syntax'],
  ])('refuses %s, naming where', (_what, text, path, message, kind) => {
    const refused = refusal(text);
    expect(refused?.path).toEqual(path);
    expect(refused?.message).toContain(message);
    // Syntax errors are the body's (answered at `$`); content errors are answered at their path.
    expect(refused?.kind).toBe(kind);
  });

  it(`takes ${MAX_JSON_DEPTH} levels of nesting and refuses one more, without overflowing the stack`, () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(refusal(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(refusal(nested(MAX_JSON_DEPTH + 1))?.message).toBe(
      `nests more than ${MAX_JSON_DEPTH} arrays and objects deep`,
    );
    // The case from the issue: ~2,300 arrays deep inside a tool call's parameters.
    const deep = `{"toolCalls":[{"parameters":${nested(2300)}}]}`;
    const refused = refusal(deep);
    expect(refused?.message).toContain('nests more than');
    expect(refused?.path.slice(0, 3)).toEqual(['toolCalls', 0, 'parameters']);
  });
});
