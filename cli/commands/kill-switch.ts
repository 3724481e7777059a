import { parseArgs } from 'node:util';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import type { AutonomyState } from '#lib/kill-switch/autonomy.ts';
import { readAutonomy } from '#lib/kill-switch/autonomy.ts';
import { flipKillSwitch } from '#lib/kill-switch/flip.ts';
import { LedgerLaneHistory } from '#lib/kill-switch/history.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import {
  type DrillDependencies,
  DrillRefusedError,
  drillRefusal,
  runDrill,
} from '#lib/kill-switch/run-drill.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { CliError, UsageError } from '../errors.ts';
import {
  deployedRegistry,
  drillStore,
  explainTargetFailure,
  registeredWorkflow,
  resolveTarget,
  type Target,
} from '../target.ts';

export const KILL_SWITCH_HELP = `agent-ledger kill-switch — the autonomous lane of each workflow (AppConfig feature flags)

  agent-ledger kill-switch off <workflowId> --reason "…" [--as <who>] [--stage <name>]
  agent-ledger kill-switch on  <workflowId> --reason "…" [--as <who>] [--stage <name>]
  agent-ledger kill-switch off --all --reason "…"      stop every autonomous lane (the master flag)
  agent-ledger kill-switch status [--json] [--stage <name>]
  agent-ledger drill <workflowId> [--timeout <s>] [--token <t>] [--stage <name>]

A flip deploys at once; every flip, by any means, is recorded in the ledger as a rollback event.
Agents see it in /autonomy within 1 s locally and within AppConfig's 15 s poll interval in the cloud.
A drill flips the lane off, measures until /autonomy shows it, flips it back, and records the times.`;

const options = {
  reason: { type: 'string' },
  as: { type: 'string' },
  all: { type: 'boolean' },
  stage: { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  token: { type: 'string' },
} as const;

export async function killSwitchCommand(args: string[], print: (line: string) => void): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options });
  if (action === 'on' || action === 'off') {
    const [workflowId, extra] = positionals;
    if (extra) throw new UsageError(`kill-switch ${action} takes one workflow, got '${extra}' too`);
    if (!workflowId && !values.all)
      throw new UsageError(`usage: agent-ledger kill-switch ${action} <workflowId> --reason "…"`);
    if (workflowId && values.all) throw new UsageError('give a workflow or --all, not both');
    if (!values.reason?.trim())
      throw new UsageError('--reason is required: say why, it goes into the ledger');
    const target = await resolveTarget(values.stage);
    const flag = values.all ? MASTER_FLAG : (workflowId as string);
    const registry = values.all
      ? (await deployedRegistry(target)).registry
      : await registeredWorkflow(target, flag);
    const { writer } = await target.killSwitch().catch((error) => explainTargetFailure(error, target));
    const who = values.as ?? (await target.whoAmI());
    const result = await flipKillSwitch(flag, { enabled: action === 'on', reason: values.reason }, who, {
      writer,
      registry,
    }).catch((error) => explainTargetFailure(error, target));
    const subject = values.all ? 'Every autonomous lane' : `The autonomous lane of ${flag}`;
    print(
      `${subject} is now ${action.toUpperCase()} on ${target.description} (deployment ${result.deploymentNumber}, version ${result.configurationVersion}, by ${who}).`,
    );
    return;
  }
  if (action === 'status') {
    const target = await resolveTarget(values.stage);
    await printStatus(target, values.json === true, print).catch((error) =>
      explainTargetFailure(error, target),
    );
    return;
  }
  throw new UsageError(
    action ? `unknown kill-switch action '${action}'\n\n${KILL_SWITCH_HELP}` : KILL_SWITCH_HELP,
  );
}

