import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvalRun } from '#lib/evals/schema.ts';
import type { DrillRecord } from '#lib/kill-switch/drills.ts';
import { flagValuesOf, initialFlagDocument } from '#lib/kill-switch/flag-document.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import type { StoredEvent } from '#lib/ports.ts';
import { defaultRegistry, demoWorkflows } from '#lib/registry/default-registry.ts';
import { readRolloutFacts } from '#lib/registry/rollout-facts.ts';
import {
  allGatesPass,
  checkRolloutGates,
  type DrillFact,
  type EvalRunFact,
  type GateFacts,
  overrideEventsFor,
  ROLLOUT_GATES_UNIT,
  type WorkflowFacts,
} from '#lib/registry/rollout-gates.ts';
import { type RolloutPhase, type WorkflowInput, WorkflowRegistry } from '#lib/registry/workflows.ts';
import { buildAutonomyRiskReview } from '#lib/reports/autonomy-risk-review/model.ts';
import { renderAutonomyRiskReview } from '#lib/reports/autonomy-risk-review/render.ts';
import { gateOverrideRows } from '#lib/reports/autonomy-risk-review/tally.ts';
import { readKillSwitchState } from '#lib/reports/governance/model.ts';
import { runReportsJob } from '#lib/reports/job.ts';
import { monthOfWeek, toDate } from '#lib/reports/periods.ts';
import { indexedEvent } from '../support/events.ts';
import { InMemoryArchivedEvents } from '../support/in-memory-archived-events.ts';
import { InMemoryEventArchive, InMemoryEventIndex } from '../support/in-memory-stores.ts';

const NOW = new Date('2026-12-01T12:00:00Z');
const [triage, review] = demoWorkflows as [WorkflowInput, WorkflowInput];

const registryWith = (phase: RolloutPhase, changes: Partial<WorkflowInput> = {}) =>
  WorkflowRegistry.parse([{ ...triage, rolloutPhase: phase, ...changes }, review]);

const recentDrill: DrillFact = {
  drillId: 'drill-1',
  startedAt: '2026-11-20T10:00:00Z',
  offEffectMs: 900,
  outcome: 'passed',
};

const passingRun: EvalRunFact = {
  runId: 'run-2',
  evalSet: 'regression',
  ranAt: '2026-11-25T10:00:00Z',
  promptVersion: 'v7',
  modelVersion: 'anthropic/claude/4',
  passed: 110,
  cases: 120,
};

/** Everything support-triage needs for phase autonomous. */
const allMet: WorkflowFacts = {
  kpiWeeks: 2,
  evalSets: [{ name: 'regression', caseCount: 120 }],
  evalRuns: [passingRun],
  currentVersions: { promptVersion: 'v7', modelVersion: 'anthropic/claude/4' },
  drills: [recentDrill],
  runbookPublished: true,
};

const factsFor = (triageFacts: Partial<WorkflowFacts>): GateFacts => ({
  now: NOW,
  drillBoundMs: 2000,
  byWorkflow: new Map([['support-triage', { ...allMet, ...triageFacts }]]),
});

const unmetOf = (from: RolloutPhase, to: RolloutPhase, facts: Partial<WorkflowFacts>, changes = {}) =>
  checkRolloutGates(registryWith(from), registryWith(to, changes), factsFor(facts)).flatMap(
    (move) => move.unmet,
  );

