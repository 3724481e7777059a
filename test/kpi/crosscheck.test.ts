import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventSchema } from '#lib/events/schema.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import { isoWeekOf, weekBounds } from '#lib/kpi/weeks.ts';
import { PriceBook } from '#lib/pricing/price-table.ts';
import { createRng } from '#lib/util/seeded-random.ts';
import { generateKpiDataset, mondayOnOrBefore } from '../support/kpi-data.ts';
import { computeLikeJob, KpiRowIndex } from '../support/kpi-feed.ts';
import { computeKpisInDuckDb, diffKpis, type SqlKpis } from '../support/kpi-sql.ts';

// Prepare: ten weeks (2025-W49 … 2026-W06, across the ISO year boundary) of four workflows, and the same
// KPIs computed twice: by WeeklyKpis fed as the KPI job feeds it, and by DuckDB SQL written from the SPEC.
const dataset = generateKpiDataset();
const index = new KpiRowIndex(dataset.rows);
const prices = new PriceBook(dataset.priceTables);
const WEEK_MS = 7 * 86_400_000;
const cases = dataset.workflows.flatMap((workflowId) =>
  dataset.weekStartsMs.map((startMs) => ({ workflowId, week: isoWeekOf(startMs), startMs })),
);

let workDir: string;
let sqlRows: SqlKpis[] = [];
let parseMismatches: unknown[] = [];
const sqlRow = (workflowId: string, startMs: number) => {
  const row = sqlRows.find((r) => r.workflowId === workflowId && Date.parse(r.weekStart) === startMs);
  if (!row) throw new Error(`no SQL row for ${workflowId} at ${new Date(startMs).toISOString()}`);
  return row;
};

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'kpi-crosscheck-'));
  ({ kpis: sqlRows, parseMismatches } = await computeKpisInDuckDb({
    workDir,
    rows: dataset.rows,
    priceTables: dataset.priceTables,
    fromMs: dataset.fromMs,
    toMs: dataset.toMs,
  }));
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('the generated data set', () => {
  it('is valid ingest input whose occurredAt text reads back as the stored instant', () => {
    // Act
    const invalid = dataset.rows.filter((row) => !eventSchema.safeParse(row.event).success);
    const misread = dataset.rows.filter((row) => parseRfc3339(row.event.occurredAt) !== row.occurredAtMs);

    // Assess
    expect(invalid).toEqual([]);
    expect(misread).toEqual([]);
    expect(new Set(dataset.rows.map((row) => `${row.event.workflowId}/${row.event.eventId}`)).size).toBe(
      dataset.rows.length,
    );
  });

  it('holds the edge cases the cross-check is meant to exercise', () => {
    // Prepare
    const rows = dataset.rows;
    const byUnit = new Map<string, typeof rows>();
    for (const row of rows) {
      const key = `${row.event.workflowId}/${row.event.unitId}`;
      byUnit.set(key, [...(byUnit.get(key) ?? []), row]);
    }
    const units = [...byUnit.values()];
    const completions = (unit: typeof rows) => unit.filter((r) => r.event.type === 'unit.completed');
    const weekOf = (ms: number) => mondayOnOrBefore(ms);
    const actions = rows.flatMap((row) => (row.event.type === 'action' ? [row.event] : []));

    // Act
    const stats = {
      atMondayMidnight: rows.filter((r) => weekOf(r.occurredAtMs) === r.occurredAtMs).length,
      oneMsBeforeMonday: rows.filter((r) => weekOf(r.occurredAtMs + 1) === r.occurredAtMs + 1).length,
      offsets: new Set(rows.map((r) => /(Z|[+-]\d\d:\d\d)$/.exec(r.event.occurredAt)?.[1])).size,
      localDateDiffersFromUtc: rows.filter(
        (r) => r.event.occurredAt.slice(0, 10) !== new Date(r.occurredAtMs).toISOString().slice(0, 10),
      ).length,
      startedInEarlierWeek: units.filter((u) => {
        const done = completions(u)[0];
        return done && u.some((r) => weekOf(r.occurredAtMs) < weekOf(done.occurredAtMs));
      }).length,
      withoutUnitStarted: units.filter(
        (u) => completions(u).length > 0 && !u.some((r) => r.event.type === 'unit.started'),
      ).length,
      completedInTwoWeeks: units.filter(
        (u) => new Set(completions(u).map((r) => weekOf(r.occurredAtMs))).size > 1,
      ).length,
      completedTwiceInOneWeek: units.filter(
        (u) => completions(u).length > new Set(completions(u).map((r) => weekOf(r.occurredAtMs))).size,
      ).length,
      reviewedTwoPlusWeeksLater: units.filter((u) => {
        const done = completions(u)[0];
        return (
          done &&
          u.some(
            (r) =>
              r.event.type === 'review.verdict' &&
              weekOf(r.occurredAtMs) >= weekOf(done.occurredAtMs) + 2 * WEEK_MS,
          )
        );
      }).length,
      defects: rows.filter((r) => r.event.type === 'review.verdict' && r.event.verdict === 'defect').length,
      escaped: rows.filter((r) => r.event.type === 'review.verdict' && r.event.escaped === true).length,
      escalations: rows.filter((r) => r.event.type === 'unit.escalated').length,
      hitlWithApproval: actions.filter((a) => a.lane === 'hitl' && a.approval).length,
      hitlWithoutApproval: actions.filter((a) => a.lane === 'hitl' && !a.approval).length,
      withoutFlag: actions.filter((a) => !a.flag).length,
      withoutUsage: actions.filter((a) => !a.usage).length,
      violations: rows.filter((r) => r.killSwitchViolation).length,
      unpricedModelInUse: actions.filter((a) => a.model?.provider === 'local' && a.usage).length,
      unpricedToolInUse: actions.filter((a) => a.toolCalls?.some((c) => c.name === 'legacy_crm')).length,
      beforeAnyPriceTable: rows.filter((r) => r.occurredAtMs < Date.parse('2025-12-03T00:00:00Z')).length,
      // The second table takes effect on Wednesday 2026-01-21: its week has events on both sides.
      weekOfPriceChange: [
        rows.filter(
          (r) => r.occurredAtMs >= Date.parse('2026-01-19') && r.occurredAtMs < Date.parse('2026-01-21'),
        ),
        rows.filter(
          (r) => r.occurredAtMs >= Date.parse('2026-01-21') && r.occurredAtMs < Date.parse('2026-01-26'),
        ),
      ].map((list) => list.length),
    };

    // Assess
    expect(stats.atMondayMidnight).toBeGreaterThan(20);
    expect(stats.oneMsBeforeMonday).toBeGreaterThan(20);
    expect(stats.offsets).toBeGreaterThanOrEqual(10);
    expect(stats.localDateDiffersFromUtc).toBeGreaterThan(1000);
    expect(stats.startedInEarlierWeek).toBeGreaterThan(100);
    expect(stats.withoutUnitStarted).toBeGreaterThan(50);
    expect(stats.completedInTwoWeeks).toBeGreaterThan(10);
    expect(stats.completedTwiceInOneWeek).toBeGreaterThan(0);
    expect(stats.reviewedTwoPlusWeeksLater).toBeGreaterThan(20);
    expect(stats.defects).toBeGreaterThan(50);
    expect(stats.escaped).toBeGreaterThan(10);
    expect(stats.escalations).toBeGreaterThan(100);
    expect(stats.hitlWithApproval).toBeGreaterThan(100);
    expect(stats.hitlWithoutApproval).toBeGreaterThan(20);
    expect(stats.withoutFlag).toBeGreaterThan(20);
    expect(stats.withoutUsage).toBeGreaterThan(20);
    expect(stats.violations).toBeGreaterThan(20);
    expect(stats.unpricedModelInUse).toBeGreaterThan(20);
    expect(stats.unpricedToolInUse).toBeGreaterThan(20);
    expect(stats.beforeAnyPriceTable).toBeGreaterThan(20);
    expect(Math.min(...stats.weekOfPriceChange)).toBeGreaterThan(100);
  });
});

