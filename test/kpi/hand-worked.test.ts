import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import { validateBatch } from '#lib/events/validate.ts';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { InvalidWeekError, isoWeekOf, shiftWeek, weekBounds } from '#lib/kpi/weeks.ts';
import { eventsFromSpans } from '#lib/otlp/map-spans.ts';
import type { OtlpAttributes, OtlpSpan } from '#lib/otlp/spans.ts';
import { PriceBook, type PriceTable } from '#lib/pricing/price-table.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import type { KpiRow } from '../support/kpi-data.ts';
import { computeLikeJob, KpiRowIndex } from '../support/kpi-feed.ts';
import { computeKpisInDuckDb, type SqlKpis } from '../support/kpi-sql.ts';
import { TEST_PRICES } from '../support/reviewed-unit.ts';

// Small explicit event lists with every number worked out by hand in the comments. Each case is checked
// against WeeklyKpis (fed as the KPI job feeds it) and, where it is about a KPI, against the DuckDB SQL too.
//
// Calendar used below (ISO weeks, UTC):
//   2026-W10 = Mon 2026-03-02 00:00Z … Mon 2026-03-09 00:00Z
//   2026-W11 = Mon 2026-03-09 00:00Z … Mon 2026-03-16 00:00Z
//   2026-W12 = Mon 2026-03-16 … 03-23, 2026-W14 = Mon 2026-03-30 … 04-06

const WF = 'support-triage';

// Table A from 2026-01-01, table B from Wednesday 2026-03-11 (mid-week in 2026-W11).
const TABLE_A: PriceTable = TEST_PRICES;
const TABLE_B: PriceTable = {
  effectiveFrom: '2026-03-11',
  currency: 'USD',
  models: {
    'anthropic/claude-sonnet': { inputPerMillion: 6, outputPerMillion: 30, cachedInputPerMillion: 0.6 },
  },
  tools: { lookup_order: { perCall: 0.004 } },
  humanReviewPerHour: 90,
};
const TABLES = [TABLE_A, TABLE_B];

let seq = 0;
/** An event as ingest stores it: occurredAtMs is what the ledger's own RFC 3339 reader makes of the text. */
function row(
  type: LedgerEvent['type'],
  unitId: string,
  occurredAt: string,
  fields: Record<string, unknown> = {},
  killSwitchViolation = false,
): KpiRow {
  const occurredAtMs = parseRfc3339(occurredAt);
  if (occurredAtMs === undefined) throw new Error(`bad timestamp ${occurredAt}`);
  const event = {
    eventId: `hw-${++seq}`,
    type,
    workflowId: WF,
    unitId,
    occurredAt,
    ...fields,
  } as LedgerEvent;
  return killSwitchViolation ? { event, occurredAtMs, killSwitchViolation } : { event, occurredAtMs };
}

/** A fully replayable action; `usage` defaults to none, so it costs nothing unless a case says so. */
function action(
  unitId: string,
  occurredAt: string,
  fields: Record<string, unknown> = {},
  violation = false,
): KpiRow {
  return row(
    'action',
    unitId,
    occurredAt,
    {
      agent: { id: 'triage-bot', version: '1.4.0' },
      lane: 'autonomous',
      flag: { version: 3, checkedAt: occurredAt },
      prompt: { templateId: 'triage', templateVersion: '7' },
      model: { provider: 'anthropic', name: 'claude-sonnet', version: '2026-01' },
      retrieval: [],
      toolCalls: [],
      output: { text: 'done' },
      ...fields,
    },
    violation,
  );
}
const started = (unitId: string, at: string) => row('unit.started', unitId, at);
const completed = (unitId: string, at: string) => row('unit.completed', unitId, at);
const verdict = (
  unitId: string,
  at: string,
  v: 'pass' | 'defect',
  reviewMinutes: number,
  escaped?: boolean,
) =>
  row('review.verdict', unitId, at, {
    reviewerId: 'reviewer-1',
    verdict: v,
    reviewMinutes,
    ...(escaped === undefined ? {} : { escaped }),
  });

/** WeeklyKpis, fed like the KPI job. */
function kpis(rows: readonly KpiRow[], week: string, tables: readonly PriceTable[] = TABLES): KpiRecord {
  return computeLikeJob(new KpiRowIndex(rows), WF, week, new PriceBook(tables));
}

