import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoWorkflows } from '#lib/registry/default-registry.ts';
import { apiClient } from '../support/api.ts';
import { cliResultOn } from '../support/cli.ts';
import { actionEvent } from '../support/events.ts';
import { type StackProcess, startStackProcess, stopStackProcess } from '../support/local-stack-process.ts';

const shared = inject('localStack');
const cli = cliResultOn(shared.dataDir);

const dir = mkdtempSync(join(tmpdir(), 'agent-ledger-registry-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
};

describe('the deployed registry decides what the CLI accepts (shared stack)', () => {
  it('shows the deployed version with each workflow, as text and as JSON', () => {
    // Act
    const text = cli('registry', 'show');
    const json = cli('registry', 'show', '--json');

    // Assess
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^Workflow registry version 1 on the local stack/);
    expect(text.stdout).toContain('support-triage       phase autonomous');
    expect(text.stdout).toContain('code-review');
    expect(JSON.parse(json.stdout)).toMatchObject({
      version: 1,
      workflows: [{ workflowId: 'support-triage' }, { workflowId: 'code-review' }],
    });
  });

  it.each([
    [
      ['tokens', 'create', '--workflows', 'payroll'],
      'unknown workflow payroll; registered: support-triage, code-review',
    ],
    [
      ['evals', 'compare', 'payroll', 'regression'],
      'unknown workflow payroll; registered: support-triage, code-review',
    ],
    [
      ['jobs', 'kpi', '--workflow', 'payroll'],
      'unknown workflow payroll; registered: support-triage, code-review',
    ],
    [['drill', 'payroll'], 'unknown workflow payroll; registered: support-triage, code-review'],
  ])('%j exits 2 naming the registered workflows', (args, message) => {
    const result = cli(...args);
    expect(result.stderr).toContain(message);
    expect(result.status).toBe(2);
  });

  it('refuses an eval set for a workflow that is not registered, at its JSON path', () => {
    // Prepare
    const cases = Array.from({ length: 100 }, (_, i) => ({
      caseId: `c-${i}`,
      unitId: `u-${i}`,
      expectedOutcome: 'approve',
    }));
    const path = file('payroll-set.json', { workflowId: 'payroll', name: 'regression', cases });

    // Act
    const result = cli('evals', 'register', path);

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${path} is not a valid eval set; nothing was registered:`);
    expect(result.stderr).toContain(
      "$.workflowId: workflow 'payroll' is not registered; registered: support-triage, code-review",
    );
  });

  it('sends a deployed stage to cdk deploy, which deploys the registry with the stacks', () => {
    const result = cli('registry', 'deploy', 'config/workflow-registry.json', '--stage', 'prod');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      'npx cdk deploy --all -c stage=prod -c registryFile=config/workflow-registry.json',
    );
  });
});

describe('agent-ledger registry deploy (a stack of its own: it changes the registry)', () => {
  // The tests build on each other: an invalid file first, then the deploy, then what it governs.
  let stack: StackProcess;
  let run: ReturnType<typeof cliResultOn>;
  beforeAll(async () => {
    stack = await startStackProcess();
    run = cliResultOn(stack.dataDir);
  }, 120_000);
  afterAll(async () => {
    if (stack) await stopStackProcess(stack);
  });

  // A new workflow in its evals phase: humans approve, the autonomous lane is not open yet.
  const invoiceMatching = {
    ...demoWorkflows[1],
    workflowId: 'invoice-matching',
    unitOfValue: 'invoice matched',
    rolloutPhase: 'evals',
  };

  it('refuses an invalid file with every problem by its path, and deploys nothing', () => {
    // Prepare
    const path = file('bad-registry.json', [...demoWorkflows, { ...invoiceMatching, retentionMonths: 6 }]);

    // Act
    const result = run('registry', 'deploy', path);

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${path} is not a valid workflow registry; nothing was deployed:`);
    expect(result.stderr).toContain('$[2].retentionMonths: ');
    expect(JSON.parse(run('registry', 'show', '--json').stdout).version).toBe(1);
  });

  it('registers a workflow: a new version, its kill-switch flag, and ingest accepts it within seconds', async () => {
    // Prepare
    const path = file('registry.json', [...demoWorkflows, invoiceMatching]);
    const api = apiClient(stack.endpoints.api, stack.token);
    const event = actionEvent({ workflowId: 'invoice-matching', unitId: 'INV-1001' });
    expect((await api.postEvents({ events: [event] })).status).toBe(400);

    // Act: a workflow new to the registry at phase evals has no baseline or eval set yet (the rollout gates
    // refuse it, see rollout-gates.test.ts), so the operator overrides them.
    const deployed = run(
      'registry',
      'deploy',
      path,
      '--override',
      'registered straight into evals for this test',
    );
    let answer = await api.postEvents({ events: [event] });
    for (let i = 0; i < 50 && answer.status !== 202; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await api.postEvents({ events: [event] });
    }
    const again = run('registry', 'deploy', path);

    // Assess
    expect(deployed.stderr).toBe('');
    expect(deployed.stdout).toContain('Deployed workflow registry version 2 on the local stack');
    expect(deployed.stdout).toContain('Kill-switch flags added (autonomous lane allowed): invoice-matching.');
    expect(answer).toMatchObject({ status: 202, body: { accepted: 1 } });
    const autonomy = await fetch(`${stack.endpoints.api}/v1/workflows/invoice-matching/autonomy`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    expect(autonomy.status).toBe(200);
    expect(await autonomy.json()).toMatchObject({
      autonomousAllowed: false,
      lane: 'hitl',
      reason: 'rollout phase "evals": the autonomous lane opens in phase "autonomous" (workflow registry)',
    });
    expect(again.stdout).toContain(`${path} is already deployed as version 2 on the local stack`);
    expect(again.stdout).toContain('; nothing changed.');
    expect(JSON.parse(run('registry', 'show', '--json').stdout).version).toBe(2);
  });

  it('governs the new workflow by its phase: an autonomous action is stored and flagged, and no drill runs', async () => {
    // Prepare
    const api = apiClient(stack.endpoints.api, stack.token);
    const autonomous = actionEvent({
      workflowId: 'invoice-matching',
      unitId: 'INV-1002',
      lane: 'autonomous',
    });

    // Act
    const answer = await api.postEvents({ events: [autonomous] });
    const drill = run('drill', 'invoice-matching');

    // Assess
    expect(answer).toMatchObject({
      status: 202,
      body: {
        accepted: 1,
        violations: [
          { eventId: autonomous.eventId, kind: 'rollout-phase', phase: 'evals', lane: 'autonomous' },
        ],
      },
    });
    const flagged = await api.getEvents('invoice-matching', { violations: 'rollout-phase' });
    expect(flagged.body.items.map((item: { eventId: string }) => item.eventId)).toEqual([autonomous.eventId]);
    expect(drill.status).toBe(1);
    expect(drill.stderr).toContain(
      'the autonomous lane of invoice-matching is not open in its rollout phase "evals" (workflow registry)',
    );
  });
});