describe('WeeklyKpis against DuckDB SQL written from the SPEC', () => {
  it('reads every occurredAt (with its offset) as the instant the ledger stored', () => {
    expect(parseMismatches).toEqual([]);
  });

  it('has one SQL row per workflow and week, named and bounded as lib/kpi/weeks.ts names them', () => {
    // Assess
    expect(sqlRows).toHaveLength(cases.length);
    for (const { workflowId, week, startMs } of cases) {
      const row = sqlRow(workflowId, startMs);
      expect(row.week).toBe(week);
      expect(weekBounds(row.week)).toEqual({ startMs, endMs: startMs + WEEK_MS });
    }
  });

  it('covers weeks with and without throughput', () => {
    const empty = sqlRows.filter((row) => row.throughput === 0);
    expect(empty.length).toBeGreaterThanOrEqual(5); // lead-qualify's freeze week, invoice-match's first weeks
    expect(empty.some((row) => row.actions > 0)).toBe(true); // cost and audit, but no cohort
    expect(sqlRows.filter((row) => row.throughput > 0).length).toBeGreaterThanOrEqual(30);
    expect(sqlRows.some((row) => row.unpriced.humanReview)).toBe(true);
    expect(sqlRows.some((row) => row.killSwitchViolations > 0 && row.boundaryViolations > 0)).toBe(true);
    // Catches beside escapes, some credited to more than one reviewer, and unlisted tools.
    expect(sqlRows.some((row) => row.catches > 0 && row.escapedUnits > 0)).toBe(true);
    expect(sqlRows.some((row) => Object.keys(row.catchesByReviewer).length > 1)).toBe(true);
    expect(sqlRows.some((row) => row.unlistedToolActions > 0 && row.unlistedTools.length > 0)).toBe(true);
  });

  it.each(cases)('$workflowId $week: every field agrees', ({ workflowId, week, startMs }) => {
    // Act
    const record = computeLikeJob(index, workflowId, week, prices);

    // Assess
    expect(diffKpis(record, sqlRow(workflowId, startMs))).toEqual([]);
  });

  it('has teeth: a job that forgot the unit history would be caught', () => {
    // Act: only the week's events, no addUnitHistory (starts in earlier weeks, late reviews are lost).
    const caught = cases.filter(({ workflowId, week, startMs }) => {
      const kpis = new WeeklyKpis(workflowId, week, prices);
      for (const row of index.range(workflowId, startMs, startMs + WEEK_MS)) kpis.addWeekEvent(row);
      return diffKpis(kpis.finish(), sqlRow(workflowId, startMs)).length > 0;
    });

    // Assess
    expect(caught.length).toBeGreaterThan(cases.length / 2);
  });

  // Both feeds shuffled (seeded), as a job reading another index or shard layout would see them.
  const shuffled = () => {
    const rng = createRng(7);
    const shuffle = <T>(items: T[]): T[] => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
      }
      return copy;
    };
    return cases.map(({ workflowId, week }) => ({
      label: `${workflowId} ${week}`,
      inOrder: computeLikeJob(index, workflowId, week, prices),
      shuffled: computeLikeJob(index, workflowId, week, prices, shuffle),
    }));
  };

  it('gives the same counts, rates and quantiles in any event order, and USD within a micro-dollar', () => {
    for (const { label, inOrder, shuffled: other } of shuffled()) {
      expect(diffKpis(other, inOrder), label).toEqual([]);
      expect({ ...other, cost: null, costPerUnitUsd: null }, label).toStrictEqual({
        ...inOrder,
        cost: null,
        costPerUnitUsd: null,
      });
    }
  });

  // Prices such as $0.3 or $0.5 per million tokens often put exact sums on a half micro-dollar, where a
  // feed-order float sum would decide the rounding; WeeklyKpis sums exact counts and prices them once.
  it('gives a deep-equal record for every week in any event order', () => {
    const differing = shuffled().filter(({ inOrder, shuffled: other }) => !isDeepStrictEqual(inOrder, other));
    expect(differing.map(({ label }) => label)).toEqual([]);
  });

  it('keeps cost.totalUsd within a micro-dollar of its parts', () => {
    for (const { workflowId, week } of cases) {
      const { cost } = computeLikeJob(index, workflowId, week, prices);
      expect(
        Math.abs(cost.totalUsd - (cost.modelUsd + cost.toolUsd + cost.humanReviewUsd)),
      ).toBeLessThanOrEqual(1.000_001e-6);
    }
  });
});