let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'kpi-hand-'));
});
afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** The DuckDB SQL's row for `week`. */
async function sql(
  rows: readonly KpiRow[],
  week: string,
  tables: readonly PriceTable[] = TABLES,
): Promise<SqlKpis> {
  const { startMs, endMs } = weekBounds(week);
  const { kpis: result } = await computeKpisInDuckDb({
    workDir,
    rows,
    priceTables: tables,
    fromMs: startMs,
    toMs: endMs,
  });
  const found = result.find((r) => r.workflowId === WF);
  if (!found) throw new Error('no SQL row');
  return found;
}

/** Asserts the same expected fields on the record and on the SQL row. */
async function expectBoth(
  rows: readonly KpiRow[],
  week: string,
  expected: Record<string, unknown>,
  tables = TABLES,
) {
  const record = kpis(rows, week, tables);
  expect(record, 'WeeklyKpis').toMatchObject(expected);
  expect(await sql(rows, week, tables), 'DuckDB SQL').toMatchObject(expected);
  return record;
}

describe('week boundaries: Monday 00:00 UTC', () => {
  // Four units, each started Sunday 2026-03-08 20:00Z:
  //   u1 completed 2026-03-08T23:59:59.999Z            → W10, cycle 3 h 59 m 59.999 s = 14 399.999 s
  //   u2 completed 2026-03-09T00:00:00.000Z            → W11, cycle 4 h = 14 400 s
  //   u3 completed 2026-03-09T01:30:00+02:00 (= Sun 23:30Z, local Monday) → W10, cycle 3.5 h = 12 600 s
  //   u4 completed 2026-03-08T17:00:00-08:00 (= Mon 01:00Z, local Sunday) → W11, cycle 5 h = 18 000 s
  // W10: throughput 2, median (12 600 + 14 399.999) / 2 = 13 499.9995, P90 12 600 + 0.9 × 1 799.999 = 14 219.9991
  // W11: throughput 2, median (14 400 + 18 000) / 2 = 16 200, P90 14 400 + 0.9 × 3 600 = 17 640
  // Plus one action at 23:59:59.999Z (W10) and one at 00:00:00.000Z (W11), 1M input tokens each at table A
  // ($3/M): $3 in each week.
  const usage = { usage: { inputTokens: 1_000_000, outputTokens: 0 } };
  const rows = [
    ...['u1', 'u2', 'u3', 'u4'].map((u) => started(u, '2026-03-08T20:00:00Z')),
    completed('u1', '2026-03-08T23:59:59.999Z'),
    completed('u2', '2026-03-09T00:00:00.000Z'),
    completed('u3', '2026-03-09T01:30:00+02:00'),
    completed('u4', '2026-03-08T17:00:00-08:00'),
    action('u1', '2026-03-08T23:59:59.999Z', usage),
    action('u2', '2026-03-09T00:00:00.000Z', usage),
  ];

  it('puts Sunday 23:59:59.999Z and a +02:00 time that is Monday locally in the earlier week', async () => {
    const record = await expectBoth(rows, '2026-W10', {
      throughput: 2,
      cycleTimeMedianSeconds: 13_499.9995,
      actions: 1,
      cost: { modelUsd: 3, toolUsd: 0, humanReviewUsd: 0, totalUsd: 3 },
      costPerUnitUsd: 1.5,
    });
    expect(record.cycleTimeP90Seconds).toBeCloseTo(14_219.9991, 6);
    expect(record.weekStart).toBe('2026-03-02T00:00:00.000Z');
    expect(record.weekEnd).toBe('2026-03-09T00:00:00.000Z');
  });

  it('puts Monday 00:00:00.000Z and a -08:00 time that is Sunday locally in the later week', async () => {
    await expectBoth(rows, '2026-W11', {
      throughput: 2,
      cycleTimeMedianSeconds: 16_200,
      cycleTimeP90Seconds: 17_640,
      actions: 1,
      cost: { modelUsd: 3, totalUsd: 3 },
    });
  });
});

