import { describe, expect, it } from 'vitest';
import type { Person } from '#lib/auth/people.ts';
import { boundaryViolations, unlistedTools } from '#lib/boundaries/check.ts';
import { renderOverview } from '#lib/console/overview/render.ts';
import { loadDashboard } from '#lib/console/overview/view.ts';
import { reviewsBody, unitBody } from '#lib/console/pages.ts';
import { evalDue, modelVersionOf, VersionsSeen } from '#lib/evals/due.ts';
import type { EvalRun } from '#lib/evals/schema.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { ingestEvents } from '#lib/ingest/ingest-events.ts';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import { runKpiJob } from '#lib/kpi/job.ts';
import { kpiRecordSchema } from '#lib/kpi/record.ts';
import { lastCompleteWeek, weekBounds } from '#lib/kpi/weeks.ts';
import { html } from '#lib/presentation/html.ts';
import { PriceBook } from '#lib/pricing/price-table.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import type { Workflow } from '#lib/registry/workflows.ts';
import { buildAgentOpsReview } from '#lib/reports/agent-ops-review/model.ts';
import { renderAgentOpsReview } from '#lib/reports/agent-ops-review/render.ts';
import { actionEvent } from '../support/events.ts';
import {
  InMemoryEvalStore,
  InMemoryEventArchive,
  InMemoryEventIndex,
  InMemoryKpiStore,
} from '../support/in-memory-stores.ts';

const supportTriage = defaultRegistry.get('support-triage') as Workflow;
const call = (name: string, parameters: unknown = {}) => ({
  name,
  endpoint: 'tools.internal',
  parameters,
  outcome: 'success',
});
const action = (...names: string[]) => ({ toolCalls: names.map((name) => call(name)) });

describe('unlisted-tool: a tool the boundary neither allows nor forbids', () => {
  it('does not flag a tool CAN lists (canTools)', () => {
    expect(supportTriage.autonomyBoundary.canTools).toContain('lookup_order');
    expect(unlistedTools(action('lookup_order', 'search_kb'), supportTriage)).toEqual([]);
  });

  it('leaves a CANNOT-listed tool to the boundary check: a violation there, not unlisted', () => {
    const closing = action('close_account');
    expect(unlistedTools(closing, supportTriage)).toEqual([]);
    expect(boundaryViolations(closing, supportTriage).map((v) => `${v.kind}:${v.ruleId}`)).toEqual([
      'cannot:close-account',
    ]);
  });

  it('counts a tool named only by a conditional rule or an approval rule as listed', () => {
    const workflow = {
      autonomyBoundary: {
        ...supportTriage.autonomyBoundary,
        canTools: [],
        cannot: [
          { id: 'big', description: 'd', tool: 'refund', when: [{ path: 'amount', op: '>', value: 5 }] },
        ],
        approvals: [{ id: 'a', description: 'd', tool: 'post_reply', approver: 'lead' }],
      },
    } as unknown as Workflow;
    expect(unlistedTools(action('refund', 'post_reply'), workflow)).toEqual([]);
  });

  it('flags each unlisted tool once, in call order, whatever else the action called', () => {
    expect(
      unlistedTools(action('legacy_crm', 'lookup_order', 'wire_money', 'legacy_crm'), supportTriage),
    ).toEqual(['legacy_crm', 'wire_money']);
  });

  it('flags every tool of a workflow with no boundary written: no policy is the most unwritten', () => {
    const unwritten = { autonomyBoundary: undefined } as unknown as Workflow;
    expect(unlistedTools(action('lookup_order'), unwritten)).toEqual(['lookup_order']);
    expect(unlistedTools({ toolCalls: 'garbage' }, supportTriage)).toEqual([]);
  });

  it('is recorded at ingest and read back with violations=unlisted-tool', async () => {
    const index = new InMemoryEventIndex();
    const now = new Date();
    const flagged = actionEvent({ toolCalls: [call('legacy_crm'), call('lookup_order')] });
    const clean = actionEvent();
    const result = await ingestEvents(
      { events: [flagged, clean] },
      { principal: 'test', workflows: '*' },
      {
        index,
        archive: new InMemoryEventArchive(),
        registry: defaultRegistry,
        hasher: new ActorHasher(Buffer.alloc(32, 7)),
        clock: () => now,
      },
    );
    expect(result.accepted).toBe(2);
    const selected = [];
    for await (const stored of index.events({
      workflowId: 'support-triage',
      onlyViolations: 'unlisted-tool',
      nowSeconds: Math.floor(now.getTime() / 1000),
    }))
      selected.push(stored);
    expect(selected.map((stored) => [stored.event.eventId, stored.unlistedTools])).toEqual([
      [flagged.eventId, ['legacy_crm']],
    ]);
  });
});

