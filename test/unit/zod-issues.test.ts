import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { formatIssues, parseWithIssues } from '#lib/validation/zod-issues.ts';

const schema = z.strictObject({
  name: z.string(),
  count: z.number().int('must be a whole number'),
  phase: z.enum(['baseline', 'hitl']),
  items: z.array(z.strictObject({ id: z.string() })),
  kind: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('a') }),
    z.strictObject({ type: z.literal('b') }),
  ]),
});

describe('parseWithIssues: one way to say what is wrong, by JSON path', () => {
  it('says "is required" for a missing value, naming the options of an enum', () => {
    // Act
    const result = parseWithIssues(schema, { items: [], count: 1, kind: { type: 'a' } });
    // Assess
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(formatIssues(result.issues)).toEqual([
      '$.name: is required',
      '$.phase: is required (one of "baseline", "hitl")',
    ]);
  });

  it('rewords zod defaults, keeps a schema’s own message, and names unknown fields', () => {
    const result = parseWithIssues(
      schema,
      {
        name: 7,
        count: 2.5,
        phase: 'hitl',
        items: [{ id: 'x', extra: 1 }],
        kind: { type: 'c' },
        tool_calls: [],
      },
      {
        base: ['events', 3],
        unknownFieldAdvice: (path) => (path.length === 2 ? 'put it in metadata' : undefined),
      },
    );
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.issues).toEqual([
      { path: '$.events[3].name', message: 'must be a string, not a number' },
      { path: '$.events[3].count', message: 'must be a whole number' },
      { path: '$.events[3].items[0]', message: 'unknown field extra' },
      { path: '$.events[3].kind.type', message: 'must be one of a, b' },
      { path: '$.events[3]', message: 'unknown field tool_calls; put it in metadata' },
    ]);
  });

  it('returns the parsed data when there is nothing to say', () => {
    const value = { name: 'n', count: 1, phase: 'baseline', items: [{ id: 'i' }], kind: { type: 'b' } };
    expect(parseWithIssues(schema, value)).toEqual({ success: true, data: value });
  });
});