describe('cohort and unit history', () => {
  it('counts a unit started in W−1 and completed in W in W only, with its whole cycle time', async () => {
    // u5: started Fri 2026-03-06 12:00Z (W10), action 12:05Z, completed Tue 2026-03-10 12:00Z (W11).
    // Cycle: 4 days = 345 600 s. W10 sees its action (cost, audit) but no completion: throughput 0.
    const rows = [
      started('u5', '2026-03-06T12:00:00Z'),
      action('u5', '2026-03-06T12:05:00Z'),
      completed('u5', '2026-03-10T12:00:00Z'),
    ];
    await expectBoth(rows, '2026-W11', {
      throughput: 1,
      cycleTimeMedianSeconds: 345_600,
      cycleTimeP90Seconds: 345_600,
      actions: 0,
    });
    await expectBoth(rows, '2026-W10', { throughput: 0, cycleTimeMedianSeconds: null, actions: 1 });
  });

  it('counts a review that arrives in W+3 for W’s defect and escape rates, and its cost in W+3', async () => {
    // u6 completed Thu 2026-03-12 (W11); defect verdict, escaped, 12 min, on Thu 2026-04-02 (W14).
    // u7 completed Fri 2026-03-13 (W11); pass verdict, 10 min, Fri 2026-03-13 18:00Z (W11, table B).
    // u8 completed in W11, never reviewed.
    // W11: throughput 3, reviewed 2, defective 1 → defectRate 1/2 = 0.5; escaped 1 → escapeRate 1/3;
    //      human review cost 10 min × $90/h ÷ 60 = $15.
    // W14: human review cost 12 min × $90/h ÷ 60 = $18; no cohort.
    const rows = [
      completed('u6', '2026-03-12T10:00:00Z'),
      completed('u7', '2026-03-13T10:00:00Z'),
      completed('u8', '2026-03-13T11:00:00Z'),
      verdict('u7', '2026-03-13T18:00:00Z', 'pass', 10),
      verdict('u6', '2026-04-02T09:00:00Z', 'defect', 12, true),
    ];
    await expectBoth(rows, '2026-W11', {
      throughput: 3,
      reviewedUnits: 2,
      defectiveUnits: 1,
      defectRate: 0.5,
      escapedUnits: 1,
      escapeRate: 1 / 3,
      cost: { humanReviewUsd: 15, totalUsd: 15 },
      costPerUnitUsd: 5,
    });
    await expectBoth(rows, '2026-W14', {
      throughput: 0,
      defectRate: null,
      cost: { humanReviewUsd: 18, totalUsd: 18 },
      costPerUnitUsd: null,
    });
  });

  it('counts escalations at any time in the unit’s life, and defects once per unit', async () => {
    // Four units completed in W11; e1 escalated in W10 (before completion). e2 reviewed twice: defect
    // (not escaped) then pass — still one defective unit. e3 has a pass marked escaped: false.
    // escalationRate 1/4 = 0.25; reviewed 2, defective 1 → 0.5; escapeRate 0/4 = 0.
    const rows = [
      started('e1', '2026-03-05T09:00:00Z'),
      row('unit.escalated', 'e1', '2026-03-05T10:00:00Z', { reason: 'low confidence' }),
      ...['e1', 'e2', 'e3', 'e4'].map((u) => completed(u, '2026-03-10T10:00:00Z')),
      verdict('e2', '2026-03-10T11:00:00Z', 'defect', 5, false),
      verdict('e2', '2026-03-11T11:00:00Z', 'pass', 5),
      verdict('e3', '2026-03-10T11:00:00Z', 'pass', 5, false),
    ];
    await expectBoth(rows, '2026-W11', {
      throughput: 4,
      escalatedUnits: 1,
      escalationRate: 0.25,
      reviewedUnits: 2,
      defectiveUnits: 1,
      defectRate: 0.5,
      escapedUnits: 0,
      escapeRate: 0,
    });
  });

  it('counts a unit completed in W10 and again in W11 in both weeks', async () => {
    // r1 started Sat 2026-03-07 00:00Z, completed Sun 2026-03-08 00:00Z (W10: 86 400 s) and again
    // Tue 2026-03-10 00:00Z (W11: 3 days = 259 200 s from the same start).
    const rows = [
      started('r1', '2026-03-07T00:00:00Z'),
      completed('r1', '2026-03-08T00:00:00Z'),
      completed('r1', '2026-03-10T00:00:00Z'),
    ];
    await expectBoth(rows, '2026-W10', { throughput: 1, cycleTimeMedianSeconds: 86_400 });
    await expectBoth(rows, '2026-W11', { throughput: 1, cycleTimeMedianSeconds: 259_200 });
  });

  it('counts a unit completed twice in one week once, timed to its last completion (the SPEC is silent)', async () => {
    // r2 started Mon 2026-03-09 00:00Z, completed 06:00Z and again 12:00Z: throughput 1, cycle 43 200 s.
    const rows = [
      started('r2', '2026-03-09T00:00:00Z'),
      completed('r2', '2026-03-09T06:00:00Z'),
      completed('r2', '2026-03-09T12:00:00Z'),
    ];
    await expectBoth(rows, '2026-W11', { throughput: 1, cycleTimeMedianSeconds: 43_200 });
  });
});