const WEEK = '2026-W47';
const { startMs } = weekBounds(WEEK);
const at = (hours: number) => startMs + hours * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
let seq = 0;
function weekAction(hours: number, templateVersion: string, tools: string[] = ['lookup_order']) {
  return {
    event: {
      eventId: `a-${++seq}`,
      type: 'action',
      workflowId: 'support-triage',
      unitId: `u-${seq}`,
      occurredAt: iso(at(hours)),
      prompt: { templateId: 'triage', templateVersion },
      model: { provider: 'anthropic', name: 'claude-sonnet', version: '2026-05' },
      toolCalls: tools.map((name) => call(name)),
    } as unknown as Extract<LedgerEvent, { type: 'action' }>,
    occurredAtMs: at(hours),
  };
}
function run(overrides: Partial<EvalRun> = {}): EvalRun {
  return {
    runId: `run-${++seq}`,
    workflowId: 'support-triage',
    evalSet: 'triage-golden',
    evalSetVersion: 1,
    ranBy: 'ci',
    ranAt: iso(at(-24)),
    promptVersion: '7',
    modelVersion: 'anthropic/claude-sonnet/2026-05',
    results: [{ caseId: 'c-1', pass: true }],
    ...overrides,
  };
}
function seen(...actions: ReturnType<typeof weekAction>[]) {
  const versions = new VersionsSeen();
  for (const { event, occurredAtMs } of actions) versions.add(event, occurredAtMs);
  return versions.seen();
}
const NOW = at(24 * 8);

