import { describe, expect, it } from 'vitest';
import type { EvalRun } from '#lib/evals/schema.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { flagValuesOf, initialFlagDocument, withFlag } from '#lib/kill-switch/flag-document.ts';
import { rollbackEventsFor } from '#lib/kill-switch/flips.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import type { StoredEvent } from '#lib/ports.ts';
import { PriceBook, type PriceTable } from '#lib/pricing/price-table.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import {
  buildAgentOpsReview,
  detectCostSpikes,
  kpiChanges,
  seriesOf,
  summariseShadowReviews,
  topFailures,
} from '#lib/reports/agent-ops-review/model.ts';
import { renderAgentOpsReview } from '#lib/reports/agent-ops-review/render.ts';
import { ShadowUnitFinder, WeekActivity } from '#lib/reports/agent-ops-review/tally.ts';
import { buildAutonomyRiskReview, weeksOfMonth } from '#lib/reports/autonomy-risk-review/model.ts';
import { renderAutonomyRiskReview } from '#lib/reports/autonomy-risk-review/render.ts';
import { rollbackRows, summariseEvals } from '#lib/reports/autonomy-risk-review/tally.ts';
import { periodHeader } from '#lib/reports/common.ts';
import { drillHistory, laneState, readKillSwitchState } from '#lib/reports/governance/model.ts';
import { periodToDateNote, violationCell } from '#lib/reports/layout.ts';
import { monthOfWeek, quarterOfWeek, toDate, weeksEndingWith } from '#lib/reports/periods.ts';
import { buildRunbook } from '#lib/reports/runbook/model.ts';
import { renderRunbook } from '#lib/reports/runbook/render.ts';
import { buildVendorModelStrategyReview } from '#lib/reports/vendor-model-strategy/model.ts';
import { renderVendorModelStrategyReview } from '#lib/reports/vendor-model-strategy/render.ts';
import { UsageMix } from '#lib/reports/vendor-model-strategy/tally.ts';

const GENERATED_AT = '2026-05-20T06:00:00.000Z';

/** A KPI record of `week` with the given figures (everything else as for a week without events). */
function record(workflowId: string, week: string, figures: Partial<KpiRecord> = {}): KpiRecord {
  return { ...new WeeklyKpis(workflowId, week, new PriceBook([])).finish(), ...figures };
}

function stored(event: LedgerEvent, extra: Partial<StoredEvent> = {}): StoredEvent {
  return {
    event,
    occurredAtMs: Date.parse(event.occurredAt),
    receivedAt: event.occurredAt,
    contentHash: 'hash',
    expiresAt: 4_000_000_000,
    archiveKey: 'archive/key',
    ...extra,
  };
}

const verdict = (n: number, category?: string, workflowId = 'support-triage'): LedgerEvent => ({
  type: 'review.verdict',
  eventId: `v-${workflowId}-${n}-${category}`,
  workflowId,
  unitId: `u-${n}`,
  occurredAt: '2026-05-12T10:00:00Z',
  reviewerId: 'r1',
  verdict: 'defect',
  reviewMinutes: 2,
  ...(category === undefined ? {} : { category }),
});

const toolFailure = (
  n: number,
  tool: string,
  errorCode?: string,
  workflowId = 'support-triage',
): LedgerEvent => ({
  type: 'action',
  eventId: `a-${workflowId}-${n}-${tool}`,
  workflowId,
  unitId: `u-${n}`,
  occurredAt: '2026-05-12T10:00:00Z',
  toolCalls: [
    { name: tool, endpoint: 'x', parameters: {}, outcome: 'failure', ...(errorCode ? { errorCode } : {}) },
    { name: 'lookup_order', endpoint: 'x', parameters: {}, outcome: 'success' },
  ],
});

describe('report periods', () => {
  it.each([
    // 2026-W01 starts Monday 29 December 2025: its month and quarter are those of the Monday.
    ['2026-W01', '2025-12', '2025-Q4'],
    ['2026-W14', '2026-03', '2026-Q1'], // Monday 30 March, ends 6 April
    ['2026-W15', '2026-04', '2026-Q2'], // Monday 6 April
    ['2026-W20', '2026-05', '2026-Q2'],
  ])('%s belongs to month %s and quarter %s', (week, month, quarter) => {
    expect(monthOfWeek(week).name).toBe(month);
    expect(quarterOfWeek(week).name).toBe(quarter);
  });

  it('covers a period up to the end of the week, complete once the week reaches its end', () => {
    const midMarch = toDate(monthOfWeek('2026-W13'), '2026-W13'); // 23–30 March
    expect(midMarch).toMatchObject({
      startMs: Date.parse('2026-03-01T00:00:00Z'),
      asOfMs: Date.parse('2026-03-30T00:00:00Z'),
      complete: false,
    });
    const lastOfMarch = toDate(monthOfWeek('2026-W14'), '2026-W14'); // 30 March – 6 April
    expect(lastOfMarch).toMatchObject({ asOfMs: Date.parse('2026-04-01T00:00:00Z'), complete: true });
    expect(toDate(quarterOfWeek('2026-W14'), '2026-W14')).toMatchObject({ name: '2026-Q1', complete: true });
    expect(toDate(quarterOfWeek('2026-W13'), '2026-W13')).toMatchObject({ complete: false });
  });

  it('lists weeks across a year boundary, and the weeks of a month', () => {
    expect(weeksEndingWith('2026-W02', 4)).toEqual(['2025-W51', '2025-W52', '2026-W01', '2026-W02']);
    expect(weeksOfMonth(toDate(monthOfWeek('2026-W19'), '2026-W19'), '2026-W19')).toEqual(['2026-W19']);
    // June 2026: Mondays 1, 8, 15, 22, 29.
    expect(weeksOfMonth(toDate(monthOfWeek('2026-W27'), '2026-W27'), '2026-W27')).toEqual([
      '2026-W23',
      '2026-W24',
      '2026-W25',
      '2026-W26',
      '2026-W27',
    ]);
  });
});