describe('rollout gates', () => {
  it('pass every move when the facts are there', () => {
    // Act
    const moves = checkRolloutGates(registryWith('baseline'), registryWith('autonomous'), factsFor({}));

    // Assess
    expect(moves).toEqual([{ workflowId: 'support-triage', from: 'baseline', to: 'autonomous', unmet: [] }]);
    expect(allGatesPass(moves)).toBe(true);
  });

  it.each<[RolloutPhase, RolloutPhase]>([
    ['autonomous', 'evals'],
    ['autonomous', 'baseline'],
    ['hitl', 'hitl'],
    ['evals', 'hitl'],
  ])('never gate %s → %s (earlier or unchanged), whatever is missing', (from, to) => {
    const nothing = { kpiWeeks: 0, evalSets: [], evalRuns: [], drills: [], runbookPublished: false };
    expect(checkRolloutGates(registryWith(from), registryWith(to), factsFor(nothing))).toEqual([]);
  });

  it('hitl: refuses a baseline shorter than two weeks of KPIs', () => {
    expect(unmetOf('baseline', 'hitl', { kpiWeeks: 1 })).toEqual([
      "support-triage → hitl: 1 week of KPIs recorded, a baseline needs at least 2; keep logging the humans' work and run `agent-ledger jobs kpi --workflow support-triage` for each complete week",
    ]);
    expect(unmetOf('baseline', 'hitl', { kpiWeeks: 2 })).toEqual([]);
  });

  it('hitl: refuses a boundary without CAN, CANNOT rules or approvals', () => {
    const unwritten = {
      autonomyBoundary: { ...triage.autonomyBoundary, can: [], cannot: [], approvals: [] },
    };
    expect(unmetOf('baseline', 'hitl', {}, unwritten)).toEqual([
      'support-triage → hitl: the autonomy boundary has no CAN (autonomyBoundary.can), no CANNOT rules (autonomyBoundary.cannot), no approval rules (autonomyBoundary.approvals); write them in the registry file (the kill switch location and flippers are already required)',
    ]);
  });

  it('evals: refuses without a registered eval set of 100–300 cases', () => {
    expect(unmetOf('hitl', 'evals', { evalSets: [] })).toEqual([
      'support-triage → evals: no eval set of 100–300 cases is registered; register one with `agent-ledger evals register <file>`',
    ]);
    expect(unmetOf('hitl', 'evals', { evalSets: [{ name: 'small', caseCount: 40 }] })).toHaveLength(1);
    expect(unmetOf('hitl', 'evals', {})).toEqual([]);
  });

  it('autonomous: refuses a latest run on the current versions below the threshold', () => {
    const failing = { ...passingRun, runId: 'run-3', ranAt: '2026-11-28T10:00:00Z', passed: 100 };
    expect(unmetOf('evals', 'autonomous', { evalRuns: [...allMet.evalRuns, failing] })).toEqual([
      'support-triage → autonomous: the latest eval run on the current versions (prompt v7, model anthropic/claude/4, from its latest action) (run-3 of regression, 2026-11-28T10:00:00Z) passed 100 of 120 cases (83.3%), below its evalThreshold 90%; improve the agent, then run the eval set on those versions and record it with `agent-ledger evals record <run.json>`',
    ]);
    // The workflow's own threshold decides.
    expect(unmetOf('evals', 'autonomous', { evalRuns: [failing] }, { evalThreshold: 0.8 })).toEqual([]);
  });

  it('autonomous: a passing run on older versions does not count', () => {
    expect(unmetOf('evals', 'autonomous', { currentVersions: { promptVersion: 'v8' } })).toEqual([
      'support-triage → autonomous: no eval run is recorded on the current versions (prompt v8, from its latest action); run the eval set on those versions and record it with `agent-ledger evals record <run.json>`',
    ]);
  });

  it('autonomous: refuses without a drill in the last 30 days within the bound', () => {
    const old = { ...recentDrill, startedAt: '2026-10-20T10:00:00Z' };
    const slow = { ...recentDrill, offEffectMs: 4500 };
    expect(unmetOf('evals', 'autonomous', { drills: [old] })).toEqual([
      'support-triage → autonomous: no kill-switch drill in the last 30 days; run `agent-ledger drill support-triage` (drills run only while the autonomous lane is open)',
    ]);
    expect(unmetOf('evals', 'autonomous', { drills: [slow] })).toEqual([
      'support-triage → autonomous: no kill-switch drill in the last 30 days took effect within 2 s (1 ran; fastest off 4500 ms); run `agent-ledger drill support-triage` (drills run only while the autonomous lane is open)',
    ]);
    expect(unmetOf('evals', 'autonomous', { drills: [{ ...recentDrill, outcome: 'failed' }] })).toHaveLength(
      1,
    );
  });

  it('autonomous: refuses without a published runbook', () => {
    expect(unmetOf('evals', 'autonomous', { runbookPublished: false })).toEqual([
      'support-triage → autonomous: its runbook is not published; run `agent-ledger jobs reports`, which writes governance/runbooks/support-triage.html',
    ]);
  });

  it('names every unmet condition of every phase up to the target, with the stage in the advice', () => {
    const facts: GateFacts = {
      now: NOW,
      drillBoundMs: 20_000,
      stageOption: '--stage prod',
      byWorkflow: new Map(),
    };
    const [move] = checkRolloutGates(registryWith('baseline'), registryWith('autonomous'), facts);
    expect(move?.unmet).toHaveLength(5);
    expect(move?.unmet.every((text) => text.startsWith('support-triage → autonomous: '))).toBe(true);
    expect(move?.unmet.join('\n')).toContain('`agent-ledger drill support-triage --stage prod`');
  });

  it('gates a workflow new to the registry as moving from baseline', () => {
    const current = WorkflowRegistry.parse([review]);
    const moves = checkRolloutGates(current, registryWith('hitl'), factsFor({ kpiWeeks: 0 }));
    expect(moves).toMatchObject([{ workflowId: 'support-triage', from: undefined, to: 'hitl' }]);
    expect(moves[0]?.unmet).toHaveLength(1);
  });

  it('rejects an evalThreshold outside [0, 1] and defaults it to 0.9', () => {
    expect(() => registryWith('evals', { evalThreshold: 1.5 })).toThrow(
      '$[0].evalThreshold: must be a number from 0 to 1',
    );
    expect(registryWith('evals').get('support-triage')?.evalThreshold).toBe(0.9);
  });
});