describe('evalDue', () => {
  it('is due when the actions moved to a prompt version the latest run was not run on, saying since when', () => {
    const due = evalDue(seen(weekAction(1, '7'), weekAction(30, '8'), weekAction(50, '8')), run(), true, NOW);
    expect(due).toEqual({
      due: true,
      reasons: ['prompt triage 8 seen since 2026-11-17, last eval run on 7'],
      lastRunAt: run().ranAt,
    });
  });

  it('is due when the latest run is more than 30 days old, even on the current versions', () => {
    const old = run({ ranAt: iso(NOW - 31 * 86_400_000) });
    const due = evalDue(seen(weekAction(1, '7')), old, true, NOW);
    expect(due.due).toBe(true);
    expect(due.reasons).toEqual([
      expect.stringMatching(/ran on 2026-10-\d\d, 31 days ago \(more than 30\)$/),
    ]);
    expect(evalDue(seen(weekAction(1, '7')), run({ ranAt: iso(NOW - 29 * 86_400_000) }), true, NOW).due).toBe(
      false,
    );
  });

  it('is cleared by a run on the new versions', () => {
    const week = seen(weekAction(1, '7'), weekAction(30, '8'));
    expect(evalDue(week, run({ promptVersion: '8' }), true, NOW)).toEqual({
      due: false,
      reasons: [],
      lastRunAt: run().ranAt,
    });
  });

  it('names a new model, and tools outside a run that records its tool set', () => {
    const week = seen(weekAction(1, '7', ['lookup_order', 'refund']));
    const due = evalDue(
      week,
      run({ modelVersion: 'anthropic/claude-sonnet/2026-01', tools: ['lookup_order'] }),
      true,
      NOW,
    );
    expect(due.reasons).toEqual([
      'model anthropic/claude-sonnet/2026-05 seen since 2026-11-16, last eval run on anthropic/claude-sonnet/2026-01',
      "tool refund called since 2026-11-16, not in the last eval run's tools",
    ]);
    // A run that does not record its tools is judged on prompt, model and age only.
    expect(evalDue(week, run(), true, NOW).due).toBe(false);
  });

  it('is due for a set never run, and not for a workflow without any eval set', () => {
    const week = seen(weekAction(1, '7'));
    expect(evalDue(week, undefined, true, NOW)).toEqual({
      due: true,
      reasons: ['no eval run is recorded for its eval set'],
      lastRunAt: null,
    });
    expect(evalDue(week, undefined, false, NOW).due).toBe(false);
  });

  it('names models as eval runs do', () => {
    expect(modelVersionOf({ provider: 'openai', name: 'gpt', version: '5' })).toBe('openai/gpt/5');
  });

  it('is judged by the KPI job from the week and the eval runs, and cleared by its next run', async () => {
    const index = new InMemoryEventIndex();
    for (const { event, occurredAtMs } of [weekAction(1, '7'), weekAction(30, '8')])
      await index.putIfAbsent([
        {
          event,
          occurredAtMs,
          receivedAt: iso(occurredAtMs),
          contentHash: event.eventId,
          expiresAt: Math.floor(NOW / 1000) + 86_400,
          archiveKey: 'k',
        },
      ]);
    const evals = new InMemoryEvalStore();
    evals.sets.push({
      workflowId: 'support-triage',
      name: 'triage-golden',
      version: 1,
      cases: [],
      registeredAt: iso(at(-48)),
      registeredBy: 'ops',
    });
    evals.runs.push(run());
    const store = new InMemoryKpiStore();
    const deps = {
      index,
      prices: store,
      kpis: store,
      reports: { putObject: async () => {} },
      clock: () => new Date(NOW),
      evals,
    };
    const before = await runKpiJob('support-triage', WEEK, deps);
    expect(before.evalDue).toMatchObject({
      due: true,
      reasons: [expect.stringContaining('prompt triage 8')],
    });
    evals.runs.push(run({ promptVersion: '8', ranAt: iso(NOW - 3_600_000) }));
    const after = await runKpiJob('support-triage', WEEK, deps);
    expect(after.evalDue).toEqual({ due: false, reasons: [], lastRunAt: iso(NOW - 3_600_000) });
  });
});

