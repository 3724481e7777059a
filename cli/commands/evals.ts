import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { messageOf } from '#lib/errors.ts';
import type { RunComparison } from '#lib/evals/compare.ts';
import { type EvalIssue, evalSetNameSchema, parseEvalRun, parseEvalSetInput } from '#lib/evals/schema.ts';
import {
  compareLatestRuns,
  EvalValidationError,
  listEvalSets,
  recordEvalRun,
  registerEvalSet,
} from '#lib/evals/service.ts';
import { EvalRunConflictError } from '#lib/evals/store.ts';
import { formatRate } from '#lib/presentation/format.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { CliError, UsageError } from '../errors.ts';
import {
  deployedRegistry,
  explainTargetFailure,
  registeredWorkflow,
  resolveTarget,
  type Target,
} from '../target.ts';

export const EVALS_HELP = `agent-ledger evals — eval sets per workflow, the runs scored against them, and how a run compares

  agent-ledger evals register <set.json> [--as <who>] [--stage <name>]
  agent-ledger evals record <run.json> [--stage <name>]
  agent-ledger evals compare <workflowId> <setName> [--json] [--stage <name>]
  agent-ledger evals list <workflowId> [--json] [--stage <name>]

Set file: {"workflowId": "code-review", "name": "regression", "description": "…",
           "cases": [{"caseId": "c-001", "unitId": "<historical unit>", "expectedOutcome": "…", "notes": "…"}]}
  100–300 cases with unique caseIds. Each registration that changes the set adds a version (1, 2, …);
  registering the latest content again changes nothing.
Run file: {"runId": "run-42", "workflowId": "code-review", "evalSet": "regression", "evalSetVersion": 1,
           "ranBy": "ci/eval-job", "ranAt": "2026-03-10T09:00:00Z", "promptVersion": "review-v7",
           "modelVersion": "<provider>/<name>/<version>",
           "results": [{"caseId": "c-001", "pass": true, "actualOutcome": "…", "notes": "…"}]}
  exactly one result per case of the set version it names.
compare shows the latest run against the one before it: pass rate, delta, newly failing and passing cases.`;

export function evalStore(target: Target): DynamoDbEvalStore {
  return new DynamoDbEvalStore(makeDocumentClient(target.dynamodb), target.tableName);
}

/** Issues beyond this many are summarised, so a file of 300 broken cases still gets a readable answer. */
const PRINTED_ISSUES = 20;

