import { describe, expect, it } from 'vitest';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import { kpiRecordSchema } from '#lib/kpi/record.ts';
import { PriceBook } from '#lib/pricing/price-table.ts';

const computed = {
  ...new WeeklyKpis('code-review', '2026-W10', new PriceBook([])).finish(),
  boundaryViolations: 3,
};

describe('kpiRecordSchema: a stored KPI record read back', () => {
  it('reads a record as it was computed', () => {
    expect(kpiRecordSchema.parse(JSON.parse(JSON.stringify(computed)))).toEqual(computed);
  });

  it('reads a record from before boundary checks with boundaryViolations null ("not counted"), not 0', () => {
    const { boundaryViolations: _, ...old } = computed;
    expect(kpiRecordSchema.parse(old)).toEqual({ ...old, boundaryViolations: null });
  });

  it('refuses what is not a KPI record rather than mistyping it', () => {
    expect(() => kpiRecordSchema.parse({ ...computed, throughput: '3' })).toThrow();
    const { missingFields: _, ...withoutCounts } = computed;
    expect(() => kpiRecordSchema.parse(withoutCounts)).toThrow();
  });
});