describe('a rollout-gate override', () => {
  it('is one rollback event per overridden move, under its own unit, never a kill-switch flip', () => {
    // Prepare
    const moves = checkRolloutGates(
      registryWith('evals'),
      registryWith('autonomous'),
      factsFor({ drills: [] }),
    );

    // Act
    const events = overrideEventsFor(moves, {
      reason: 'drill blocked by the phase',
      initiatedBy: 'rita',
      at: '2026-12-01T12:00:00.000Z',
      deployId: '20261201T120000-abc',
      source: 'workflow registry file r.json',
    });

    // Assess
    expect(events).toEqual([
      {
        type: 'rollback',
        eventId: 'rollout-gates:20261201T120000-abc:support-triage',
        workflowId: 'support-triage',
        unitId: ROLLOUT_GATES_UNIT,
        occurredAt: '2026-12-01T12:00:00.000Z',
        reason: 'drill blocked by the phase',
        initiatedBy: 'rita',
        from: 'evals',
        to: 'autonomous',
        metadata: {
          kind: 'rollout-gate-override',
          unmet: moves[0]?.unmet,
          source: 'workflow registry file r.json',
        },
      },
    ]);
    expect(events[0]?.unitId).not.toBe('kill-switch');
    const stored = events.map((event) => ({ event, occurredAtMs: NOW.getTime() }) as unknown as StoredEvent);
    expect(gateOverrideRows(stored)).toEqual([
      {
        eventId: 'rollout-gates:20261201T120000-abc:support-triage',
        occurredAt: '2026-12-01T12:00:00.000Z',
        workflowId: 'support-triage',
        from: 'evals',
        to: 'autonomous',
        initiatedBy: 'rita',
        reason: 'drill blocked by the phase',
        unmet: moves[0]?.unmet,
      },
    ]);
  });

  it('is listed in the monthly review: who, when, why, from → to, the conditions overridden', async () => {
    // Prepare
    const moves = checkRolloutGates(
      registryWith('evals'),
      registryWith('autonomous'),
      factsFor({ drills: [] }),
    );
    const [event] = overrideEventsFor(moves, {
      reason: 'pilot <signed off>',
      initiatedBy: 'rita',
      at: '2026-05-14T09:00:00.000Z',
      deployId: 'd1',
      source: 'workflow registry file r.json',
    });
    const generatedAt = '2026-05-20T06:00:00.000Z';
    const killSwitch = await readKillSwitchState(
      {
        read: async () => ({
          values: flagValuesOf(initialFlagDocument(defaultRegistry.ids(), generatedAt)),
          version: '1',
        }),
      },
      generatedAt,
    );
    const input = {
      month: toDate(monthOfWeek('2026-W20'), '2026-W20'),
      week: '2026-W20',
      generatedAt,
      workflows: defaultRegistry.all(),
      killSwitch,
      records: [],
      rollbacks: [],
      drills: new Map(),
      evals: new Map(),
    };

    // Act
    const model = buildAutonomyRiskReview({
      ...input,
      gateOverrides: [{ event, occurredAtMs: Date.parse('2026-05-14T09:00:00Z') } as unknown as StoredEvent],
    });
    const page = renderAutonomyRiskReview(model);
    const without = renderAutonomyRiskReview(buildAutonomyRiskReview(input));

    // Assess
    expect(model.gateOverrides).toMatchObject([{ workflowId: 'support-triage', initiatedBy: 'rita' }]);
    expect(model.rollbacks).toEqual([]);
    expect(page).toContain('<h2>Rollout gate overrides</h2>');
    expect(page).toContain('pilot &lt;signed off&gt;');
    expect(page).toContain('evals → autonomous');
    expect(page).toContain('support-triage → autonomous: no kill-switch drill in the last 30 days');
    expect(without).toContain('No rollout gate was overridden in 2026-05.');
  });

  it('records nothing for moves whose gates pass', () => {
    const moves = checkRolloutGates(registryWith('evals'), registryWith('autonomous'), factsFor({}));
    const override = { reason: 'r', initiatedBy: 'w', at: NOW.toISOString(), deployId: 'd', source: 's' };
    expect(overrideEventsFor(moves, override)).toEqual([]);
  });
});

