import { parseArgs } from 'node:util';
import { deployRegistry } from '#lib/adapters/appconfig-registry.ts';
import {
  InvalidRegistryError,
  parseRegistryContent,
  readRegistryFile,
  type WorkflowRegistry,
} from '#lib/registry/workflows.ts';
import { CliError, UsageError } from '../errors.ts';
import { describeGates, recordOverride, rolloutGatesOn } from '../rollout-gates.ts';
import { deployedRegistry, explainTargetFailure, resolveTarget, type Target } from '../target.ts';

export const REGISTRY_HELP = `agent-ledger registry — the workflow registry (versioned configuration in AppConfig)

  agent-ledger registry show [--json] [--stage <name>]   the deployed version: workflows, phases, warnings
  agent-ledger registry validate <file> [--stage <name>] check a registry file; every problem by its path,
                                                         and its rollout gates on the local stack or the stage
  agent-ledger registry deploy <file> [--override "<reason>"] [--as <who>]
                                                         local stack: a new version, deployed at once

The shipped registry is config/workflow-registry.json. A deployed stage gets its registry from
\`npx cdk deploy --all\` (another file with -c registryFile=<file>), so the stacks and the registry
never disagree; locally, \`deploy\` also adds the kill-switch flags of newly registered workflows.

Rollout gates: moving a workflow to a later phase needs what that phase rests on (a written boundary
and two weeks of KPIs for hitl; an eval set of 100–300 cases for evals; a passing eval run on the
current versions, a drill in the last 30 days within the time bound and a published runbook for
autonomous). \`deploy\` refuses, naming every unmet condition, unless --override "<reason>" is given,
which is recorded in the ledger (unit rollout-gates, with who and why) and shown in the monthly review.
The CDK synthesizes offline and cannot read the ledger: check a stage's gates with
\`registry validate <file> --stage <name>\` before \`cdk deploy -c registryFile=<file>\`.`;

const PRINTED_PROBLEMS = 20;

const options = {
  stage: { type: 'string' },
  json: { type: 'boolean' },
  override: { type: 'string' },
  as: { type: 'string' },
} as const;
/** The ledger's limit on a rollback event's `reason`. */
const MAX_REASON_CHARS = 2000;

export async function registryCommand(args: string[], print: (line: string) => void): Promise<void> {
  const [action, ...rest] = args;
  if (action === undefined || action === 'help' || action === '--help' || action === '-h') {
    print(REGISTRY_HELP);
    return;
  }
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options });
  if (action === 'show') {
    if (positionals.length > 0)
      throw new UsageError(`registry show takes no arguments, got '${positionals[0]}'`);
    const target = await resolveTarget(values.stage);
    const { registry, versionNumber } = await deployedRegistry(target);
    if (values.json) {
      print(
        JSON.stringify({ version: versionNumber, workflows: registry.all(), warnings: registry.warnings() }),
      );
      return;
    }
    print(`Workflow registry version ${versionNumber} on ${target.description}:`);
    describe(registry, print);
    return;
  }
  if (action === 'validate' || action === 'deploy') {
    const [file, extra] = positionals;
    if (!file || extra) throw new UsageError(`usage: agent-ledger registry ${action} <file>`);
    if (action === 'validate') {
      if (values.override !== undefined || values.as !== undefined)
        throw new UsageError('--override and --as go with registry deploy, not validate');
      const registry = validFile(file, 'workflow registry');
      print(`${file} is a valid workflow registry:`);
      describe(registry, print);
      await printGates(registry, values.stage, print);
      return;
    }
    if (values.stage !== undefined) {
      throw new UsageError(
        `a deployed stage gets its registry from the stacks: check its rollout gates with agent-ledger registry validate ${file} --stage ${values.stage}, then npx cdk deploy --all -c stage=${values.stage} -c registryFile=${file}`,
      );
    }
    const override = overrideReason(values.override);
    if (values.as !== undefined && override === undefined)
      throw new UsageError('--as names who overrides the rollout gates: give it with --override "<reason>"');
    if (values.as !== undefined && (values.as.trim() === '' || values.as.length > 256))
      throw new UsageError('--as must name who overrides in 1–256 characters');
    const content = readRegistryFile(file);
    const proposed = validFile(file, 'workflow registry; nothing was deployed', content);
    const target = await resolveTarget(undefined);
    await deploy(target, file, content, print, { proposed, override, as: values.as }).catch((error) =>
      explainTargetFailure(error, target),
    );
    return;
  }
  throw new UsageError(`unknown registry action '${action}'\n\n${REGISTRY_HELP}`);
}

function overrideReason(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const reason = value.trim();
  if (reason === '')
    throw new UsageError('--override needs a reason: --override "<why the gates may be skipped>"');
  if (reason.length > MAX_REASON_CHARS)
    throw new UsageError(`--override's reason is ${reason.length} characters; at most ${MAX_REASON_CHARS}`);
  return reason;
}