describe('cycle-time quantiles', () => {
  it('interpolates the P90 of 4 values between closest ranks (and times a unit without unit.started from its first event)', async () => {
    // Cycle times 10, 20, 30, 100 s (q4 has no unit.started: it runs from its first action).
    // Median: h = (4 − 1) × 0.5 = 1.5 → 20 + 0.5 × (30 − 20) = 25.
    // P90:    h = (4 − 1) × 0.9 = 2.7 → 30 + 0.7 × (100 − 30) = 79.
    const rows = [
      started('q1', '2026-03-10T10:00:00Z'),
      completed('q1', '2026-03-10T10:00:10Z'),
      started('q2', '2026-03-10T10:00:00Z'),
      completed('q2', '2026-03-10T10:00:20Z'),
      started('q3', '2026-03-10T10:00:00Z'),
      completed('q3', '2026-03-10T10:00:30Z'),
      action('q4', '2026-03-10T10:00:00Z'),
      action('q4', '2026-03-10T10:00:50Z'),
      completed('q4', '2026-03-10T10:01:40Z'),
    ];
    const record = await expectBoth(rows, '2026-W11', { throughput: 4, cycleTimeMedianSeconds: 25 });
    expect(record.cycleTimeP90Seconds).toBeCloseTo(79, 9);
  });

  it('runs the cycle from unit.started even when an earlier action exists (the SPEC: started, else earliest)', async () => {
    // s1: action 09:00Z, unit.started 09:30Z (a skewed service clock), completed 10:00Z → 1 800 s, not 3 600 s.
    const rows = [
      action('s1', '2026-03-10T09:00:00Z'),
      started('s1', '2026-03-10T09:30:00Z'),
      completed('s1', '2026-03-10T10:00:00Z'),
    ];
    await expectBoth(rows, '2026-W11', { cycleTimeMedianSeconds: 1_800 });
  });

  it('keeps the SPEC formula for a start logged after completion (a bad clock shows as a negative cycle)', async () => {
    // s2: unit.started logged at 10:30Z, after its completion at 10:00Z. SPEC: 10:00 − 10:30 = −1 800 s.
    const rows = [started('s2', '2026-03-10T10:30:00Z'), completed('s2', '2026-03-10T10:00:00Z')];
    await expectBoth(rows, '2026-W11', { cycleTimeMedianSeconds: -1_800 });
  });
});

describe('weeks without throughput', () => {
  it('gives nulls for every ratio and quantile, but still costs and audits the week', async () => {
    // W12: one action of an open unit, 1M input tokens at table B ($6/M) and one lookup_order ($0.004).
    const rows = [
      action('open-1', '2026-03-17T10:00:00Z', {
        usage: { inputTokens: 1_000_000, outputTokens: 0 },
        toolCalls: [{ name: 'lookup_order', endpoint: 'orders.get', parameters: {}, outcome: 'success' }],
      }),
    ];
    await expectBoth(rows, '2026-W12', {
      throughput: 0,
      cycleTimeMedianSeconds: null,
      cycleTimeP90Seconds: null,
      reviewedUnits: 0,
      defectRate: null,
      escapeRate: null,
      escalationRate: null,
      cost: { modelUsd: 6, toolUsd: 0.004, humanReviewUsd: 0, totalUsd: 6.004 },
      costPerUnitUsd: null,
      actions: 1,
      replayableActions: 1,
      auditCoverage: 1,
    });
  });

  it('gives zeros and nulls for a week with no events at all', () => {
    const record = new WeeklyKpis(WF, '2026-W12', new PriceBook(TABLES)).finish();
    expect(record).toMatchObject({
      throughput: 0,
      cycleTimeMedianSeconds: null,
      defectRate: null,
      cost: { modelUsd: 0, toolUsd: 0, humanReviewUsd: 0, totalUsd: 0 },
      costPerUnitUsd: null,
      unpriced: { models: [], tools: [], humanReview: false },
      actions: 0,
      auditCoverage: null,
      killSwitchViolations: 0,
    });
  });
});