describe('the rollout facts reader', () => {
  it('reads KPI weeks with work, eval sets and runs, recent drills, the latest versions and the runbook', async () => {
    // Prepare
    const record = (week: string, throughput: number) =>
      ({ workflowId: 'support-triage', week, throughput }) as KpiRecord;
    const run = {
      runId: 'run-1',
      workflowId: 'support-triage',
      evalSet: 'regression',
      evalSetVersion: 1,
      ranBy: 'ci',
      ranAt: '2026-11-25T10:00:00Z',
      promptVersion: '7',
      modelVersion: 'anthropic/claude/4',
      results: [
        { caseId: 'a', pass: true },
        { caseId: 'b', pass: false },
      ],
    } satisfies EvalRun;
    const drill = (startedAt: string) =>
      ({
        ...recentDrill,
        startedAt,
        workflowId: 'support-triage',
        by: 'x',
        target: 't',
        onEffectMs: 1,
      }) as DrillRecord;
    const action = (version: number, at: string) => ({
      event: {
        type: 'action',
        prompt: { templateVersion: version },
        model: { provider: 'anthropic', name: 'claude', version: '4' },
        occurredAt: at,
      },
    });
    const askedKeys: string[] = [];

    // Act
    const facts = await readRolloutFacts(['support-triage'], {
      kpis: {
        listRecords: async () => [record('2026-W46', 0), record('2026-W47', 12), record('2026-W48', 9)],
      },
      evals: {
        listSets: async () => [
          {
            workflowId: 'support-triage',
            name: 'regression',
            latestVersion: 1,
            caseCount: 120,
            registeredAt: '',
            registeredBy: '',
          },
        ],
        listRuns: async () => [run],
      },
      drills: { listDrills: async () => [drill('2026-11-20T10:00:00Z'), drill('2026-09-01T10:00:00Z')] },
      index: {
        events: async function* () {
          yield action(6, '2026-11-20T10:00:00Z');
          yield action(7, '2026-11-21T10:00:00Z');
        } as never,
      },
      reports: {
        hasObject: async (key) => {
          askedKeys.push(key);
          return true;
        },
      },
      now: NOW,
      drillBoundMs: 2000,
    });

    // Assess
    expect(facts.byWorkflow.get('support-triage')).toEqual({
      kpiWeeks: 2,
      evalSets: [{ name: 'regression', caseCount: 120 }],
      evalRuns: [
        {
          runId: 'run-1',
          evalSet: 'regression',
          ranAt: '2026-11-25T10:00:00Z',
          promptVersion: '7',
          modelVersion: 'anthropic/claude/4',
          passed: 1,
          cases: 2,
        },
      ],
      currentVersions: { promptVersion: '7', modelVersion: 'anthropic/claude/4' },
      drills: [
        { drillId: 'drill-1', startedAt: '2026-11-20T10:00:00Z', offEffectMs: 900, outcome: 'passed' },
      ],
      runbookPublished: true,
    });
    expect(askedKeys).toEqual(['governance/runbooks/support-triage.html']);
  });
});