function invalidFile(file: string, what: string, issues: readonly EvalIssue[]): CliError {
  const lines = issues.slice(0, PRINTED_ISSUES).map((issue) => `  ${issue.path}: ${issue.message}`);
  if (issues.length > PRINTED_ISSUES) lines.push(`  … and ${issues.length - PRINTED_ISSUES} more`);
  return new CliError(`${file} is not a valid ${what}:\n${lines.join('\n')}`, 2);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file} could not be read as JSON: ${messageOf(error)}`, 2);
  }
}

/** The target's deployed registry, once it holds the file's workflow (named at `$.workflowId` if not). */
async function registryForFile(
  target: Target,
  file: string,
  what: string,
  workflowId: string,
): Promise<WorkflowRegistry> {
  const { registry } = await deployedRegistry(target);
  if (!registry.get(workflowId)) {
    throw invalidFile(file, what, [
      {
        path: '$.workflowId',
        message: `workflow '${workflowId}' is not registered; registered: ${registry.ids().join(', ')}`,
      },
    ]);
  }
  return registry;
}

export async function evalsCommand(args: string[], print: (line: string) => void): Promise<void> {
  const [action, ...rest] = args;
  if (action === 'help' || action === '--help' || action === '-h') {
    print(EVALS_HELP);
    return;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { stage: { type: 'string' }, json: { type: 'boolean' }, as: { type: 'string' } },
  });
  if (action === 'register') {
    const [file, extra] = positionals;
    if (!file || extra) throw new UsageError('usage: agent-ledger evals register <set.json>');
    const parsed = parseEvalSetInput(readJson(file));
    if (!parsed.ok) throw invalidFile(file, 'eval set; nothing was registered', parsed.issues);
    const input = parsed.value;
    const target = await resolveTarget(values.stage);
    const registry = await registryForFile(
      target,
      file,
      'eval set; nothing was registered',
      input.workflowId,
    );
    const register = async () =>
      registerEvalSet(evalStore(target), registry, input, {
        registeredBy: values.as ?? (await target.whoAmI()),
        now: new Date(),
      });
    const outcome = await register().catch((error) => {
      if (error instanceof EvalValidationError)
        throw invalidFile(file, 'eval set; nothing was registered', error.issues);
      return explainTargetFailure(error, target);
    });
    const { set } = outcome;
    print(
      outcome.status === 'unchanged'
        ? `Eval set ${set.workflowId}/${set.name} v${set.version} on ${target.description} already has this content (${set.cases.length} cases); nothing changed.`
        : `Registered eval set ${set.workflowId}/${set.name} v${set.version} on ${target.description}: ${set.cases.length} cases${outcome.previousVersion ? ` (replacing v${outcome.previousVersion} as the latest)` : ''}.`,
    );
    return;
  }
  if (action === 'record') {
    const [file, extra] = positionals;
    if (!file || extra) throw new UsageError('usage: agent-ledger evals record <run.json>');
    const parsed = parseEvalRun(readJson(file));
    if (!parsed.ok) throw invalidFile(file, 'eval run; nothing was recorded', parsed.issues);
    const run = parsed.value;
    const target = await resolveTarget(values.stage);
    const registry = await registryForFile(target, file, 'eval run; nothing was recorded', run.workflowId);
    const outcome = await recordEvalRun(evalStore(target), registry, run).catch((error) => {
      if (error instanceof EvalValidationError)
        throw invalidFile(file, 'eval run; nothing was recorded', error.issues);
      if (error instanceof EvalRunConflictError)
        throw invalidFile(file, 'eval run; nothing was recorded', [
          { path: '$.runId', message: error.message },
        ]);
      return explainTargetFailure(error, target);
    });
    const passed = run.results.filter((result) => result.pass).length;
    const label = `${run.workflowId}/${run.evalSet} v${run.evalSetVersion}`;
    print(
      outcome.status === 'duplicate'
        ? `Run ${run.runId} of ${label} was already recorded on ${target.description}; nothing changed.`
        : `Recorded run ${run.runId} of ${label} on ${target.description}: ${passed}/${run.results.length} passed (${formatRate(passed / run.results.length)}). Compare it: agent-ledger evals compare ${run.workflowId} ${run.evalSet}`,
    );
    return;
  }
  if (action === 'compare') {
    const [workflowId, setName, extra] = positionals;
    if (!workflowId || !setName || extra)
      throw new UsageError('usage: agent-ledger evals compare <workflowId> <setName> [--json]');
    if (!evalSetNameSchema.safeParse(setName).success)
      throw new UsageError(`'${setName}' is not an eval set name`);
    const target = await resolveTarget(values.stage);
    await registeredWorkflow(target, workflowId);
    const comparison = await compareLatestRuns(evalStore(target), workflowId, setName).catch((error) =>
      explainTargetFailure(error, target),
    );
    if (!comparison) {
      throw new CliError(
        `eval set ${workflowId}/${setName} has no runs on ${target.description}; record one with \`agent-ledger evals record <run.json>\` (see \`agent-ledger evals list ${workflowId}\`)`,
      );
    }
    if (values.json) print(JSON.stringify(comparison));
    else printComparison(comparison, print);
    return;
  }
  if (action === 'list') {
    const [workflowId, extra] = positionals;
    if (!workflowId || extra) throw new UsageError('usage: agent-ledger evals list <workflowId> [--json]');
    const target = await resolveTarget(values.stage);
    await registeredWorkflow(target, workflowId);
    const sets = await listEvalSets(evalStore(target), workflowId).catch((error) =>
      explainTargetFailure(error, target),
    );
    if (values.json) {
      for (const set of sets) print(JSON.stringify(set));
      return;
    }
    if (sets.length === 0) {
      print(
        `No eval sets for ${workflowId} on ${target.description}; register one with \`agent-ledger evals register <set.json>\`.`,
      );
      return;
    }
    print(`Eval sets of ${workflowId} on ${target.description}:`);
    for (const set of sets) {
      print(
        `  ${set.name}  v${set.latestVersion}, ${set.caseCount} cases, registered ${set.registeredAt} by ${set.registeredBy}`,
      );
      const run = set.latestRun;
      print(
        run
          ? `    latest run ${run.runId} (${run.ranAt}, by ${run.ranBy}, v${run.evalSetVersion}): ${run.passed}/${run.total} passed (${formatRate(run.passRate)}), prompt ${run.promptVersion}, model ${run.modelVersion}`
          : '    no runs yet',
      );
    }
    return;
  }
  throw new UsageError(action ? `unknown evals action '${action}'\n\n${EVALS_HELP}` : EVALS_HELP);
}

function printComparison(c: RunComparison, print: (line: string) => void): void {
  const { current, previous } = c;
  print(
    `Eval set ${c.workflowId}/${c.evalSet}: run ${current.runId} (${current.ranAt}, by ${current.ranBy}, v${current.evalSetVersion})`,
  );
  print(`  pass rate      ${formatRate(c.passRate)} (${current.passed}/${current.total})`);
  if (!previous || c.previousPassRate === null || c.delta === null) {
    print('  first run of this set: nothing to compare with yet');
    print(`  prompt ${current.promptVersion}, model ${current.modelVersion}`);
    return;
  }
  const points = c.delta * 100;
  print(
    `  previous       ${formatRate(c.previousPassRate)} (${previous.passed}/${previous.total}), run ${previous.runId} (${previous.ranAt}, v${previous.evalSetVersion})`,
  );
  print(`  delta          ${points > 0 ? '+' : ''}${points.toFixed(1)} points`);
  const change = (changed: boolean, before: string, now: string) =>
    changed ? `${before} → ${now} (changed)` : `${now} (unchanged)`;
  print(`  prompt         ${change(c.promptChanged, previous.promptVersion, current.promptVersion)}`);
  print(`  model          ${change(c.modelChanged, previous.modelVersion, current.modelVersion)}`);
  if (c.setVersionChanged) {
    print(
      `  set version    v${previous.evalSetVersion} → v${current.evalSetVersion}: ${c.casesNotInPrevious} cases have no previous result`,
    );
  }
  print(
    `  newly failing  ${c.newlyFailing.length}${c.newlyFailing.length ? `: ${c.newlyFailing.join(', ')}` : ''}`,
  );
  print(
    `  newly passing  ${c.newlyPassing.length}${c.newlyPassing.length ? `: ${c.newlyPassing.join(', ')}` : ''}`,
  );
  print(`  still failing  ${c.stillFailing}`);
}
