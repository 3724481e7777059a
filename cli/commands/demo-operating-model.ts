import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors.ts';
import { deployedRegistry, type Target } from '../target.ts';
import { evalsCommand } from './evals.ts';
import { incidentsCommand } from './incidents.ts';
import { registryCommand } from './registry.ts';

/**
 * The demo's walk through the operating model (issue 10): a phase change the rollout gates refuse, then
 * the same change made with a recorded override; and a no-blame postmortem for the incident the drift
 * pause opened. Each step runs the CLI command a person would, so the demo shows exactly what they see.
 */

/**
 * support-triage's eval set (100 of its demo tickets) and a run of it on prompt 7 at the start of the
 * demo: the demo's last week ships prompt 8, so the KPI job finds an eval due.
 */
export async function demoEvalSet(
  firstWeek: string,
  firstWeekStartMs: number,
  stageArgs: readonly string[],
  print: (line: string) => void,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-ledger-demo-evals-'));
  try {
    const cases = Array.from({ length: 100 }, (_, n) => ({
      caseId: `case-${n}`,
      unitId: `T-${firstWeek}-${n % 60}`,
      expectedOutcome: n % 3 === 0 ? 'refund offered within policy' : 'answered from the knowledge base',
    }));
    const set = join(dir, 'set.json');
    writeFileSync(set, JSON.stringify({ workflowId: 'support-triage', name: 'triage-golden', cases }));
    await evalsCommand(['register', set, '--as', 'demo', ...stageArgs], print);
    const run = join(dir, 'run.json');
    writeFileSync(
      run,
      JSON.stringify({
        runId: `demo-${firstWeek}-prompt-7`,
        workflowId: 'support-triage',
        evalSet: 'triage-golden',
        evalSetVersion: 1,
        ranBy: 'demo',
        ranAt: new Date(firstWeekStartMs).toISOString(),
        promptVersion: '7',
        modelVersion: 'anthropic/claude-sonnet/2026-05',
        results: cases.map((evalCase, n) => ({ caseId: evalCase.caseId, pass: n % 20 !== 0 })),
      }),
    );
    await evalsCommand(['record', run, ...stageArgs], print);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The workflow whose phase the demo moves back and forth. */
const GATED_WORKFLOW = 'support-triage';

export async function demoRolloutGate(target: Target, print: (line: string) => void): Promise<void> {
  if (!target.isLocal) {
    print(
      `(Rollout gates: skipped on ${target.description}; phase changes there go through \`registry validate --stage\` and cdk.)`,
    );
    return;
  }
  const { registry } = await deployedRegistry(target);
  const shipped = registry.all();
  const original = shipped.find((workflow) => workflow.workflowId === GATED_WORKFLOW);
  if (original?.rolloutPhase !== 'autonomous') {
    print(
      `(Rollout gates: ${GATED_WORKFLOW} is not in phase autonomous here; the demo leaves its phase alone.)`,
    );
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'agent-ledger-demo-registry-'));
  try {
    const withPhase = (phase: string) => {
      const file = join(dir, `registry-${phase}.json`);
      const workflows = shipped.map((workflow) =>
        workflow.workflowId === GATED_WORKFLOW ? { ...workflow, rolloutPhase: phase } : workflow,
      );
      writeFileSync(file, `${JSON.stringify(workflows, null, 2)}\n`);
      return file;
    };
    // Back a phase is never gated; forward again is, and the ledger has no drill, eval set or runbook yet.
    await registryCommand(['deploy', withPhase('evals')], print);
    const forward = withPhase('autonomous');
    try {
      await registryCommand(['deploy', forward], print);
      print(
        `(Rollout gates: moving ${GATED_WORKFLOW} to autonomous passed: its drill, evals and runbook are in place.)`,
      );
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      print(`Refused, as it should be:\n${error.message}`);
      await registryCommand(
        [
          'deploy',
          forward,
          '--override',
          'demo: restoring the shipped phase after showing the gates',
          '--as',
          'demo',
        ],
        print,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The postmortem the demo writes for the drift pause's incident: what a team would write, no blame. */
const DEMO_POSTMORTEM = `## What happened
The code-review agent's defect rate jumped in its last demo week: reviewers marked half the sampled pull
requests defective, against one in six the weeks before. The drift job paused the autonomous lane.

## Impact
Units reviewed in the paused week carried the defects; none reached a customer (no escaped defects).

## The fix
Rolled the review prompt back to the previous template and re-ran the eval set before turning the lane on.

## Follow-up actions
- Add the regression cases to the eval set — Engineering Productivity lead
- Alert on defect rate above 30% mid-week, not only at the weekly drift run — on-call
`;

export async function demoPostmortem(
  stageArgs: readonly string[],
  print: (line: string) => void,
): Promise<void> {
  // The flip recorder writes the pause's rollback event once AppConfig's deployment completes, a moment
  // after the drift job returns: look for the incident for a few seconds.
  const driftIncident = async () => {
    const listed: string[] = [];
    await incidentsCommand(['list', '--json', '--workflow', 'code-review', ...stageArgs], (line) =>
      listed.push(line),
    );
    return listed
      .map((line) => JSON.parse(line) as { incidentId: string; cause?: string; closedAt?: string | null })
      .filter((found) => found.cause === 'drift' && !found.closedAt)
      .at(-1);
  };
  let incident = await driftIncident();
  for (let attempt = 0; !incident && attempt < 40; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    incident = await driftIncident();
  }
  if (!incident) {
    print('(Incidents: the drift job paused nothing this run, so there is no incident to write up.)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'agent-ledger-demo-postmortem-'));
  try {
    const file = join(dir, 'postmortem.md');
    writeFileSync(file, DEMO_POSTMORTEM);
    await incidentsCommand(
      ['postmortem', incident.incidentId, '--file', file, '--as', 'demo', ...stageArgs],
      print,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