describe('catches: a defect found in review that did not escape', () => {
  const unit = (kpis: WeeklyKpis, unitId: string, verdicts: [string, 'pass' | 'defect', boolean?][]) => {
    const base = { workflowId: 'support-triage', unitId };
    kpis.addWeekEvent({
      event: {
        ...base,
        eventId: `${unitId}-done`,
        type: 'unit.completed',
        occurredAt: iso(at(5)),
      } as LedgerEvent,
      occurredAtMs: at(5),
    });
    for (const [i, [reviewerId, verdict, escaped]] of verdicts.entries())
      kpis.addWeekEvent({
        event: {
          ...base,
          eventId: `${unitId}-v${i}`,
          type: 'review.verdict',
          occurredAt: iso(at(6)),
          reviewerId,
          verdict,
          reviewMinutes: 0,
          ...(escaped === undefined ? {} : { escaped }),
        } as LedgerEvent,
        occurredAtMs: at(6),
      });
  };

  it('counts a defect not escaped as a catch, an escaped one as an escape only, a pass as neither', () => {
    const kpis = new WeeklyKpis('support-triage', WEEK, new PriceBook([]));
    unit(kpis, 'caught', [['rev-a', 'defect']]);
    unit(kpis, 'caught-explicitly', [['rev-b', 'defect', false]]);
    unit(kpis, 'escaped', [['rev-a', 'defect', true]]);
    unit(kpis, 'passed', [['rev-b', 'pass']]);
    unit(kpis, 'two-finders', [
      ['rev-a', 'defect'],
      ['rev-c', 'defect'],
    ]);
    const record = kpis.finish();
    expect(record.catches).toBe(3);
    expect(record.escapedUnits).toBe(1);
    expect(record.defectiveUnits).toBe(4);
    expect(record.catchesByReviewer).toEqual({ 'rev-a': 2, 'rev-b': 1, 'rev-c': 1 });
  });

  it('counts unlisted-tool actions and their tools per week', () => {
    const kpis = new WeeklyKpis('support-triage', WEEK, new PriceBook([]));
    const flagged = weekAction(2, '7', ['legacy_crm']);
    kpis.addWeekEvent({ ...flagged, unlistedTools: ['legacy_crm'] });
    kpis.addWeekEvent({ ...weekAction(3, '7', ['wire_money']), unlistedTools: ['wire_money'] });
    kpis.addWeekEvent(weekAction(4, '7'));
    const record = kpis.finish();
    expect(record.unlistedToolActions).toBe(2);
    expect(record.unlistedTools).toEqual(['legacy_crm', 'wire_money']);
  });
});

describe('KPI record: older stored records still read', () => {
  it('reads a record from before issue 10 with no catches, unlisted tools or evalDue judged', () => {
    const full = new WeeklyKpis('code-review', WEEK, new PriceBook([])).finish();
    const {
      catches,
      catchesByReviewer,
      unlistedToolActions,
      unlistedTools: tools,
      evalDue: due,
      ...old
    } = full;
    expect(kpiRecordSchema.parse(JSON.parse(JSON.stringify(old)))).toEqual({
      ...old,
      catches: 0,
      catchesByReviewer: {},
      unlistedToolActions: 0,
      unlistedTools: [],
      evalDue: null,
    });
    const judged = { ...full, evalDue: { due: true, reasons: ['x'], lastRunAt: null } };
    expect(kpiRecordSchema.parse(JSON.parse(JSON.stringify(judged)))).toEqual(judged);
  });
});

describe('the weekly review: evals due, catches per reviewer, unlisted tools', () => {
  it('shows each workflow beside its escapes, and says when the week has no record', () => {
    const record = {
      ...new WeeklyKpis('support-triage', WEEK, new PriceBook([])).finish(),
      escapedUnits: 1,
      catches: 3,
      catchesByReviewer: { 'hmac-sha256:bbb': 1, 'hmac-sha256:aaa': 2 },
      unlistedToolActions: 2,
      unlistedTools: ['legacy_crm'],
      evalDue: {
        due: true,
        reasons: ['prompt triage 8 seen since 2026-11-17, last eval run on 7'],
        lastRunAt: null,
      },
    };
    const model = buildAgentOpsReview({
      week: WEEK,
      generatedAt: iso(NOW),
      workflows: [supportTriage, defaultRegistry.get('code-review') as Workflow],
      records: [record],
      activity: [],
    });
    expect(model.operatingModel).toEqual([
      {
        workflowId: 'support-triage',
        evalDue: record.evalDue,
        catches: 3,
        escapedUnits: 1,
        catchesByReviewer: [
          { reviewer: 'hmac-sha256:aaa', catches: 2 },
          { reviewer: 'hmac-sha256:bbb', catches: 1 },
        ],
        unlistedToolActions: 2,
        unlistedTools: ['legacy_crm'],
      },
      {
        workflowId: 'code-review',
        evalDue: null,
        catches: null,
        escapedUnits: null,
        catchesByReviewer: [],
        unlistedToolActions: null,
        unlistedTools: [],
      },
    ]);
    const page = renderAgentOpsReview(model);
    expect(page).toContain('Evals due, catches and unlisted tools');
    expect(page).toContain('prompt triage 8 seen since 2026-11-17, last eval run on 7');
    expect(page).toContain('<code>legacy_crm</code>');
    expect(page).toContain('not judged');
  });
});