describe('pricing', () => {
  // Same usage on each action: 1 000 000 input, 100 000 output, 500 000 cached input, one lookup_order.
  //   table A: 1 000 000 × 3/M + 100 000 × 15/M + 500 000 × 0.3/M = 3 + 1.5 + 0.15 = $4.65; tool $0.002
  //   table B: 1 000 000 × 6/M + 100 000 × 30/M + 500 000 × 0.6/M = 6 + 3 + 0.3   = $9.30; tool $0.004
  const priced = {
    usage: { inputTokens: 1_000_000, outputTokens: 100_000, cachedInputTokens: 500_000 },
    toolCalls: [{ name: 'lookup_order', endpoint: 'orders.get', parameters: {}, outcome: 'success' }],
  };

  it('prices each event with the newest table effective at its instant when the table changes mid-week', async () => {
    // a1 Tue 23:59:59.999Z → A; a2 Wed 00:00:00.000Z → B; a3 Wed 01:00+02:00 (= Tue 23:00Z) → A;
    // review Wed 08:00Z, 20 min → B: 20 × 90 / 60 = $30.
    // model 4.65 + 9.30 + 4.65 = 18.60; tools 0.002 + 0.004 + 0.002 = 0.008; total 18.60 + 0.008 + 30 = 48.608.
    const rows = [
      action('p1', '2026-03-10T23:59:59.999Z', priced),
      action('p1', '2026-03-11T00:00:00.000Z', priced),
      action('p1', '2026-03-11T01:00:00+02:00', priced),
      verdict('p0', '2026-03-11T08:00:00Z', 'pass', 20),
    ];
    await expectBoth(rows, '2026-W11', {
      cost: { modelUsd: 18.6, toolUsd: 0.008, humanReviewUsd: 30, totalUsd: 48.608 },
      unpriced: { models: [], tools: [], humanReview: false },
    });
  });

  it('lists an unpriced model and tool and leaves them out of the cost', async () => {
    // pa: priced as above at table A ($4.65 + $0.002). pb: model acme/frontier-x (no price) with usage,
    // and tool legacy_crm (no price): neither adds a cent; both are listed.
    const rows = [
      action('pa', '2026-03-10T10:00:00Z', priced),
      action('pb', '2026-03-10T11:00:00Z', {
        model: { provider: 'acme', name: 'frontier-x', version: '1' },
        usage: { inputTokens: 5_000_000, outputTokens: 5_000_000 },
        toolCalls: [{ name: 'legacy_crm', endpoint: 'crm.lookup', parameters: {}, outcome: 'success' }],
      }),
    ];
    await expectBoth(rows, '2026-W11', {
      cost: { modelUsd: 4.65, toolUsd: 0.002, humanReviewUsd: 0, totalUsd: 4.652 },
      unpriced: { models: ['acme/frontier-x'], tools: ['legacy_crm'], humanReview: false },
    });
  });

  it('prices nothing before the first table, even when the local date is already past its effectiveFrom', async () => {
    // 2026-01-01T00:30:00+01:00 is 2025-12-31T23:30Z: before table A (2026-01-01T00:00Z). Week 2026-W01.
    // Everything is unpriced: the model, the tool and the 15 review minutes.
    const rows = [
      action('n1', '2026-01-01T00:30:00+01:00', priced),
      verdict('n0', '2025-12-31T12:00:00Z', 'pass', 15),
      action('n2', '2026-01-01T00:00:00.000Z', priced), // exactly at effectiveFrom: table A, $4.65 + $0.002
    ];
    await expectBoth(rows, '2026-W01', {
      cost: { modelUsd: 4.65, toolUsd: 0.002, humanReviewUsd: 0, totalUsd: 4.652 },
      unpriced: { models: ['anthropic/claude-sonnet'], tools: ['lookup_order'], humanReview: true },
    });
  });
});

