import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import type { KpiStore } from '#lib/kpi/job.ts';
import { PriceBook, type PriceStore, type PriceTable } from '#lib/pricing/price-table.ts';

/** The promises of `KpiStore` (lib/kpi/job.ts) and `PriceStore` (lib/pricing), run against the fake and DynamoDB. */
export function describeKpiStoreContract(name: string, makeStore: () => KpiStore & PriceStore): void {
  describe(`KpiStore and PriceStore contract: ${name}`, () => {
    let store: KpiStore & PriceStore;
    let workflowId: string;

    beforeEach(() => {
      store = makeStore();
      workflowId = `contract-${randomUUID().slice(0, 12)}`;
    });

    it('gives back a record exactly as computed, the latest put of a week standing', async () => {
      const record = {
        ...new WeeklyKpis(workflowId, '2026-W10', new PriceBook([])).finish(),
        throughput: 3,
        cycleTimeMedianSeconds: 7200.5,
        defectRate: 1 / 3,
        boundaryViolations: 2,
        unpriced: { models: ['openai/gpt-5'], tools: [], humanReview: true },
      };
      await store.putRecord({ ...record, throughput: 1 }, '2026-03-10T06:00:00.000Z');
      await store.putRecord(record, '2026-03-11T06:00:00.000Z');
      expect(await store.getRecord(workflowId, '2026-W10')).toEqual(record);
      expect(await store.getRecord(workflowId, '2026-W11')).toBeUndefined();
      expect(await store.getRecord(`${workflowId}-other`, '2026-W10')).toBeUndefined();
    });

    it('lists every price table, oldest effectiveFrom first', async () => {
      // Prepare: dates of this test's own (the price tables are not per workflow)
      const year = 2100 + Math.floor(Math.random() * 800);
      const table = (date: string, inputPerMillion: number): PriceTable => ({
        effectiveFrom: `${year}-${date}`,
        currency: 'USD',
        models: { 'anthropic/claude-sonnet': { inputPerMillion, outputPerMillion: 15 } },
        tools: { lookup_order: { perCall: 0.002 } },
        humanReviewPerHour: 60,
      });
      await store.putTable(table('06-01', 3));
      await store.putTable(table('01-01', 2));
      await store.putTable(table('03-01', 1));

      // Act
      const tables = await store.listTables();

      // Assess
      expect(tables.filter((t) => t.effectiveFrom.startsWith(`${year}-`))).toEqual([
        table('01-01', 2),
        table('03-01', 1),
        table('06-01', 3),
      ]);
      const dates = tables.map((t) => t.effectiveFrom);
      expect(dates).toEqual([...dates].sort());
    });
  });
}
