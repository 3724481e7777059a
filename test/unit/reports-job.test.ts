import { describe, expect, it } from 'vitest';
import type { EvalStore } from '#lib/evals/store.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import type { DrillRecord, DrillStore } from '#lib/kill-switch/drills.ts';
import { flagValuesOf, initialFlagDocument } from '#lib/kill-switch/flag-document.ts';
import type { FlagReader } from '#lib/kill-switch/ports.ts';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import type { KpiStore, ReportStore } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { PriceBook, type PriceTable } from '#lib/pricing/price-table.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { GOVERNANCE_INDEX_KEY, type ReportsJobDependencies, runReportsJob } from '#lib/reports/job.ts';
import { isSampledForReview } from '#lib/reviews/sampling.ts';
import { archiveObjectKey } from '#lib/storage/archive-bucket.ts';
import { indexedEvent } from '../support/events.ts';
import { InMemoryArchivedEvents } from '../support/in-memory-archived-events.ts';
import { InMemoryEventArchive, InMemoryEventIndex } from '../support/in-memory-stores.ts';

const stored = indexedEvent;

const prices: PriceTable = {
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  models: { 'anthropic/claude-sonnet': { inputPerMillion: 3, outputPerMillion: 15 } },
  tools: {},
  humanReviewPerHour: 60,
};

function setup(now = '2026-05-20T06:00:00Z') {
  const objects = new Map<string, { body: string; contentType: string }>();
  const records = new Map<string, KpiRecord>();
  const put = (workflowId: string, week: string, figures: Partial<KpiRecord>) =>
    records.set(`${workflowId}|${week}`, {
      ...new WeeklyKpis(workflowId, week, new PriceBook([])).finish(),
      ...figures,
    });
  put('support-triage', '2026-W19', { throughput: 10, costPerUnitUsd: 1, defectRate: 0.1 });
  put('support-triage', '2026-W20', { throughput: 12, costPerUnitUsd: 1.1, defectRate: 0.2 });
  const kpis: KpiStore = {
    putRecord: async () => {},
    getRecord: async (workflowId, week) => records.get(`${workflowId}|${week}`),
  };
  const reports: ReportStore = {
    putObject: async (key, body, contentType) => {
      objects.set(key, { body: new TextDecoder().decode(body), contentType });
    },
  };
  const drills: DrillStore = {
    putDrill: async () => {},
    listDrills: async (workflowId): Promise<DrillRecord[]> =>
      workflowId === 'support-triage'
        ? [
            {
              drillId: 'drill-1',
              workflowId,
              startedAt: '2026-05-13T08:00:00.000Z',
              by: 'ops',
              target: 'local',
              offEffectMs: 900,
              onEffectMs: 800,
              outcome: 'passed',
            },
          ]
        : [],
  };
  const flags: FlagReader = {
    read: async () => ({
      values: flagValuesOf(initialFlagDocument(defaultRegistry.ids(), now)),
      version: '1',
    }),
  };
  const index = new InMemoryEventIndex();
  index.add(
    stored({
      type: 'action',
      eventId: 'a1',
      workflowId: 'support-triage',
      unitId: 'u1',
      occurredAt: '2026-05-12T10:00:00Z',
      model: { provider: 'anthropic', name: 'claude-sonnet', version: '1' },
      usage: { inputTokens: 1_000_000, outputTokens: 0 },
      toolCalls: [
        { name: 'refund', endpoint: 'e', parameters: {}, outcome: 'failure', errorCode: 'TIMEOUT' },
      ],
    }),
    // Before the quarter: not in the mix. Before the week: not among the week's failures.
    stored({
      type: 'action',
      eventId: 'a0',
      workflowId: 'support-triage',
      unitId: 'u0',
      occurredAt: '2026-03-30T10:00:00Z',
      model: { provider: 'anthropic', name: 'claude-sonnet', version: '1' },
      usage: { inputTokens: 1_000_000, outputTokens: 0 },
      toolCalls: [{ name: 'refund', endpoint: 'e', parameters: {}, outcome: 'failure', errorCode: 'OLD' }],
    }),
    stored({
      type: 'rollback',
      eventId: 'kill-switch:local:2:support-triage',
      workflowId: 'support-triage',
      unitId: 'kill-switch',
      occurredAt: '2026-05-04T10:00:00Z',
      reason: 'refunds misfiring',
      initiatedBy: 'ops',
      from: 'enabled',
      to: 'disabled',
      metadata: { flag: 'support-triage', scope: 'workflow' },
    }),
  );
  // The archive holds what the index let go of: the quarter's first days are before its 45-day window.
  const archive = new InMemoryEventArchive();
  const archived = stored({
    type: 'action',
    eventId: 'a-early',
    workflowId: 'support-triage',
    unitId: 'u-early',
    occurredAt: '2026-04-02T10:00:00Z',
    model: { provider: 'openai', name: 'gpt-5', version: '1' },
    usage: { inputTokens: 2_000_000, outputTokens: 0 },
    toolCalls: [],
  });
  const archiveKey = archiveObjectKey({
    retentionMonths: 12,
    workflowId: 'support-triage',
    receivedAt: new Date(archived.receivedAt),
    requestId: 'early-request',
  });
  archive.objects.set(archiveKey, [{ ...archived, archiveKey }]);
  const deps: ReportsJobDependencies = {
    index,
    archive: { events: new InMemoryArchivedEvents(archive), hotIndexDays: 45 },
    kpis,
    prices: { putTable: async () => {}, listTables: async () => [prices] },
    drills,
    registry: defaultRegistry,
    flags,
    reports,
    clock: () => new Date(now),
  };
  return { deps, objects };
}