describe('audit coverage', () => {
  it('counts replayable actions and each missing field', async () => {
    // c1 replayable (retrieval [] and toolCalls [] count as present; shadow lane needs no approval).
    // c2 hitl without approval → approval.
    // c3 output ref without contentHash → output.
    // c4 one call without endpoint, one without outcome → toolCalls[].endpoint, toolCalls[].outcome.
    // c5 no prompt.templateVersion, no model.version, no flag, no retrieval → four fields.
    // c6 hitl with approval, output ref + contentHash → replayable; kill-switch violation.
    // Coverage 2 / 6 = 0.333…
    const rows = [
      action('c', '2026-03-10T10:00:00Z', { lane: 'shadow' }),
      action('c', '2026-03-10T10:01:00Z', { lane: 'hitl' }),
      action('c', '2026-03-10T10:02:00Z', { output: { ref: 's3://out/3' } }),
      action('c', '2026-03-10T10:03:00Z', {
        toolCalls: [
          { name: 'lookup_order', parameters: {}, outcome: 'success' },
          { name: 'lookup_order', endpoint: 'orders.get', parameters: {} },
        ],
      }),
      action('c', '2026-03-10T10:04:00Z', {
        prompt: { templateId: 'triage' },
        model: { provider: 'anthropic', name: 'claude-sonnet' },
        flag: undefined,
        retrieval: undefined,
      }),
      action(
        'c',
        '2026-03-10T10:05:00Z',
        {
          lane: 'hitl',
          approval: { approverId: 'lead-1', decision: 'approved', decidedAt: '2026-03-10T10:06:00Z' },
          output: { ref: 's3://out/6', contentHash: 'sha256:ab' },
        },
        true,
      ),
    ].map((r) => ({ ...r, event: JSON.parse(JSON.stringify(r.event)) as LedgerEvent })); // drop undefined keys
    await expectBoth(rows, '2026-W11', {
      actions: 6,
      replayableActions: 2,
      auditCoverage: 2 / 6,
      killSwitchViolations: 1,
      missingFields: {
        'prompt.templateVersion': 1,
        'model.name': 0,
        'model.version': 1,
        retrieval: 1,
        toolCalls: 0,
        'toolCalls[].endpoint': 1,
        'toolCalls[].parameters': 0,
        'toolCalls[].outcome': 1,
        output: 1,
        flag: 1,
        approval: 1,
      },
    });
  });

  it('counts a trace-derived step once, not once per span, and still costs each tool span and shows its gaps', async () => {
    // One agent step traced as four spans, mapped by lib/otlp/map-spans.ts: invoke_agent (an agent
    // action), chat (the step: replayable), two execute_tool spans (tool actions), the second without an
    // endpoint; the chat span also completes the unit. Beside it, one plain /v1/events action (a step).
    // actions 2 (chat + plain), replayable 2 → coverage 1; missing toolCalls[].endpoint 1 (the tool span).
    // Cost at table A: chat 1,200 input of which 1,000 cached, 200 output → 200 × 3 + 1,000 × 0.3 +
    // 200 × 15 = 3,900 µ$ = 0.0039; two lookup_order calls × 0.002 = 0.004; total 0.0079 for 1 unit.
    const t0 = BigInt(Date.parse('2026-03-10T12:00:00Z')) * 1_000_000n;
    const resource = { 'agent_ledger.workflow.id': WF, 'agent_ledger.unit.id': 'traced' };
    const span = (spanId: string, attributes: OtlpAttributes, parentSpanId?: string): OtlpSpan => ({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId,
      ...(parentSpanId === undefined ? {} : { parentSpanId }),
      name: String(attributes['gen_ai.operation.name']),
      kind: 1,
      startTimeUnixNano: t0,
      endTimeUnixNano: t0 + 2_500_000_000n,
      attributes,
      events: [],
      status: { code: 0 },
      resource,
      scope: { name: 'strands.telemetry.tracer' },
    });
    const tool = (spanId: string, extra: OtlpAttributes) =>
      span(
        spanId,
        {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': 'lookup_order',
          'gen_ai.tool.call.arguments': '{"orderId":"o-1"}',
          ...extra,
        },
        'a0a0a0a0a0a0a0a0',
      );
    const spans = [
      tool('c3c3c3c3c3c3c3c3', { 'server.address': 'orders.internal' }),
      tool('d4d4d4d4d4d4d4d4', {}),
      span(
        'b1b1b1b1b1b1b1b1',
        {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'anthropic',
          'gen_ai.request.model': 'claude-sonnet',
          'agent_ledger.model.version': '2026-01',
          'gen_ai.usage.input_tokens': 1200,
          'gen_ai.usage.output_tokens': 200,
          'gen_ai.usage.cache_read.input_tokens': 1000,
          'gen_ai.prompt.name': 'triage',
          'gen_ai.prompt.version': '7',
          'gen_ai.data_source.id': 'kb-support',
          'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"Refunded."}]}]',
          'agent_ledger.lane': 'autonomous',
          'agent_ledger.flag.version': 3,
          'agent_ledger.flag.checked_at': '2026-03-10T11:59:00Z',
          'agent_ledger.unit.status': 'completed',
        },
        'a0a0a0a0a0a0a0a0',
      ),
      span('a0a0a0a0a0a0a0a0', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'triage' }),
    ];
    const mapping = eventsFromSpans(spans);
    const validation = validateBatch(
      { events: mapping.events.map((e) => e.event) },
      { now: new Date('2026-03-10T13:00:00Z'), registry: defaultRegistry },
    );
    if (!validation.ok) throw new Error(JSON.stringify(validation.issues));
    const rows: KpiRow[] = [
      ...validation.events.map((event) => ({
        event,
        occurredAtMs: parseRfc3339(event.occurredAt) as number,
      })),
      action('plain', '2026-03-10T12:30:00Z'),
    ];

    // Act + Assess
    await expectBoth(rows, '2026-W11', {
      throughput: 1,
      actions: 2,
      replayableActions: 2,
      auditCoverage: 1,
      missingFields: {
        'prompt.templateVersion': 0,
        'model.name': 0,
        'model.version': 0,
        retrieval: 0,
        toolCalls: 0,
        'toolCalls[].endpoint': 1,
        'toolCalls[].parameters': 0,
        'toolCalls[].outcome': 0,
        output: 0,
        flag: 0,
        approval: 0,
      },
      cost: { modelUsd: 0.0039, toolUsd: 0.004, humanReviewUsd: 0, totalUsd: 0.0079 },
      costPerUnitUsd: 0.0079,
    });
  });

  it('treats an empty string the same in every audit field (model.name vs prompt.templateVersion)', () => {
    // The schema accepts "" for both. missingAuditFields counts model.name "" (and model.version "",
    // toolCalls[].endpoint "") as missing (`!value`), but prompt.templateVersion "" as present (`=== undefined`).
    const emptyName = action('x', '2026-03-10T10:00:00Z', {
      model: { provider: 'anthropic', name: '', version: '2026-01' },
    });
    const emptyTemplateVersion = action('x', '2026-03-10T10:01:00Z', {
      prompt: { templateId: 'triage', templateVersion: '' },
    });
    const a = kpis([emptyName], '2026-W11');
    const b = kpis([emptyTemplateVersion], '2026-W11');
    expect(a.replayableActions).toBe(b.replayableActions);
  });
});

