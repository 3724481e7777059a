import { describe, expect, it } from 'vitest';
import { evaluateDrift } from '#lib/drift/rule.ts';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import { weeksToCompute } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { PriceBook, priceTableSchema } from '#lib/pricing/price-table.ts';

const record = (week: string, reviewedUnits: number, defectiveUnits: number): KpiRecord => ({
  ...new WeeklyKpis('code-review', week, new PriceBook([])).finish(),
  reviewedUnits,
  defectiveUnits,
  defectRate: reviewedUnits === 0 ? null : defectiveUnits / reviewedUnits,
});

describe('evaluateDrift', () => {
  it.each([
    ['+60% on 20 reviews each', record('2026-W11', 20, 8), record('2026-W10', 20, 5), true],
    ['+20%', record('2026-W11', 20, 6), record('2026-W10', 20, 5), false],
    ['exactly +25% (the limit is "more than")', record('2026-W11', 40, 10), record('2026-W10', 40, 8), false],
    ['any defect after a clean week', record('2026-W11', 20, 1), record('2026-W10', 20, 0), true],
    ['a drop', record('2026-W11', 20, 2), record('2026-W10', 20, 5), false],
    ['too few reviews this week', record('2026-W11', 19, 19), record('2026-W10', 20, 1), false],
    ['too few reviews the week before', record('2026-W11', 20, 19), record('2026-W10', 19, 1), false],
  ])('%s → pause %s', (_case, current, previous, pause) => {
    expect(evaluateDrift(current, previous, 20).pause).toBe(pause);
  });

  it('gives the figures in its reason', () => {
    expect(evaluateDrift(record('2026-W11', 20, 8), record('2026-W10', 20, 5), 20).reason).toBe(
      'drift: defect rate 40.0% (8 of 20 reviewed) in 2026-W11 vs 25.0% (5 of 20 reviewed) in 2026-W10, up 60% (limit +25%)',
    );
  });

  it('does nothing without both records', () => {
    expect(evaluateDrift(undefined, record('2026-W10', 20, 5), 20)).toMatchObject({ pause: false });
    expect(evaluateDrift(record('2026-W11', 20, 5), undefined, 20)).toMatchObject({ pause: false });
  });
});

describe('weeksToCompute', () => {
  const now = Date.parse('2026-11-24T08:00:00Z'); // a Tuesday of 2026-W48
  it('is the week that just ended by default, the last n on a recompute, or the one asked for', () => {
    expect(weeksToCompute({}, now)).toEqual(['2026-W47']);
    expect(weeksToCompute({ recomputeWeeks: 4 }, now)).toEqual([
      '2026-W44',
      '2026-W45',
      '2026-W46',
      '2026-W47',
    ]);
    expect(weeksToCompute({ week: '2026-W01' }, now)).toEqual(['2026-W01']);
    expect(() => weeksToCompute({ week: '2026-W54' }, now)).toThrow('2026 has no week 54');
  });
});

describe('price tables', () => {
  const valid = {
    effectiveFrom: '2026-01-01',
    currency: 'USD' as const,
    models: { 'openai/gpt-5': { inputPerMillion: 1.25, outputPerMillion: 10 } },
    tools: { search: { perCall: 0.005 } },
    humanReviewPerHour: 45,
  };

  it('accepts the SPEC format, cached rate optional', () => {
    expect(priceTableSchema.safeParse(valid).success).toBe(true);
  });

  it.each([
    ['a model key without provider', { models: { 'gpt-5': { inputPerMillion: 1, outputPerMillion: 1 } } }],
    ['a negative price', { tools: { search: { perCall: -0.1 } } }],
    ['another currency', { currency: 'EUR' }],
    ['an impossible date', { effectiveFrom: '2026-02-30x' }],
  ])('refuses %s', (_case, override) => {
    expect(priceTableSchema.safeParse({ ...valid, ...override }).success).toBe(false);
  });

  it('prices an instant with the newest table effective on or before it', () => {
    const book = new PriceBook([valid, { ...valid, effectiveFrom: '2026-06-01', humanReviewPerHour: 50 }]);
    expect(book.tableAt(Date.parse('2025-12-31T23:59:59Z'))).toBeUndefined();
    expect(book.tableAt(Date.parse('2026-05-31T23:59:59.999Z'))?.humanReviewPerHour).toBe(45);
    expect(book.tableAt(Date.parse('2026-06-01T00:00:00Z'))?.humanReviewPerHour).toBe(50);
  });
});