describe('the console: eval due and catches on the Overview, unlisted tools on the unit and Reviews pages', () => {
  const person: Person = {
    id: 'token:t1',
    name: 'alice',
    roles: {
      viewer: new Set(['support-triage']),
      reviewer: new Set(['support-triage']),
      operator: new Set(),
    },
  } as unknown as Person;

  it('warns that an eval is due with its reasons, names unlisted tools, and tiles catches beside escapes', async () => {
    const clock = () => new Date(NOW);
    const week = lastCompleteWeek(NOW);
    const current = {
      ...new WeeklyKpis('support-triage', week, new PriceBook([])).finish(),
      escapedUnits: 1,
      catches: 4,
      unlistedToolActions: 2,
      unlistedTools: ['legacy_crm'],
      evalDue: {
        due: true,
        reasons: ['prompt triage 8 seen since 2026-11-17, last eval run on 7'],
        lastRunAt: null,
      },
    };
    const view = await loadDashboard(
      {
        registry: defaultRegistry,
        kpis: {
          getRecord: async (workflowId, w) =>
            workflowId === 'support-triage' && w === week ? current : undefined,
        },
        autonomy: async (workflowId) => ({
          workflowId,
          autonomousAllowed: true,
          lane: 'autonomous',
          flagVersion: 'v1',
          reason: null,
          changedAt: null,
        }),
        reports: { listKeys: async () => ({ keys: [], truncated: false }), open: async () => undefined },
        clock,
        timeoutMs: 200,
      },
      (workflowId) => workflowId === 'support-triage',
    );
    const page = renderOverview(view, html``).value;
    expect(page).toMatch(
      /data-testid="eval-due"><strong>Eval due:<\/strong>\s*prompt triage 8 seen since 2026-11-17, last eval run on 7\./,
    );
    expect(page).toContain('<code>legacy_crm</code>');
    expect(page).toContain('events?violations=unlisted-tool');
    expect(page).toMatch(/Catches<\/div>\s*<div class="value" data-kpi="catches">4<\/div>/);
  });

  it('marks an unlisted tool call on the unit page and counts them per workflow on the Reviews page', () => {
    const event = {
      ...actionEvent({ toolCalls: [call('legacy_crm'), call('lookup_order')] }),
      occurredAt: iso(at(1)),
    } as unknown as LedgerEvent;
    const unitPage = unitBody(
      {
        workflowId: 'support-triage',
        unitId: event.unitId,
        events: [{ event, receivedAt: iso(at(1)), unlistedTools: ['legacy_crm'] }],
        truncated: false,
        fromArchive: false,
        hotIndexDays: 45,
        queue: undefined,
        ownReviewerId: 'hmac-sha256:me',
      },
      person,
      { csrf: 'c', verdictId: 'v', openedAt: NOW },
    ).value;
    expect(unitPage).toContain(
      '<strong>legacy_crm</strong> <span class="unlisted" data-unlisted-tool="legacy_crm">not in the boundary: unlisted-tool</span>',
    );
    expect(unitPage).not.toContain('data-unlisted-tool="lookup_order"');
    const reviews = reviewsBody(
      {
        week: WEEK,
        workflowIds: ['support-triage'],
        filter: {},
        pending: [],
        more: false,
        coverage: [
          {
            workflowId: 'support-triage',
            completedThisWeek: 10,
            reviewedThisWeek: 1,
            sampleRate: 0.1,
            unlistedToolActions: 3,
          },
        ],
      },
      person,
    ).value;
    expect(reviews).toContain('<th scope="col">Unlisted-tool actions</th>');
    expect(reviews).toContain('<td data-unlisted-tools="support-triage">3</td>');
  });
});
