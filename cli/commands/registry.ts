import { parseArgs } from 'node:util';
import { deployRegistry } from '#lib/adapters/appconfig-registry.ts';
import {
  InvalidRegistryError,
  parseRegistryContent,
  readRegistryFile,
  type WorkflowRegistry,
} from '#lib/registry/workflows.ts';
import { CliError, UsageError } from '../errors.ts';
import { deployedRegistry, explainTargetFailure, resolveTarget, type Target } from '../target.ts';

export const REGISTRY_HELP = `agent-ledger registry — the workflow registry (versioned configuration in AppConfig)

  agent-ledger registry show [--json] [--stage <name>]   the deployed version: workflows, phases, warnings
  agent-ledger registry validate <file>                  check a registry file; every problem by its path
  agent-ledger registry deploy <file>                    local stack: a new version, deployed at once

The shipped registry is config/workflow-registry.json. A deployed stage gets its registry from
\`npx cdk deploy --all\` (another file with -c registryFile=<file>), so the stacks and the registry
never disagree; locally, \`deploy\` also adds the kill-switch flags of newly registered workflows.`;

const PRINTED_PROBLEMS = 20;

const options = { stage: { type: 'string' }, json: { type: 'boolean' } } as const;

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
      const registry = validFile(file, 'workflow registry');
      print(`${file} is a valid workflow registry:`);
      describe(registry, print);
      return;
    }
    if (values.stage !== undefined) {
      throw new UsageError(
        `a deployed stage gets its registry from the stacks: npx cdk deploy --all -c stage=${values.stage} -c registryFile=${file}`,
      );
    }
    const content = readRegistryFile(file);
    validFile(file, 'workflow registry; nothing was deployed', content);
    const target = await resolveTarget(undefined);
    await deploy(target, file, content, print).catch((error) => explainTargetFailure(error, target));
    return;
  }
  throw new UsageError(`unknown registry action '${action}'\n\n${REGISTRY_HELP}`);
}

async function deploy(target: Target, file: string, content: string, print: (line: string) => void) {
  const before = await deployedRegistry(target).catch(() => undefined);
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