describe('what the reports share', () => {
  it('opens a monthly or quarterly report with its period, how far it reaches and the run that wrote it', () => {
    // Prepare
    const month = toDate(monthOfWeek('2026-W13'), '2026-W13');
    const quarter = toDate(quarterOfWeek('2026-W14'), '2026-W14');

    // Act
    const monthly = periodHeader('month', month, '2026-W13', GENERATED_AT);
    const quarterly = periodHeader('quarter', quarter, '2026-W14', GENERATED_AT);

    // Assess
    expect(monthly).toEqual({
      month: '2026-03',
      monthStart: '2026-03-01T00:00:00.000Z',
      monthEnd: '2026-04-01T00:00:00.000Z',
      asOf: '2026-03-30T00:00:00.000Z',
      complete: false,
      week: '2026-W13',
      generatedAt: GENERATED_AT,
    });
    expect(quarterly).toMatchObject({
      quarter: '2026-Q1',
      quarterEnd: '2026-04-01T00:00:00.000Z',
      complete: true,
    });
    expect(periodToDateNote('month', monthly, 'More <b>.</b>').value).toBe(
      '<p class="note">2026-03: 2026-03-01T00:00:00.000Z to 2026-04-01T00:00:00.000Z (UTC). Month to date: figures up to 2026-03-30T00:00:00.000Z (written by the run for 2026-W13). More &lt;b&gt;.&lt;/b&gt;</p>',
    );
    expect(periodToDateNote('quarter', quarterly).value).toContain('(UTC). The quarter is complete.</p>');
  });

  it('shows a count of violations in red only when there are any', () => {
    expect(violationCell(0)).toBe('0');
    expect(String(violationCell(3))).toBe('<span class="badge bad">3</span>');
  });

  it('lists drills newest first, the newest `limit` of them, with their summary', () => {
    const drill = (
      drillId: string,
      startedAt: string,
      outcome: 'passed' | 'failed',
      offEffectMs: number,
    ) => ({
      drillId,
      startedAt,
      by: 'ops',
      outcome,
      offEffectMs,
      onEffectMs: 900,
      detail: null,
    });
    const drills = [
      drill('d1', '2026-05-01T09:00:00Z', 'passed', 1200),
      drill('d3', '2026-05-03T09:00:00Z', 'failed', 60_000),
      drill('d2', '2026-05-02T09:00:00Z', 'passed', 800),
    ];
    expect(drillHistory(drills).drills.map((d) => d.drillId)).toEqual(['d3', 'd2', 'd1']);
    expect(drillHistory(drills, 2)).toEqual({
      drills: [drills[1], drills[2]],
      drillSummary: {
        count: 2,
        passed: 1,
        failed: 1,
        medianOffEffectMs: 800,
        maxOffEffectMs: 800,
        medianOnEffectMs: 900,
      },
    });
  });
});

describe('Agent Ops Review: KPIs week over week', () => {
  it('gives each KPI its change, in points for rates and relative for the rest, and which way is better', () => {
    // Prepare
    const previous = record('support-triage', '2026-W19', {
      throughput: 40,
      defectRate: 0.1,
      costPerUnitUsd: 2,
      auditCoverage: 0.9,
      boundaryViolations: 0,
    });
    const current = record('support-triage', '2026-W20', {
      throughput: 50,
      defectRate: 0.15,
      costPerUnitUsd: 1.5,
      auditCoverage: 0.9,
      boundaryViolations: 2,
    });

    // Act
    const changes = Object.fromEntries(kpiChanges(current, previous).map((kpi) => [kpi.metric, kpi]));

    // Assess
    expect(changes.throughput).toMatchObject({
      current: 50,
      previous: 40,
      change: 10,
      relativeChange: 0.25,
      trend: 'better',
    });
    expect(changes.defectRate).toMatchObject({ change: 0.05, relativeChange: null, trend: 'worse' });
    expect(changes.costPerUnitUsd).toMatchObject({ change: -0.5, relativeChange: -0.25, trend: 'better' });
    expect(changes.auditCoverage).toMatchObject({ change: 0, trend: 'unchanged' });
    expect(changes.boundaryViolations).toMatchObject({
      current: 2,
      change: 2,
      relativeChange: null,
      trend: 'worse',
    });
    expect(changes.cycleTimeMedianSeconds).toMatchObject({ current: null, change: null, trend: null });
  });

  it('has no change without the week before, and says "not tracked" for a record without boundary counts', () => {
    const { boundaryViolations: _, ...old } = record('code-review', '2026-W20');
    const changes = kpiChanges(old as KpiRecord, undefined);
    expect(changes.find((kpi) => kpi.metric === 'throughput')).toMatchObject({
      previous: null,
      change: null,
    });
    expect(changes.find((kpi) => kpi.metric === 'boundaryViolations')).toMatchObject({
      tracked: false,
      current: null,
    });
  });
});