describe('ISO weeks and the year boundary (lib/kpi/weeks.ts)', () => {
  it.each([
    // 2020 began on a Wednesday and was a leap year: it has 53 weeks.
    ['2020-W53', '2020-12-28T00:00:00.000Z', '2021-01-04T00:00:00.000Z'],
    // 2026 begins on a Thursday: it has 53 weeks; W01 began in 2025.
    ['2026-W01', '2025-12-29T00:00:00.000Z', '2026-01-05T00:00:00.000Z'],
    ['2026-W53', '2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z'],
    // 4 January 2027 is a Monday.
    ['2027-W01', '2027-01-04T00:00:00.000Z', '2027-01-11T00:00:00.000Z'],
    ['2026-W11', '2026-03-09T00:00:00.000Z', '2026-03-16T00:00:00.000Z'],
  ])('%s runs from %s to %s', (week, start, end) => {
    expect(weekBounds(week)).toEqual({ startMs: Date.parse(start), endMs: Date.parse(end) });
  });

  it.each(['2021-W53', '2026-W54', '2027-W53', '2026-W00', '2026-W1', '2026-53'])(
    '%s is not a week',
    (week) => {
      expect(() => weekBounds(week)).toThrow(InvalidWeekError);
    },
  );

  it.each([
    ['2021-01-03T23:59:59.999Z', '2020-W53'],
    ['2021-01-04T00:00:00.000Z', '2021-W01'],
    ['2025-12-28T23:59:59.999Z', '2025-W52'],
    ['2025-12-29T00:00:00.000Z', '2026-W01'],
    ['2027-01-03T23:59:59.999Z', '2026-W53'],
    ['2027-01-04T00:00:00.000Z', '2027-W01'],
  ])('%s is in %s', (instant, week) => {
    expect(isoWeekOf(Date.parse(instant))).toBe(week);
  });

  it('steps across week 53', () => {
    expect(shiftWeek('2026-W52', 1)).toBe('2026-W53');
    expect(shiftWeek('2026-W53', 1)).toBe('2027-W01');
    expect(shiftWeek('2027-W01', -1)).toBe('2026-W53');
    expect(shiftWeek('2020-W52', 2)).toBe('2021-W01');
  });

  it('computes KPIs for 2026-W53, 1 ms before and at the 2027-W01 boundary', async () => {
    // y1: started 2027-01-03T20:00Z, completed 23:59:59.999Z → 2026-W53, cycle 14 399.999 s.
    // y2: started 2027-01-03T20:00Z, completed 2027-01-04T00:00:00.000Z → 2027-W01, cycle 14 400 s.
    const rows = [
      started('y1', '2027-01-03T20:00:00Z'),
      completed('y1', '2027-01-03T23:59:59.999Z'),
      started('y2', '2027-01-03T20:00:00Z'),
      completed('y2', '2027-01-04T00:00:00.000Z'),
    ];
    await expectBoth(rows, '2026-W53', {
      week: '2026-W53',
      weekStart: '2026-12-28T00:00:00.000Z',
      weekEnd: '2027-01-04T00:00:00.000Z',
      throughput: 1,
      cycleTimeMedianSeconds: 14_399.999,
    });
    await expectBoth(rows, '2027-W01', { week: '2027-W01', throughput: 1, cycleTimeMedianSeconds: 14_400 });
  });
});