describe('agent-ledger registry, rollout-gate options', () => {
  const run = (...args: string[]) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agent-ledger-no-stack-'));
    const result = spawnSync(process.execPath, ['bin/agent-ledger.js', 'registry', ...args], {
      env: { ...process.env, LEDGER_DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('validate says why the gates were not checked when no stack answers, and still validates', () => {
    const result = run('validate', 'config/workflow-registry.json');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('config/workflow-registry.json is a valid workflow registry:');
    expect(result.stdout).toContain('Rollout gates not checked: no local stack found');
  });

  it.each([
    [['deploy', 'config/workflow-registry.json', '--override', '  '], '--override needs a reason'],
    [
      ['deploy', 'config/workflow-registry.json', '--as', 'rita'],
      '--as names who overrides the rollout gates',
    ],
    [
      ['validate', 'config/workflow-registry.json', '--override', 'x'],
      '--override and --as go with registry deploy',
    ],
  ])('%j is a usage error (exit 2)', (args, message) => {
    const result = run(...args);
    expect(result.stderr).toContain(message);
    expect(result.status).toBe(2);
  });
});

describe('the reports job', () => {
  it("reads the month's overrides from the ledger into the monthly review, apart from the flips", async () => {
    // Prepare
    const index = new InMemoryEventIndex();
    const moves = checkRolloutGates(
      registryWith('evals'),
      registryWith('autonomous'),
      factsFor({ drills: [] }),
    );
    for (const event of overrideEventsFor(moves, {
      reason: 'pilot signed off',
      initiatedBy: 'rita',
      at: '2026-05-14T09:00:00.000Z',
      deployId: 'd1',
      source: 'workflow registry file r.json',
    })) {
      index.add(indexedEvent(event));
    }
    const objects = new Map<string, string>();
    const now = '2026-05-20T06:00:00Z';

    // Act
    await runReportsJob(
      {},
      {
        index,
        archive: { events: new InMemoryArchivedEvents(new InMemoryEventArchive()), hotIndexDays: 45 },
        kpis: { putRecord: async () => {}, getRecord: async () => undefined },
        prices: { putTable: async () => {}, listTables: async () => [] },
        drills: { putDrill: async () => {}, listDrills: async () => [] },
        registry: defaultRegistry,
        flags: {
          read: async () => ({
            values: flagValuesOf(initialFlagDocument(defaultRegistry.ids(), now)),
            version: '1',
          }),
        },
        reports: { putObject: async (key, body) => void objects.set(key, new TextDecoder().decode(body)) },
        clock: () => new Date(now),
      },
    );

    // Assess
    const monthly = JSON.parse(objects.get('governance/monthly/2026-05/autonomy-risk-review.json') ?? '{}');
    expect(monthly.gateOverrides).toMatchObject([
      {
        workflowId: 'support-triage',
        from: 'evals',
        to: 'autonomous',
        initiatedBy: 'rita',
        reason: 'pilot signed off',
      },
    ]);
    expect(monthly.rollbacks).toEqual([]);
    expect(objects.get('governance/monthly/2026-05/autonomy-risk-review.html')).toContain('pilot signed off');
  });
});