describe('runReportsJob', () => {
  it('writes each report as JSON and HTML under its period, and an index of the latest', async () => {
    // Prepare
    const { deps, objects } = setup();

    // Act
    const result = await runReportsJob({}, deps);

    // Assess
    expect(result).toMatchObject({
      week: '2026-W20',
      month: '2026-05',
      quarter: '2026-Q2',
      indexUpdated: true,
    });
    expect([...objects.keys()].sort()).toEqual([
      'governance/index.json',
      'governance/monthly/2026-05/autonomy-risk-review.html',
      'governance/monthly/2026-05/autonomy-risk-review.json',
      'governance/quarterly/2026-Q2/vendor-model-strategy.html',
      'governance/quarterly/2026-Q2/vendor-model-strategy.json',
      'governance/runbooks/code-review.html',
      'governance/runbooks/code-review.json',
      'governance/runbooks/support-triage.html',
      'governance/runbooks/support-triage.json',
      'governance/weekly/2026-W20/agent-ops-review.html',
      'governance/weekly/2026-W20/agent-ops-review.json',
    ]);
    expect(result.keys.at(-1)).toBe(GOVERNANCE_INDEX_KEY);
    expect(objects.get('governance/weekly/2026-W20/agent-ops-review.html')?.contentType).toBe(
      'text/html; charset=utf-8',
    );
    const json = (key: string) => JSON.parse(objects.get(key)?.body ?? 'null');
    expect(json(GOVERNANCE_INDEX_KEY)).toEqual({
      generatedAt: '2026-05-20T06:00:00.000Z',
      week: '2026-W20',
      reports: [
        expect.objectContaining({
          kind: 'agent-ops-review',
          title: 'Agent Ops Review 2026-W20',
          period: '2026-W20',
          complete: true,
          html: 'governance/weekly/2026-W20/agent-ops-review.html',
          json: 'governance/weekly/2026-W20/agent-ops-review.json',
        }),
        expect.objectContaining({
          kind: 'autonomy-risk-review',
          title: 'Autonomy + Risk Review 2026-05 (to date)',
          period: '2026-05',
          complete: false,
        }),
        expect.objectContaining({
          kind: 'vendor-model-strategy',
          period: '2026-Q2',
          json: 'governance/quarterly/2026-Q2/vendor-model-strategy.json',
        }),
        expect.objectContaining({ kind: 'runbook', workflowId: 'support-triage', period: null }),
        expect.objectContaining({
          kind: 'runbook',
          workflowId: 'code-review',
          html: 'governance/runbooks/code-review.html',
        }),
      ],
    });
    const weekly = json('governance/weekly/2026-W20/agent-ops-review.json');
    expect(weekly.topFailures).toEqual([
      expect.objectContaining({ label: 'refund failed (TIMEOUT)', count: 1 }),
    ]);
    const quarterly = json('governance/quarterly/2026-Q2/vendor-model-strategy.json');
    // The quarter's mix: the action the index still has, and the one before its window, from the archive.
    expect(quarterly.models).toEqual([
      expect.objectContaining({ model: 'anthropic/claude-sonnet', actions: 1, costUsd: 3 }),
      expect.objectContaining({ model: 'openai/gpt-5', actions: 1 }),
    ]);
    const monthly = json('governance/monthly/2026-05/autonomy-risk-review.json');
    expect(monthly.rollbacks).toEqual([
      expect.objectContaining({ reason: 'refunds misfiring', incident: true }),
    ]);
    expect(monthly.workflows[0].evals.message).toBe('no eval runs recorded (no eval store connected)');
    expect(json('governance/runbooks/support-triage.json').drills).toHaveLength(1);
  });

  it('re-running an older week rewrites its reports but leaves the index on the latest', async () => {
    const { deps, objects } = setup();
    const result = await runReportsJob({ week: '2026-W18' }, deps);
    expect(result.indexUpdated).toBe(false);
    expect(objects.has(GOVERNANCE_INDEX_KEY)).toBe(false);
    expect(objects.has('governance/weekly/2026-W18/agent-ops-review.json')).toBe(true);
    expect(objects.has('governance/monthly/2026-04/autonomy-risk-review.json')).toBe(true);
  });

  it('gives the same reports for the same data, and reads evals when a store is connected', async () => {
    const { deps, objects } = setup();
    const evals: EvalStore = {
      putSet: async () => {},
      getSet: async () => undefined,
      listSets: async () => [],
      putRun: async () => 'stored',
      listRuns: async () => [],
    };
    await runReportsJob({}, { ...deps, evals });
    const first = new Map(objects);
    await runReportsJob({}, { ...deps, evals });
    expect(objects).toEqual(first);
    const monthly = JSON.parse(
      objects.get('governance/monthly/2026-05/autonomy-risk-review.json')?.body ?? '{}',
    );
    expect(monthly.workflows[0].evals.message).toBe('no eval runs recorded: no eval set is registered');
  });

  it("counts the week's shadow-lane units with their reviews however late, and rollout-phase violations by week", async () => {
    // Prepare: support-triage units completed in 2026-W20 — two in the shadow lane (one reviewed a week
    // later, one sampled and awaiting review), one mixed; and actions its rollout phase had not opened
    const { deps, objects } = setup();
    const index = deps.index as InMemoryEventIndex;
    const sampled = (unitId: string) => isSampledForReview('support-triage', unitId, 0.1);
    const unitIds = Array.from({ length: 200 }, (_, n) => `shadow-${n}`);
    const reviewed = unitIds.find((id) => !sampled(id)) as string;
    const waiting = unitIds.find(sampled) as string;
    const event = (type: string, unitId: string, occurredAt: string, extra: object = {}) =>
      stored({
        type,
        eventId: `${type}-${unitId}-${occurredAt}`,
        workflowId: 'support-triage',
        unitId,
        occurredAt,
        ...extra,
      } as LedgerEvent);
    for (const unitId of [reviewed, waiting]) {
      index.add(
        event('action', unitId, '2026-05-08T10:00:00Z', { lane: 'shadow' }),
        event('unit.completed', unitId, '2026-05-12T10:00:00Z'),
      );
    }
    index.add(
      event('review.verdict', reviewed, '2026-05-19T10:00:00Z', {
        reviewerId: 'r',
        verdict: 'defect',
        reviewMinutes: 3,
      }),
      event('action', 'mixed', '2026-05-11T10:00:00Z', { lane: 'shadow' }),
      event('action', 'mixed', '2026-05-11T11:00:00Z', { lane: 'hitl' }),
      event('unit.completed', 'mixed', '2026-05-12T10:00:00Z'),
      {
        ...event('action', 'early-1', '2026-05-05T10:00:00Z', { lane: 'autonomous' }),
        rolloutPhaseViolation: { phase: 'evals', lane: 'autonomous' },
      },
      {
        ...event('action', 'early-2', '2026-05-13T10:00:00Z', { lane: 'autonomous' }),
        rolloutPhaseViolation: { phase: 'evals', lane: 'autonomous' },
      },
      {
        ...event('action', 'early-3', '2026-05-14T10:00:00Z', { lane: 'hitl' }),
        rolloutPhaseViolation: { phase: 'baseline', lane: 'hitl' },
      },
    );

    // Act: run on the Wednesday after 2026-W21, so the late verdict is in
    await runReportsJob({ week: '2026-W20' }, { ...deps, clock: () => new Date('2026-05-27T06:00:00Z') });

    // Assess
    const json = (key: string) => JSON.parse(objects.get(key)?.body ?? 'null');
    const weekly = json('governance/weekly/2026-W20/agent-ops-review.json');
    expect(weekly.shadowReviews).toEqual([
      {
        workflowId: 'support-triage',
        units: 2,
        sampled: 1,
        reviewed: 1,
        defective: 1,
        defectRate: 1,
        pending: 1,
      },
      expect.objectContaining({ workflowId: 'code-review', units: 0 }),
    ]);
    expect(weekly.violations[0]).toMatchObject({
      rolloutPhaseViolations: 2,
      byPhase: [
        { phase: 'baseline', lane: 'hitl', count: 1 },
        { phase: 'evals', lane: 'autonomous', count: 1 },
      ],
    });
    const monthly = json('governance/monthly/2026-05/autonomy-risk-review.json');
    expect(
      monthly.workflows[0].violationsByWeek.map((row: { week: string; rolloutPhaseViolations: number }) => [
        row.week,
        row.rolloutPhaseViolations,
      ]),
    ).toEqual([
      ['2026-W19', 1],
      ['2026-W20', 2],
    ]);
  });

  it('refuses a malformed week', async () => {
    const { deps } = setup();
    await expect(runReportsJob({ week: '2026-20' }, deps)).rejects.toThrow('not an ISO week');
  });
});