/** `validate` shows the gates where they can be judged; without a reachable target it says why not. */
async function printGates(
  proposed: WorkflowRegistry,
  stage: string | undefined,
  print: (line: string) => void,
) {
  try {
    const target = await resolveTarget(stage);
    const current = await deployedRegistry(target);
    const moves = await rolloutGatesOn(target, current.registry, proposed, stage).catch((error) =>
      explainTargetFailure(error, target),
    );
    if (moves.length > 0)
      print(`Rollout gates against version ${current.versionNumber} on ${target.description}:`);
    for (const line of describeGates(moves)) print(line);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    print(`Rollout gates not checked: ${error.message}`);
  }
}

async function deploy(
  target: Target,
  file: string,
  content: string,
  print: (line: string) => void,
  gate: { proposed: WorkflowRegistry; override: string | undefined; as: string | undefined },
) {
  const before = await deployedRegistry(target).catch(() => undefined);
  const moves = await rolloutGatesOn(target, before?.registry, gate.proposed, undefined);
  const unmet = moves.flatMap((move) => move.unmet);
  if (unmet.length > 0 && gate.override === undefined) {
    throw new CliError(
      `${file} moves ${moves.length === 1 ? 'a workflow' : 'workflows'} to a later rollout phase with ${unmet.length} unmet condition${unmet.length === 1 ? '' : 's'}; nothing was deployed:\n${unmet.map((condition) => `  ${condition}`).join('\n')}\nMeet them, or deploy anyway with --override "<reason>" (recorded in the ledger with who and why).`,
    );
  }
  if (moves.length > 0) for (const line of describeGates(moves)) print(line);
  if (unmet.length === 0 && gate.override !== undefined) {
    print('Every rollout gate passes: --override was not needed, and nothing was recorded for it.');
  }
  if (unmet.length > 0 && gate.override !== undefined) {
    const who = gate.as ?? (await target.whoAmI());
    const recorded = await recordOverride(target, moves, gate.proposed, {
      reason: gate.override,
      who,
      source: `workflow registry file ${file}`,
    });
    print(
      `Rollout gates overridden by ${who} ("${gate.override}"): ${unmet.length} unmet condition${unmet.length === 1 ? '' : 's'}, recorded as ${recorded} rollback event${recorded === 1 ? '' : 's'} (unit rollout-gates).`,
    );
  }
  const profile = await target.registryProfile();
  const result = await deployRegistry(profile, content, {
    source: `workflow registry file ${file}`,
    description: `workflow registry from ${file}`,
  });
  if (!result.changed) {
    print(
      `${file} is already deployed as version ${result.versionNumber} on ${target.description}; nothing changed.`,
    );
    return;
  }
  // A newly registered workflow gets its kill-switch flag (lane allowed), as the CDK's flag sync does.
  const { writer } = await target.killSwitch();
  const added = await writer.ensureFlags(result.registry.ids());
  print(
    `Deployed workflow registry version ${result.versionNumber} on ${target.description}; the handlers read it within a few seconds.`,
  );
  if (added.length > 0) print(`Kill-switch flags added (autonomous lane allowed): ${added.join(', ')}.`);
  const removed = (before?.registry.ids() ?? []).filter((id) => !result.registry.get(id));
  if (removed.length > 0) {
    print(
      `No longer registered: ${removed.join(', ')}. Their stored events stay readable in the archive; new events for them are refused.`,
    );
  }
  describe(result.registry, print);
}

/** The file's registry, or a usage error listing its problems (exit 2). */
function validFile(file: string, what: string, content = readRegistryFile(file)): WorkflowRegistry {
  try {
    return parseRegistryContent(content, `workflow registry file ${file}`);
  } catch (error) {
    if (!(error instanceof InvalidRegistryError)) throw error;
    if (error.problems.length === 0) throw new CliError(error.message, 2);
    const lines = error.problems.slice(0, PRINTED_PROBLEMS).map((problem) => `  ${problem}`);
    if (error.problems.length > PRINTED_PROBLEMS) {
      lines.push(`  … and ${error.problems.length - PRINTED_PROBLEMS} more`);
    }
    throw new CliError(`${file} is not a valid ${what}:\n${lines.join('\n')}`, 2);
  }
}

function describe(registry: WorkflowRegistry, print: (line: string) => void): void {
  for (const workflow of registry.all()) {
    print(
      `  ${workflow.workflowId.padEnd(20)} phase ${workflow.rolloutPhase.padEnd(10)} sample ${(workflow.reviewSampleRate * 100).toFixed(0)}%  retention ${workflow.retentionMonths} mo  unit: ${workflow.unitOfValue}  owner: ${workflow.owner}${workflow.firstCycle ? '  (first cycle)' : ''}`,
    );
  }
  for (const warning of registry.warnings()) print(`  warning: ${warning}`);
}