describe('Agent Ops Review: 12-week series', () => {
  it('shows a week without a record, or without units, as a gap and never as zero', () => {
    // Prepare
    const weeks = weeksEndingWith('2026-W20', 12);
    const records = new Map([
      ['2026-W10', record('code-review', '2026-W10', { throughput: 10, costPerUnitUsd: 3 })],
      ['2026-W12', record('code-review', '2026-W12', { throughput: 0, costPerUnitUsd: null })],
      ['2026-W20', record('code-review', '2026-W20', { throughput: 5, costPerUnitUsd: 0 })],
    ]);

    // Act
    const series = seriesOf(weeks, records, (r) => r.costPerUnitUsd);

    // Assess
    expect(series).toHaveLength(12);
    expect(series[0]).toEqual({ week: '2026-W09', value: null, recorded: false });
    expect(series[1]).toEqual({ week: '2026-W10', value: 3, recorded: true });
    expect(series[2]).toEqual({ week: '2026-W11', value: null, recorded: false });
    expect(series[3]).toEqual({ week: '2026-W12', value: null, recorded: true });
    expect(series[11]).toEqual({ week: '2026-W20', value: 0, recorded: true });
  });
});

describe('Agent Ops Review: top failures', () => {
  it('ranks defect categories and failing tool calls by frequency, ties in a fixed order, five at most', () => {
    // Prepare
    const support = new WeekActivity('support-triage');
    const code = new WeekActivity('code-review');
    for (let n = 0; n < 4; n++) support.add(stored(verdict(n, 'wrong-priority')));
    for (let n = 0; n < 3; n++) support.add(stored(toolFailure(n, 'refund', 'TIMEOUT')));
    support.add(stored(toolFailure(9, 'refund', 'DECLINED')));
    for (let n = 0; n < 3; n++) support.add(stored(verdict(10 + n)));
    for (let n = 0; n < 3; n++) code.add(stored(verdict(n, 'missed-bug', 'code-review')));
    code.add(stored(toolFailure(1, 'merge', undefined, 'code-review')));
    code.add(stored(verdict(7, 'style', 'code-review')));
    support.add(stored({ ...verdict(99, 'not-a-defect'), verdict: 'pass' } as LedgerEvent));

    // Act
    const top = topFailures([...support.failures(), ...code.failures()]);

    // Assess
    expect(top.map((f) => [f.rank, f.workflowId, f.label, f.count])).toEqual([
      [1, 'support-triage', 'review defect: wrong-priority', 4],
      [2, 'code-review', 'review defect: missed-bug', 3],
      [3, 'support-triage', 'review defect: (no category given)', 3],
      [4, 'support-triage', 'refund failed (TIMEOUT)', 3],
      // Ties: by workflow, then defects before tool failures.
      [5, 'code-review', 'review defect: style', 1],
    ]);
  });
});

describe('Agent Ops Review: cost spikes', () => {
  const series = (values: (number | null)[]) =>
    weeksEndingWith('2026-W20', values.length).map((week, i) => ({
      week,
      value: values[i] ?? null,
      recorded: values[i] !== null,
    }));
  const weeks = weeksEndingWith('2026-W20', 12);

  it('flags a week above 1.5× the median of the 4 weeks before', () => {
    // 4 baseline weeks 1, 2, 2, 3 → median 2; 3.01 is a spike, 3 (exactly 1.5×) is not.
    const spikes = detectCostSpikes(
      'support-triage',
      series([1, 2, 2, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3.01]),
      weeks,
      '2026-W20',
    );
    expect(spikes).toEqual([
      {
        workflowId: 'support-triage',
        week: '2026-W20',
        costPerUnitUsd: 3.01,
        baselineMedianUsd: 2,
        baselineWeeks: ['2026-W16', '2026-W17', '2026-W18', '2026-W19'],
        ratio: 1.505,
        thisWeek: true,
      },
    ]);
  });

  it('leaves missing weeks out of the median and needs two of the four', () => {
    const values = Array<number | null>(16).fill(null);
    values[12] = 1; // W17
    values[15] = 5; // W20: one baseline week only
    expect(detectCostSpikes('x', series(values), weeks, '2026-W20')).toEqual([]);
    values[13] = 1.2; // W18: two baseline weeks, median 1.1
    expect(detectCostSpikes('x', series(values), weeks, '2026-W20')).toMatchObject([
      { week: '2026-W20', baselineMedianUsd: 1.1, baselineWeeks: ['2026-W17', '2026-W18'] },
    ]);
  });

  it('finds spikes in earlier weeks of the chart too, not in the baseline weeks before it', () => {
    // The 16 weeks run W05…W20 and the chart W09…W20: W08 would be a spike but is a baseline week; W13 is one.
    const spikes = detectCostSpikes(
      'x',
      series([1, 1, 1, 9, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1]),
      weeks,
      '2026-W20',
    );
    expect(spikes.map((s) => [s.week, s.thisWeek])).toEqual([['2026-W13', false]]);
  });
});