async function printStatus(target: Target, asJson: boolean, print: (line: string) => void): Promise<void> {
  const { reader } = await target.killSwitch();
  const { registry } = await deployedRegistry(target);
  const drills = drillStore(target);
  // AppConfig serves a disabled flag without its attributes: why it is off comes from the recorded flip.
  const history = new LedgerLaneHistory(
    new DynamoDbEventIndex(makeDocumentClient(target.dynamodb), target.tableName),
    Math.floor(Date.now() / 1000),
  );
  const rows = await Promise.all(
    registry.ids().map(async (workflowId) => ({
      state: await readAutonomy(
        workflowId,
        reader,
        (id, scope) => history.lastFlip(id, scope),
        registry.get(workflowId)?.rolloutPhase,
      ),
      lastDrill: (await drills.listDrills(workflowId, 1))[0],
    })),
  );
  if (asJson) {
    for (const row of rows) print(JSON.stringify({ ...row.state, lastDrill: row.lastDrill ?? null }));
    return;
  }
  print(`Kill switch on ${target.description}:`);
  for (const { state, lastDrill } of rows) {
    const lane = state.autonomousAllowed
      ? 'autonomous allowed'
      : `autonomous OFF (${state.lane.toUpperCase()})`;
    print(
      `  ${state.workflowId.padEnd(20)} ${lane.padEnd(22)} ${state.reason ?? ''}${state.changedAt ? ` (${state.changedAt})` : ''}`,
    );
    print(
      `  ${''.padEnd(20)} last drill: ${lastDrill ? `${lastDrill.startedAt}, off in ${lastDrill.offEffectMs} ms, on in ${lastDrill.onEffectMs} ms, ${lastDrill.outcome}` : 'never'}`,
    );
  }
}

export async function drillCommand(args: string[], print: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
  const [workflowId, extra] = positionals;
  if (!workflowId || extra)
    throw new UsageError('usage: agent-ledger drill <workflowId> [--timeout <seconds>]');
  const timeoutSeconds = values.timeout === undefined ? 60 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new UsageError('--timeout must be a number of seconds');
  const target = await resolveTarget(values.stage);
  const registry = await registeredWorkflow(target, workflowId);
  // Refused before any connection to the flags or the API.
  const refusal = drillRefusal(workflowId, registry.get(workflowId)?.rolloutPhase);
  if (refusal) throw new CliError(refusal.message);
  const timeoutMs = timeoutSeconds * 1000;
  const record = await drillOn(target, registry, workflowId, values)
    .then((deps) =>
      runDrill(workflowId, { by: deps.who, target: target.description, timeoutMs }, deps, print),
    )
    .catch((error) => {
      if (error instanceof DrillRefusedError) throw new CliError(error.message);
      return explainTargetFailure(error, target);
    });
  print(
    record.outcome === 'passed'
      ? `Drill ${record.drillId} passed: off took effect in ${record.offEffectMs} ms, on again in ${record.onEffectMs} ms. Recorded.`
      : `Drill ${record.drillId} FAILED: ${record.detail}. Recorded.`,
  );
  if (record.outcome === 'failed') throw new CliError(`drill ${record.drillId} failed`);
}

/** The drill's dependencies on a target: flips through its AppConfig, the lane read through its API's /autonomy. */
async function drillOn(
  target: Target,
  registry: WorkflowRegistry,
  workflowId: string,
  values: { as?: string; token?: string },
): Promise<DrillDependencies & { who: string }> {
  const { writer } = await target.killSwitch();
  const api = await target.api(values.token);
  const who = values.as ?? (await target.whoAmI());
  return {
    who,
    flip: (enabled, reason) => flipKillSwitch(workflowId, { enabled, reason }, who, { writer, registry }),
    autonomy: () => autonomy(api, workflowId),
    drills: drillStore(target),
  };
}

async function autonomy(api: { url: string; token: string }, workflowId: string): Promise<AutonomyState> {
  const response = await fetch(`${api.url}/v1/workflows/${workflowId}/autonomy`, {
    headers: { authorization: `Bearer ${api.token}` },
  });
  if (!response.ok) throw new CliError(`GET /autonomy answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as AutonomyState;
}
