import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoWeekOf, weekBounds } from '#lib/kpi/weeks.ts';
import { demoWorkflows } from '#lib/registry/default-registry.ts';
import { apiClient } from '../support/api.ts';
import { cliResultOn } from '../support/cli.ts';
import { actionEvent } from '../support/events.ts';
import { type StackProcess, startStackProcess, stopStackProcess } from '../support/local-stack-process.ts';
import { reviewedUnit, TEST_PRICES } from '../support/reviewed-unit.ts';

const dir = mkdtempSync(join(tmpdir(), 'agent-ledger-gates-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content, null, 2));
  return path;
};
const [triage, review] = demoWorkflows as unknown as [Record<string, unknown>, Record<string, unknown>];
const registryIn = (phase: string) =>
  file(`registry-${phase}.json`, [{ ...triage, rolloutPhase: phase }, review]);

describe('rollout gates on registry deploy (a stack of its own: it changes the registry)', () => {
  // The tests build on each other: back to evals, forward refused, overridden, then passing on the facts.
  let stack: StackProcess;
  let run: ReturnType<typeof cliResultOn>;
  beforeAll(async () => {
    stack = await startStackProcess();
    run = cliResultOn(stack.dataDir);
  }, 120_000);
  afterAll(async () => {
    if (stack) await stopStackProcess(stack);
  });

  it('never gates a move to an earlier phase', () => {
    // Act
    const back = run('registry', 'deploy', registryIn('evals'));

    // Assess
    expect(back.stderr).toBe('');
    expect(back.status).toBe(0);
    expect(back.stdout).toContain('Deployed workflow registry version 2 on the local stack');
    expect(back.stdout).toContain('support-triage       phase evals');
  });

  it('refuses a move to a later phase, naming every unmet condition, and deploys nothing', () => {
    // Prepare
    const path = registryIn('autonomous');

    // Act
    const validate = run('registry', 'validate', path);
    const refused = run('registry', 'deploy', path);

    // Assess
    expect(validate.status).toBe(0);
    expect(validate.stdout).toContain('support-triage: evals → autonomous: 5 unmet');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `${path} moves a workflow to a later rollout phase with 5 unmet conditions; nothing was deployed:`,
    );
    for (const condition of [
      'support-triage → autonomous: 0 weeks of KPIs recorded, a baseline needs at least 2',
      'support-triage → autonomous: no eval set of 100–300 cases is registered',
      'support-triage → autonomous: no eval run is recorded',
      'support-triage → autonomous: no kill-switch drill in the last 30 days; run `agent-ledger drill support-triage`',
      'support-triage → autonomous: its runbook is not published',
    ]) {
      expect(refused.stderr).toContain(condition);
    }
    expect(refused.stderr).toContain('--override "<reason>"');
    const shown = JSON.parse(run('registry', 'show', '--json').stdout);
    expect(shown.version).toBe(2);
    expect(shown.workflows[0]).toMatchObject({ workflowId: 'support-triage', rolloutPhase: 'evals' });
  });

  it('deploys with --override and records who and why in the ledger, not as a flip', async () => {
    // Act
    const overridden = run(
      'registry',
      'deploy',
      registryIn('autonomous'),
      '--override',
      'pilot customer signed off; evals next week',
      '--as',
      'rita',
    );
    const api = apiClient(stack.endpoints.api, stack.token);
    const recorded = await api.getEvents('support-triage', { unitId: 'rollout-gates' });
    const flips = await api.getEvents('support-triage', { unitId: 'kill-switch' });

    // Assess
    expect(overridden.stderr).toBe('');
    expect(overridden.status).toBe(0);
    expect(overridden.stdout).toContain(
      'Rollout gates overridden by rita ("pilot customer signed off; evals next week"): 5 unmet conditions, recorded as 1 rollback event (unit rollout-gates).',
    );
    expect(overridden.stdout).toContain('Deployed workflow registry version 3 on the local stack');
    expect(recorded.body.items).toHaveLength(1);
    expect(recorded.body.items[0]).toMatchObject({
      type: 'rollback',
      unitId: 'rollout-gates',
      reason: 'pilot customer signed off; evals next week',
      initiatedBy: 'rita',
      from: 'evals',
      to: 'autonomous',
      metadata: { kind: 'rollout-gate-override' },
    });
    expect(recorded.body.items[0].metadata.unmet).toHaveLength(5);
    expect(flips.body.items).toEqual([]);
  });

  it('passes once the facts are there: baseline weeks, an eval set and a passing run, a drill, the runbook', async () => {
    // Prepare: a drill while the lane is open, then back to evals.
    const drill = run('drill', 'support-triage');
    expect(drill.status, drill.stderr).toBe(0);
    expect(run('registry', 'deploy', registryIn('evals')).status).toBe(0);
    // Two complete weeks of work before this one, and an action now on prompt 7 (actionEvent's versions).
    const api = apiClient(stack.endpoints.api, stack.token);
    const thisWeekMs = weekBounds(isoWeekOf(Date.now())).startMs;
    const weeks = [2, 1].map((back) => isoWeekOf(thisWeekMs - back * 7 * 86_400_000));
    const units = weeks.flatMap((week, w) =>
      [0, 1, 2].flatMap((n) =>
        reviewedUnit({
          workflowId: 'support-triage',
          unitId: `B-${w}-${n}`,
          dayMs: weekBounds(week).startMs,
        }),
      ),
    );
    expect((await api.postEvents({ events: [...units, actionEvent()] })).status).toBe(202);
    run('prices', 'import', file('prices.json', TEST_PRICES));
    for (const week of weeks) {
      const kpi = run('jobs', 'kpi', '--week', week, '--workflow', 'support-triage');
      expect(kpi.status, kpi.stderr).toBe(0);
    }
    const cases = Array.from({ length: 100 }, (_, i) => ({
      caseId: `c-${i}`,
      unitId: `u-${i}`,
      expectedOutcome: 'route to billing',
    }));
    const set = run(
      'evals',
      'register',
      file('set.json', { workflowId: 'support-triage', name: 'regression', cases }),
    );
    expect(set.status, set.stderr).toBe(0);
    const evalRun = run(
      'evals',
      'record',
      file('run.json', {
        runId: 'gate-run-1',
        workflowId: 'support-triage',
        evalSet: 'regression',
        evalSetVersion: 1,
        ranBy: 'ci',
        ranAt: new Date().toISOString(),
        promptVersion: '7',
        modelVersion: 'anthropic/claude-sonnet/2026-05',
        results: cases.map((c, i) => ({ caseId: c.caseId, pass: i >= 5 })),
      }),
    );
    expect(evalRun.status, evalRun.stderr).toBe(0);
    const reports = run('jobs', 'reports');
    expect(reports.status, reports.stderr).toBe(0);

    // Act
    const deployed = run('registry', 'deploy', registryIn('autonomous'));

    // Assess
    expect(deployed.stderr).toBe('');
    expect(deployed.status).toBe(0);
    expect(deployed.stdout).toContain('support-triage: evals → autonomous: every gate passes');
    expect(deployed.stdout).not.toContain('overridden');
    const shown = JSON.parse(run('registry', 'show', '--json').stdout);
    expect(shown.version).toBe(5);
    expect(shown.workflows[0]).toMatchObject({ workflowId: 'support-triage', rolloutPhase: 'autonomous' });
  });
});