describe('recomputation', () => {
  // A week with some of everything: units from W10, late reviews, a price change, unpriced usage.
  const rows = [
    started('m1', '2026-03-06T12:00:00-08:00'),
    action('m1', '2026-03-09T00:00:00Z', {
      usage: { inputTokens: 1234, outputTokens: 567, cachedInputTokens: 89 },
      lane: 'hitl',
    }),
    action('m1', '2026-03-11T00:00:00Z', {
      usage: { inputTokens: 4321, outputTokens: 765 },
      toolCalls: [{ name: 'lookup_order', endpoint: 'orders.get', parameters: {}, outcome: 'failure' }],
    }),
    completed('m1', '2026-03-12T09:15:00+05:30'),
    verdict('m1', '2026-03-30T10:00:00Z', 'defect', 7.5, true),
    action('m2', '2026-03-10T08:00:00Z', {
      model: { provider: 'local', name: 'llama' },
      usage: { inputTokens: 9, outputTokens: 9 },
    }),
    completed('m2', '2026-03-15T23:59:59.999Z'),
    row('unit.escalated', 'm2', '2026-03-13T10:00:00Z', { reason: 'policy' }),
    verdict('m3', '2026-03-13T10:00:00Z', 'pass', 3),
    completed('m3', '2026-03-10T10:00:00Z'),
  ];

  it('gives a deep-equal record for the same events in another order', () => {
    const forward = kpis(rows, '2026-W11');
    const backward = computeLikeJob(new KpiRowIndex(rows), WF, '2026-W11', new PriceBook(TABLES), (items) =>
      [...items].reverse(),
    );
    // Fed by hand in reverse, history first interleaved with week events as a careless caller might.
    const manual = new WeeklyKpis(WF, '2026-W11', new PriceBook([TABLE_B, TABLE_A]));
    const { startMs, endMs } = weekBounds('2026-W11');
    for (const r of [...rows].reverse())
      if (r.occurredAtMs >= startMs && r.occurredAtMs < endMs) manual.addWeekEvent(r);
    for (const id of manual.cohortUnitIds().reverse()) {
      for (const r of rows.filter((x) => x.event.unitId === id)) manual.addUnitHistory(r);
    }
    expect(backward).toStrictEqual(forward);
    expect(manual.finish()).toStrictEqual(forward);
    expect(forward).toMatchObject({
      throughput: 3,
      reviewedUnits: 2,
      defectRate: 0.5,
      escalationRate: 1 / 3,
    });
  });

  it('gives a deep-equal record in another order when the exact cost is a half micro-dollar', () => {
    // A model at $0.5 per million input tokens (prices like that are common: half micro-dollars per token).
    //   400 000 tokens → $0.2,  1 400 000 tokens → $0.7,  5 tokens → $0.0000025
    // Exact total $0.9000025: exactly half a micro-dollar. In time order the float sum is 0.9000024999999999
    // (→ 0.900002); in reverse order it is 0.9000025 (→ 0.900003). round6() does not hide summation order.
    const table: PriceTable = {
      ...TABLE_A,
      models: { 'acme/half': { inputPerMillion: 0.5, outputPerMillion: 0.5 } },
    };
    const half = (inputTokens: number, at: string) =>
      action('h', at, {
        model: { provider: 'acme', name: 'half', version: '1' },
        usage: { inputTokens, outputTokens: 0 },
      });
    const events = [
      half(400_000, '2026-03-10T10:00:00Z'),
      half(1_400_000, '2026-03-10T11:00:00Z'),
      half(5, '2026-03-10T12:00:00Z'),
    ];
    const forward = kpis(events, '2026-W11', [table]);
    const backward = computeLikeJob(
      new KpiRowIndex(events),
      WF,
      '2026-W11',
      new PriceBook([table]),
      (items) => [...items].reverse(),
    );
    expect(backward.cost).toStrictEqual(forward.cost);
  });
});