describe('Agent Ops Review: model and HTML', () => {
  const hostile = '<script>alert("x")</script>';

  function review() {
    const support = new WeekActivity('support-triage');
    support.add(stored(verdict(1, hostile)));
    support.add(
      stored(toolFailure(2, 'refund', 'E1'), {
        boundaryViolations: [{ kind: 'cannot', ruleId: 'refund-over-500', tool: 'refund' }],
      }),
    );
    return buildAgentOpsReview({
      week: '2026-W20',
      generatedAt: GENERATED_AT,
      workflows: defaultRegistry.all(),
      records: [
        record('support-triage', '2026-W19', { throughput: 10, costPerUnitUsd: 1 }),
        record('support-triage', '2026-W20', {
          throughput: 12,
          costPerUnitUsd: 1.2,
          killSwitchViolations: 1,
          boundaryViolations: 1,
          unpriced: { models: ['<b>acme</b>/x'], tools: [], humanReview: false },
        }),
      ],
      activity: [support],
    });
  }

  it('is JSON with every workflow, 12 chart weeks, the violations by rule and empty action items', () => {
    const model = review();
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
    expect(model.chartWeeks).toHaveLength(12);
    expect(model.workflows.map((w) => [w.workflowId, w.recorded])).toEqual([
      ['support-triage', true],
      ['code-review', false],
    ]);
    expect(model.violations).toEqual([
      {
        workflowId: 'support-triage',
        killSwitchViolations: 1,
        boundaryViolations: 1,
        boundaryTracked: true,
        byRule: [
          {
            workflowId: 'support-triage',
            kind: 'cannot',
            ruleId: 'refund-over-500',
            tool: 'refund',
            count: 1,
          },
        ],
        rolloutPhaseViolations: 0,
        byPhase: [],
      },
      {
        workflowId: 'code-review',
        killSwitchViolations: null,
        boundaryViolations: null,
        boundaryTracked: false,
        byRule: [],
        rolloutPhaseViolations: 0,
        byPhase: [],
      },
    ]);
    expect(model.shadowReviews.map((row) => [row.workflowId, row.units])).toEqual([
      ['support-triage', 0],
      ['code-review', 0],
    ]);
    expect(model.actionItems).toEqual([]);
  });

  it('counts rollout-phase violations by phase and lane, and names each kind of boundary violation', () => {
    // Prepare
    const code = new WeekActivity('code-review');
    const early = (n: number, phase: string, lane: string) =>
      stored(toolFailure(n, 'merge', 'E', 'code-review'), { rolloutPhaseViolation: { phase, lane } });
    code.add(early(1, 'evals', 'autonomous'));
    code.add(early(2, 'evals', 'autonomous'));
    code.add(early(3, 'baseline', 'hitl'));
    code.add(
      stored(toolFailure(4, 'merge', 'E', 'code-review'), {
        boundaryViolations: [{ kind: 'approver', ruleId: 'merge-to-main', tool: 'merge' }],
      }),
    );
    code.add(
      stored(verdict(5, 'x', 'code-review'), { rolloutPhaseViolation: { phase: 'evals', lane: 'hitl' } }),
    );

    // Act
    const model = buildAgentOpsReview({
      week: '2026-W20',
      generatedAt: GENERATED_AT,
      workflows: defaultRegistry.all(),
      records: [],
      activity: [code],
    });

    // Assess: only actions count (a verdict is never in a lane)
    const row = model.violations.find((v) => v.workflowId === 'code-review');
    expect(row).toMatchObject({
      rolloutPhaseViolations: 3,
      byPhase: [
        { workflowId: 'code-review', phase: 'evals', lane: 'autonomous', count: 2 },
        { workflowId: 'code-review', phase: 'baseline', lane: 'hitl', count: 1 },
      ],
      byRule: [{ kind: 'approver', ruleId: 'merge-to-main', tool: 'merge', count: 1 }],
    });
    const page = renderAgentOpsReview(model);
    expect(page).toContain('Rollout-phase violations');
    expect(page).toContain('autonomous lane in phase evals × 2');
    expect(page).toContain('approver not in role');
  });

  it("shows the shadow-lane (onboarding) reviews apart, from each unit's whole history", () => {
    // Prepare: the pass sees actions and completions; the job then reads each candidate's history
    const { startMs, endMs } = {
      startMs: Date.parse('2026-05-11T00:00:00Z'),
      endMs: Date.parse('2026-05-18T00:00:00Z'),
    };
    const finder = new ShadowUnitFinder('support-triage', { startMs, endMs });
    const act = (unitId: string, lane: string | undefined, at = '2026-05-12T10:00:00Z'): LedgerEvent =>
      ({
        type: 'action',
        eventId: `a-${unitId}-${lane}-${at}`,
        workflowId: 'support-triage',
        unitId,
        occurredAt: at,
        ...(lane ? { lane } : {}),
      }) as LedgerEvent;
    const done = (unitId: string, at = '2026-05-13T10:00:00Z'): LedgerEvent => ({
      type: 'unit.completed',
      eventId: `c-${unitId}`,
      workflowId: 'support-triage',
      unitId,
      occurredAt: at,
    });
    for (const event of [
      act('s1', 'shadow'),
      act('s1', 'shadow', '2026-04-20T10:00:00Z'),
      done('s1'),
      act('s2', 'shadow'),
      done('s2'),
      act('mixed', 'shadow'),
      act('mixed', 'hitl'),
      done('mixed'),
      act('shipped', 'autonomous'),
      done('shipped'),
      act('laneless', undefined),
      done('laneless'),
      act('earlier', 'shadow'),
      done('earlier', '2026-05-08T10:00:00Z'),
      act('open', 'shadow'),
    ])
      finder.add(stored(event));

    // Act
    const candidates = finder.candidates();
    const summary = summariseShadowReviews('support-triage', [
      { unitId: 's1', lane: 'shadow', sampled: true, verdicts: ['defect', 'pass'] },
      { unitId: 's2', lane: 'shadow', sampled: true, verdicts: [] },
      { unitId: 's3', lane: 'shadow', sampled: false, verdicts: ['pass'] },
      { unitId: 's4', lane: 'shadow', sampled: false, verdicts: [] },
      // A candidate whose history shows a later shipped action is not a shadow unit.
      { unitId: 'late', lane: 'hitl', sampled: true, verdicts: ['defect'] },
    ]);
    const model = buildAgentOpsReview({
      week: '2026-W20',
      generatedAt: GENERATED_AT,
      workflows: defaultRegistry.all(),
      records: [],
      activity: [],
      shadowReviews: [summary],
    });

    // Assess
    expect(candidates).toEqual(['s1', 's2']);
    expect(summary).toEqual({
      workflowId: 'support-triage',
      units: 4,
      sampled: 2,
      reviewed: 2,
      defective: 1,
      defectRate: 0.5,
      pending: 1,
    });
    expect(model.shadowReviews).toEqual([summary, summariseShadowReviews('code-review', [])]);
    expect(summariseShadowReviews('x', [])).toMatchObject({ units: 0, defectRate: null, pending: 0 });
    const page = renderAgentOpsReview(model);
    expect(page).toContain('Shadow-lane reviews (onboarding)');
    expect(page).toContain('reviews?status=pending&amp;lane=shadow');
    expect(page).toContain('50.0%');
    expect(renderAgentOpsReview(review())).toContain('No shadow-lane units completed this week.');
  });

  it('escapes every string from the ledger, and has no script and no external asset', () => {
    const page = renderAgentOpsReview(review());
    expect(page).not.toContain('<script');
    expect(page).toContain('review defect: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(page).toContain('&lt;b&gt;acme&lt;/b&gt;/x');
    expect(page).not.toMatch(/\b(src|href)=/);
    expect(page).toContain('Content-Security-Policy" content="default-src \'none\'');
    expect(page.match(/<svg/g)).toHaveLength(4); // two charts per workflow
    expect(page).toContain('Action items');
  });
});

describe('Vendor/Model Strategy Review', () => {
  const prices: PriceTable = {
    effectiveFrom: '2026-01-01',
    currency: 'USD',
    models: {
      'anthropic/claude-sonnet': { inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3 },
      'openai/gpt-5': { inputPerMillion: 1.25, outputPerMillion: 10 },
    },
    tools: { lookup_order: { perCall: 0.002 } },
    humanReviewPerHour: 60,
  };
  const action = (
    n: number,
    workflowId: string,
    provider: string,
    name: string,
    tools: string[] = [],
  ): LedgerEvent => ({
    type: 'action',
    eventId: `a-${n}`,
    workflowId,
    unitId: `u-${n}`,
    occurredAt: '2026-05-05T10:00:00Z',
    model: { provider, name, version: 'v1' },
    usage: { inputTokens: 1000, outputTokens: 200, cachedInputTokens: 100 },
    toolCalls: tools.map((tool) => ({
      name: tool,
      endpoint: 'e',
      parameters: {},
      outcome: 'success' as const,
    })),
  });

  it('prices tokens and tool calls as the KPI job does, lists the unpriced, and says which workflows lack a fallback', () => {
    // Prepare
    const mix = new UsageMix(new PriceBook([prices]));
    mix.add(
      action(1, 'support-triage', 'anthropic', 'claude-sonnet', ['lookup_order']),
      Date.parse('2026-05-05T10:00:00Z'),
    );
    mix.add(
      action(2, 'support-triage', 'openai', 'gpt-5', ['crm_lookup']),
      Date.parse('2026-05-05T10:00:00Z'),
    );
    mix.add(action(3, 'code-review', 'anthropic', 'claude-sonnet'), Date.parse('2026-05-05T10:00:00Z'));
    mix.add(action(4, 'code-review', 'anthropic', 'claude-haiku'), Date.parse('2026-05-05T10:00:00Z'));

    // Act
    const model = buildVendorModelStrategyReview({
      quarter: toDate(quarterOfWeek('2026-W20'), '2026-W20'),
      week: '2026-W20',
      generatedAt: GENERATED_AT,
      workflows: defaultRegistry.all(),
      mix,
    });

    // Assess: sonnet 2 × (1000×3 + 200×15 + 100×0.3)/1e6 = $0.01206; gpt-5 (1000×1.25 + 200×10 + 100×1.25)/1e6.
    expect(model).toMatchObject({ quarter: '2026-Q2', complete: false, asOf: '2026-05-18T00:00:00.000Z' });
    expect(model.models.map((m) => [m.model, m.actions, m.costUsd, m.unpricedActions])).toEqual([
      ['anthropic/claude-sonnet', 2, 0.01206, 0],
      ['openai/gpt-5', 1, 0.003375, 0],
      ['anthropic/claude-haiku', 1, null, 1],
    ]);
    expect(model.tools.map((t) => [t.tool, t.calls, t.costUsd])).toEqual([
      ['lookup_order', 1, 0.002],
      ['crm_lookup', 1, null],
    ]);
    expect(model.unpriced).toEqual({ models: ['anthropic/claude-haiku'], tools: ['crm_lookup'] });
    expect(model.totals).toMatchObject({ actions: 4, modelUsd: 0.015435, toolUsd: 0.002 });
    const fallback = Object.fromEntries(model.fallback.map((f) => [f.workflowId, f]));
    expect(fallback['support-triage']).toMatchObject({ status: 'multi-provider' });
    expect(fallback['code-review']).toMatchObject({
      status: 'single-provider',
      statement: 'single provider: no tested fallback (every model call went to anthropic)',
    });
    expect(renderVendorModelStrategyReview(model)).toContain('single provider: no tested fallback');
  });

  it('says so when a workflow made no model call', () => {
    const model = buildVendorModelStrategyReview({
      quarter: toDate(quarterOfWeek('2026-W14'), '2026-W14'),
      week: '2026-W14',
      generatedAt: GENERATED_AT,
      workflows: defaultRegistry.all(),
      mix: new UsageMix(new PriceBook([])),
    });
    expect(model.complete).toBe(true);
    expect(model.fallback.every((f) => f.status === 'no-model-calls')).toBe(true);
  });
});

describe('Autonomy + Risk Review', () => {
  const initial = initialFlagDocument(defaultRegistry.ids(), '2026-05-01T00:00:00Z');
  const flip = (flag: string, enabled: boolean, reason: string, changedBy: string) =>
    withFlag(initial, flag, { enabled, reason, changedBy, changedAt: '2026-05-12T09:00:00Z' });

  function rollbacks(): StoredEvent[] {
    const context = (deploymentNumber: number, at: string) => ({
      workflowIds: defaultRegistry.ids(),
      environment: 'local',
      deploymentNumber,
      at,
      configurationVersion: String(deploymentNumber),
    });
    const value = (enabled: boolean, reason: string, changedBy: string) => ({ enabled, reason, changedBy });
    return [
      ...rollbackEventsFor(
        [{ flag: 'support-triage', from: true, to: false, value: value(false, '<img src=x>', 'ops') }],
        context(2, '2026-05-12T09:00:00Z'),
      ),
      ...rollbackEventsFor(
        [{ flag: 'support-triage', from: false, to: true, value: value(true, 'fixed', 'ops') }],
        context(3, '2026-05-12T09:30:00Z'),
      ),
      ...rollbackEventsFor(
        [
          {
            flag: MASTER_FLAG,
            from: true,
            to: false,
            value: value(false, 'kill-switch drill drill-1', 'me'),
          },
        ],
        context(4, '2026-05-13T09:00:00Z'),
      ),
    ].map((event) => stored(event));
  }

  it('lists each flip once (a master flip names every workflow), pairs off with on, and counts incidents', () => {
    const rows = rollbackRows(rollbacks());
    expect(
      rows.map((r) => [r.occurredAt, r.workflowIds, r.direction, r.cause, r.incident, r.offForSeconds]),
    ).toEqual([
      ['2026-05-12T09:00:00Z', ['support-triage'], 'off', 'operator', true, 1800],
      ['2026-05-12T09:30:00Z', ['support-triage'], 'on', 'operator', false, null],
      ['2026-05-13T09:00:00Z', ['code-review', 'support-triage'], 'off', 'drill', false, null],
    ]);
    expect(rows[2]?.scope).toBe('all-workflows');
  });

  it('reports boundaries, flippers, the lane now, evals, drills and incidents, all escaped', async () => {
    // Prepare
    const month = toDate(monthOfWeek('2026-W20'), '2026-W20');
    const killSwitch = await readKillSwitchState(
      {
        read: async () => ({
          values: flagValuesOf(flip('code-review', false, 'defects <up>', 'drift')),
          version: '7',
        }),
      },
      GENERATED_AT,
    );
    const run = (runId: string, ranAt: string, failing: number): EvalRun => ({
      runId,
      workflowId: 'support-triage',
      evalSet: 'regression',
      evalSetVersion: 1,
      ranBy: 'ci',
      ranAt,
      promptVersion: 'p1',
      modelVersion: 'm1',
      results: Array.from({ length: 100 }, (_, i) => ({ caseId: `c${i}`, pass: i >= failing })),
    });
    const set = {
      workflowId: 'support-triage',
      name: 'regression',
      latestVersion: 1,
      caseCount: 100,
      registeredAt: '2026-04-01T00:00:00Z',
      registeredBy: 'me',
    };

    // Act
    const model = buildAutonomyRiskReview({
      month,
      week: '2026-W20',
      generatedAt: GENERATED_AT,
      workflows: defaultRegistry.all(),
      killSwitch,
      records: [record('support-triage', '2026-W19', { killSwitchViolations: 2, boundaryViolations: 1 })],
      rollbacks: rollbacks(),
      drills: new Map([
        [
          'support-triage',
          [
            {
              drillId: 'd1',
              startedAt: '2026-05-12T08:00:00Z',
              by: 'me',
              outcome: 'passed' as const,
              offEffectMs: 800,
              onEffectMs: 900,
              detail: null,
            },
            {
              drillId: 'd2',
              startedAt: '2026-05-13T08:00:00Z',
              by: 'me',
              outcome: 'passed' as const,
              offEffectMs: 1200,
              onEffectMs: 700,
              detail: null,
            },
          ],
        ],
      ]),
      evals: new Map([
        [
          'support-triage',
          summariseEvals(
            [
              {
                set,
                runs: [
                  run('r3', '2026-06-01T00:00:00Z', 0),
                  run('r2', '2026-05-10T00:00:00Z', 10),
                  run('r1', '2026-04-10T00:00:00Z', 5),
                ],
              },
            ],
            month,
          ),
        ],
        ['code-review', summariseEvals([], month)],
      ]),
    });

    // Assess
    expect(model).toMatchObject({ month: '2026-05', complete: false, incidents: 1 });
    const [support, code] = model.workflows;
    expect(support?.killSwitch.flippers).toContain('support-ops on-call');
    expect(support?.boundary.cannot.find((rule) => rule.id === 'refund-over-500')?.when).toBe('amount > 500');
    expect(support?.boundary.approvals.find((rule) => rule.id === 'refund-over-100')?.approver).toBe(
      'support-lead',
    );
    expect(support?.boundary.approvals.find((rule) => rule.id === 'refund-over-100')?.approverIds).toEqual([
      'lead-3',
      'lead-7',
      'lead-12',
    ]);
    // Rollout-phase violations come from the events, which this input does not give
    expect(support?.violationsByWeek).toEqual([
      { week: '2026-W19', killSwitchViolations: 2, boundaryViolations: 1, rolloutPhaseViolations: null },
      {
        week: '2026-W20',
        killSwitchViolations: null,
        boundaryViolations: null,
        rolloutPhaseViolations: null,
      },
    ]);
    // The run after the as-of (r3, in June) is left out: r2 against r1.
    expect(support?.evals).toMatchObject({
      status: 'recorded',
      sets: [
        {
          name: 'regression',
          runsInMonth: 1,
          latest: { current: { runId: 'r2' }, passRate: 0.9, delta: -0.05 },
        },
      ],
    });
    expect(code?.evals).toEqual({
      status: 'none',
      message: 'no eval runs recorded: no eval set is registered',
    });
    expect(support?.drillSummary).toMatchObject({ count: 2, medianOffEffectMs: 1000, maxOffEffectMs: 1200 });
    expect(code?.killSwitch.lane).toMatchObject({ autonomousAllowed: false });
    const page = renderAutonomyRiskReview(model);
    expect(page).not.toMatch(/<img|<script/);
    expect(page).toContain('&lt;img src=x&gt;');
    expect(page).toContain('defects &lt;up&gt;');
  });

  it('counts rollout-phase violations by week, and shows the lane closed by a phase that has not opened it', async () => {
    // Prepare: code-review in evals, its flag on
    const month = toDate(monthOfWeek('2026-W20'), '2026-W20');
    const workflows = defaultRegistry
      .all()
      .map((workflow) =>
        workflow.workflowId === 'code-review' ? { ...workflow, rolloutPhase: 'evals' as const } : workflow,
      );
    const killSwitch = await readKillSwitchState(
      {
        read: async () => ({
          values: flagValuesOf(initialFlagDocument(defaultRegistry.ids(), GENERATED_AT)),
          version: '1',
        }),
      },
      GENERATED_AT,
    );

    // Act
    const model = buildAutonomyRiskReview({
      month,
      week: '2026-W20',
      generatedAt: GENERATED_AT,
      workflows,
      killSwitch,
      records: [],
      rollbacks: [],
      drills: new Map(),
      evals: new Map(),
      rolloutPhaseViolations: new Map([['code-review', new Map([['2026-W20', 3]])]]),
    });

    // Assess
    const [support, code] = model.workflows;
    expect(code?.violationsByWeek.map((row) => [row.week, row.rolloutPhaseViolations])).toEqual([
      ['2026-W19', 0],
      ['2026-W20', 3],
    ]);
    expect(support?.violationsByWeek.map((row) => row.rolloutPhaseViolations)).toEqual([0, 0]);
    expect(support?.killSwitch.lane).toMatchObject({ autonomousAllowed: true });
    expect(code?.killSwitch.lane).toEqual({
      autonomousAllowed: false,
      own: expect.objectContaining({ enabled: true }),
      summary:
        'not open in rollout phase "evals" (it opens in phase "autonomous"): agents use the hitl lane; kill switch: autonomous lane allowed',
    });
    const page = renderAutonomyRiskReview(model);
    expect(page).toContain('Rollout-phase violations');
    expect(page).toContain('not open in rollout phase &quot;evals&quot;');
  });

  it('says "no eval runs recorded" without an eval store', () => {
    expect(summariseEvals(undefined, { startMs: 0, asOfMs: 1 })).toEqual({
      status: 'not-connected',
      message: 'no eval runs recorded (no eval store connected)',
    });
  });
});

describe('kill-switch state and runbooks', () => {
  it('says when any approver is accepted for an approval rule (its role has no list)', async () => {
    const killSwitch = await readKillSwitchState(
      { read: async () => ({ values: {}, version: null }) },
      GENERATED_AT,
    );
    const workflow = {
      ...(defaultRegistry.get('code-review') as NonNullable<ReturnType<typeof defaultRegistry.get>>),
    };
    delete workflow.approvers;
    const runbook = buildRunbook({ workflow, generatedAt: GENERATED_AT, killSwitch, drills: [] });
    expect(runbook.boundary.approvals.map((rule) => rule.approverIds)).toEqual([null, null]);
    expect(renderRunbook(runbook)).toContain('anyone: no list in the registry');
  });

  it('fails closed in words when the flags cannot be read', async () => {
    const state = await readKillSwitchState(
      { read: () => Promise.reject(new Error('no route')) },
      GENERATED_AT,
    );
    expect(laneState(state, 'support-triage')).toMatchObject({
      autonomousAllowed: null,
      summary: 'flags unreadable (no route); agents fail closed to HITL',
    });
  });

  it('writes where the switch is, who flips it, the exact commands and the last 10 drills', async () => {
    // Prepare
    const killSwitch = await readKillSwitchState(
      {
        read: async () => ({
          values: flagValuesOf(initialFlagDocument(defaultRegistry.ids(), GENERATED_AT)),
          version: '1',
        }),
      },
      GENERATED_AT,
    );
    const drills = Array.from({ length: 12 }, (_, i) => ({
      drillId: `d${i}`,
      startedAt: `2026-05-${String(i + 1).padStart(2, '0')}T08:00:00Z`,
      by: 'ops',
      outcome: 'passed' as const,
      offEffectMs: 500 + i,
      onEffectMs: 600,
      detail: null,
    }));

    // Act
    const runbook = buildRunbook({
      workflow: defaultRegistry.get('code-review') as NonNullable<ReturnType<typeof defaultRegistry.get>>,
      generatedAt: GENERATED_AT,
      killSwitch,
      drills,
      stage: 'prod',
      environment: 'prod',
    });

    // Assess
    expect(runbook.killSwitch.appConfig).toEqual({
      application: 'agent-ledger',
      profile: 'kill-switch',
      environment: 'prod',
      flagKey: 'code-review',
      masterFlagKey: MASTER_FLAG,
    });
    expect(runbook.killSwitch.flippers).toEqual(['Engineering Productivity lead', 'platform on-call']);
    expect(runbook.commands).toMatchObject({
      off: 'agent-ledger kill-switch off code-review --reason "<what happened>" --stage prod',
      drill: 'agent-ledger drill code-review --stage prod',
      stopAll: 'agent-ledger kill-switch off --all --reason "<what happened>" --stage prod',
    });
    expect(runbook.drills.map((d) => d.drillId)).toEqual([
      'd11',
      'd10',
      'd9',
      'd8',
      'd7',
      'd6',
      'd5',
      'd4',
      'd3',
      'd2',
    ]);
    expect(runbook.boundary.approvals.map((rule) => [rule.id, rule.approver, rule.approverIds])).toEqual([
      ['merge-to-main', 'code-owner', ['alice', 'bob', 'chen']],
      ['large-change', 'tech-lead', ['dana']],
    ]);
    const page = renderRunbook(runbook);
    expect(page).toContain('Who may approve (approverIds)');
    expect(page).toContain('<code>alice</code>, <code>bob</code>, <code>chen</code>');
    expect(page).toContain(
      'agent-ledger kill-switch off code-review --reason &quot;&lt;what happened&gt;&quot; --stage prod',
    );
    expect(page).not.toContain('<script');
  });
});
