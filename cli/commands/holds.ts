import { parseArgs } from 'node:util';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbHoldStore, DynamoDbIndexRetention } from '#lib/adapters/dynamodb-holds.ts';
import { S3ArchiveHolds } from '#lib/adapters/s3-legal-holds.ts';
import { isStoreUnavailable } from '#lib/adapters/store-errors.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { messageOf } from '#lib/errors.ts';
import { evalSetNameSchema } from '#lib/evals/schema.ts';
import {
  activeHolds,
  addHold,
  describeTarget,
  type Hold,
  type HoldDependencies,
  HoldError,
  type HoldTarget,
  removeHold,
} from '#lib/holds/holds.ts';
import { hotIndexDaysFrom } from '#lib/storage/ledger-table.ts';
import { CliError, UsageError } from '../errors.ts';
import { explainTargetFailure, registeredWorkflow, resolveTarget, type Target } from '../target.ts';
import { evalStore } from './evals.ts';

export const HOLD_HELP = `agent-ledger hold — legal hold: keep events past their retention until the hold is removed

  agent-ledger hold add --workflow <id> <what> --reason "<why>" [--as <who>] [--stage <name>]
  agent-ledger hold remove --workflow <id> <what> --reason "<why>" [--as <who>] [--stage <name>]
  agent-ledger hold list [--workflow <id>] [--all] [--json] [--stage <name>]

<what> is one of:
  --unit <unitId>          every event of the unit
  --reviewed <unitId>      a reviewed sample: the unit's events, its review.verdict among them
  --rollback <eventId>     one rollback event (a kill-switch flip)
  --rollbacks              every rollback event of the workflow so far (later flips are not covered)
  --eval-set <name> [--version <n>]   the events of every unit the eval set's cases replay (latest version
                           by default); the eval set itself never expires in the ledger

A held event keeps its index entry (its TTL is taken off) and its archive objects (S3 Object Lock legal
hold, on the event objects and the _outcome-…json beside them). An event already gone from the index
(past its hot window) is held by its archive objects alone. The events are found by reading the
workflow's archive once. remove gives each index entry its TTL back and turns the legal hold off, except
where another hold still covers the same event or object. list shows holds in force (--all: released too).`;

const options = {
  workflow: { type: 'string' },
  unit: { type: 'string' },
  reviewed: { type: 'string' },
  rollback: { type: 'string' },
  rollbacks: { type: 'boolean' },
  'eval-set': { type: 'string' },
  version: { type: 'string' },
  reason: { type: 'string' },
  as: { type: 'string' },
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  stage: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

/** Longest reason kept: a sentence or two, with a ticket or case reference. */
const MAX_REASON_CHARS = 1000;

export async function holdCommand(args: string[], print: (line: string) => void): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options });
  if (positionals.length > 0)
    throw new UsageError(`hold ${action ?? ''} takes options only, got '${positionals[0]}'\n\n${HOLD_HELP}`);
  if (action === 'list') return listCommand(values, print);
  if (action === 'add' || action === 'remove') {
    const target = holdTargetFrom(values);
    const reason = reasonFrom(values, action);
    const version = versionFrom(values);
    const stack = await resolveTarget(values.stage);
    // A hold outlives its workflow's place in the registry: it can be listed and removed after that.
    if (action === 'add') await registeredWorkflow(stack, target.workflowId);
    const deps = await holdDeps(stack);
    if (action === 'add') {
      const evalSetUnits =
        target.kind === 'eval-set' ? await evalSetUnitsOf(stack, target, version) : undefined;
      const heldBy = values.as ?? (await stack.whoAmI());
      const result = await addHold(
        { ...target, reason, heldBy, ...(evalSetUnits ? { evalSetUnits } : {}) },
        deps,
      ).catch((error) => explainHoldFailure(error, stack));
      const { hold } = result;
      print(
        `Held ${describeTarget(hold)} on ${stack.description}${hold.evalSetVersion !== undefined ? ` (version ${hold.evalSetVersion})` : ''}: ${hold.events} event(s), ${hold.objects} archive object(s) under legal hold.`,
      );
      print(`  ${hold.indexedEvents} event(s) keep their index entry (no TTL while held).`);
      if (result.archiveOnlyEvents > 0)
        print(
          `  ${result.archiveOnlyEvents} event(s) were already gone from the index (past its hot window): their archive objects alone hold them.`,
        );
      if (evalSetUnits) {
        const found = new Set(result.unitIds);
        const missing = evalSetUnits.unitIds.filter((unitId) => !found.has(unitId));
        if (missing.length > 0)
          print(
            `  ${missing.length} of the set's ${evalSetUnits.unitIds.length} unit(s) have no events in the archive (e.g. ${missing.slice(0, 3).join(', ')}): nothing of them to hold.`,
          );
      }
      return;
    }
    const releasedBy = values.as ?? (await stack.whoAmI());
    const result = await removeHold({ ...target, reason, releasedBy }, deps).catch((error) =>
      explainHoldFailure(error, stack),
    );
    print(`Released the hold on ${describeTarget(target)} on ${stack.description}.`);
    print(
      `  ${result.restoredEvents} index entr${result.restoredEvents === 1 ? 'y has' : 'ies have'} its TTL back; ${result.releasedObjects} archive object(s) have legal hold off.`,
    );
    if (result.stillHeldEvents > 0 || result.stillHeldObjects > 0)
      print(
        `  ${result.stillHeldEvents} event(s) and ${result.stillHeldObjects} object(s) stay held: another hold covers them.`,
      );
    return;
  }
  throw new UsageError(action ? `unknown hold action '${action}'\n\n${HOLD_HELP}` : HOLD_HELP);
}

async function listCommand(values: Values, print: (line: string) => void): Promise<void> {
  const stack = await resolveTarget(values.stage);
  const deps = await holdDeps(stack);
  const holds = await (values.all ? deps.holds.list() : activeHolds(deps.holds)).catch((error) =>
    explainHoldFailure(error, stack),
  );
  const shown = holds.filter((hold) => values.workflow === undefined || hold.workflowId === values.workflow);
  if (values.json) {
    for (const hold of shown) print(JSON.stringify(hold));
    return;
  }
  if (shown.length === 0) {
    print(`No ${values.all ? '' : 'active '}holds on ${stack.description}.`);
    return;
  }
  print(`Holds on ${stack.description}:`);
  for (const hold of shown) print(listLine(hold));
}

function listLine(hold: Hold): string {
  const state =
    hold.status === 'active'
      ? 'HELD'
      : hold.status === 'applying'
        ? 'INCOMPLETE (an add failed part-way: run the same hold add again)'
        : `released ${hold.releasedAt} by ${hold.releasedBy}: ${hold.releaseReason}`;
  const archiveOnly = hold.events - hold.indexedEvents;
  return [
    `  ${hold.workflowId}  ${hold.kind} ${hold.targetId}${hold.evalSetVersion !== undefined ? ` v${hold.evalSetVersion}` : ''}  ${state}`,
    `      since ${hold.heldAt} by ${hold.heldBy}: ${hold.reason}`,
    `      ${hold.events} event(s) (${archiveOnly} by their archive objects alone), ${hold.objects} archive object(s)`,
  ].join('\n');
}

/** The one thing to hold, from the options; exactly one must be given. */
function holdTargetFrom(values: Values): HoldTarget {
  const workflowId = values.workflow;
  if (!workflowId) throw new UsageError(`--workflow <id> is required\n\n${HOLD_HELP}`);
  const given: HoldTarget[] = [
    ...(values.unit !== undefined ? [{ workflowId, kind: 'unit' as const, targetId: values.unit }] : []),
    ...(values.reviewed !== undefined
      ? [{ workflowId, kind: 'reviewed' as const, targetId: values.reviewed }]
      : []),
    ...(values.rollback !== undefined
      ? [{ workflowId, kind: 'rollback' as const, targetId: values.rollback }]
      : []),
    ...(values.rollbacks ? [{ workflowId, kind: 'rollbacks' as const, targetId: 'all' }] : []),
    ...(values['eval-set'] !== undefined
      ? [{ workflowId, kind: 'eval-set' as const, targetId: values['eval-set'] }]
      : []),
  ];
  const [target, second] = given;
  if (!target || second)
    throw new UsageError(
      `give exactly one of --unit, --reviewed, --rollback, --rollbacks or --eval-set (got ${given.length})\n\n${HOLD_HELP}`,
    );
  // Targets become parts of keys (`#`-separated): an ID with `#` or blank could name another hold.
  if (!/^[A-Za-z0-9._:-]{1,256}$/.test(target.targetId))
    throw new UsageError(
      `--${target.kind} must be 1–256 characters of [A-Za-z0-9._:-], not '${target.targetId}'`,
    );
  if (target.kind === 'eval-set' && !evalSetNameSchema.safeParse(target.targetId).success)
    throw new UsageError(`--eval-set '${target.targetId}' is not an eval set name`);
  if (values.version !== undefined && target.kind !== 'eval-set')
    throw new UsageError('--version is for --eval-set only');
  return target;
}

function reasonFrom(values: Values, action: string): string {
  const reason = values.reason?.trim();
  if (!reason)
    throw new UsageError(
      `--reason "<why>" is required: a hold ${action === 'add' ? 'keeps data past its retention' : 'release lets data expire'}, and says why`,
    );
  if (reason.length > MAX_REASON_CHARS)
    throw new UsageError(`--reason must be at most ${MAX_REASON_CHARS} characters (got ${reason.length})`);
  return reason;
}

function versionFrom(values: Values): number | undefined {
  if (values.version === undefined) return undefined;
  const version = Number(values.version);
  if (!/^\d+$/.test(values.version) || version < 1)
    throw new UsageError(`--version must be a whole number from 1, not '${values.version}'`);
  return version;
}

async function evalSetUnitsOf(
  stack: Target,
  target: HoldTarget,
  version: number | undefined,
): Promise<{ version: number; unitIds: string[] }> {
  const set = await evalStore(stack)
    .getSet(target.workflowId, target.targetId, version)
    .catch((error) => explainHoldFailure(error, stack));
  if (!set)
    throw new CliError(
      `${target.workflowId} has no eval set ${target.targetId}${version !== undefined ? ` version ${version}` : ''}; see \`agent-ledger evals list ${target.workflowId}\``,
    );
  return { version: set.version, unitIds: [...new Set(set.cases.map((evalCase) => evalCase.unitId))] };
}

async function holdDeps(stack: Target): Promise<HoldDependencies> {
  const documents = makeDocumentClient(stack.dynamodb);
  const { s3, bucket } = await stack.archive();
  return {
    holds: new DynamoDbHoldStore(documents, stack.tableName),
    index: new DynamoDbIndexRetention(documents, stack.tableName),
    archive: new S3ArchiveHolds(s3, bucket),
    clock: () => new Date(),
    hotIndexDays: hotIndexDaysFrom(process.env[FUNCTION_ENV.hotIndexDays]),
  };
}

/** A hold the operator asked for wrongly is theirs to fix; an outage says that sending it again is safe. */
export function explainHoldFailure(error: unknown, stack: Target): never {
  if (error instanceof HoldError) throw new CliError(error.message);
  if (isStoreUnavailable(error) && !(stack.isLocal && /ECONNREFUSED/.test(messageOf(error))))
    throw new CliError(
      `${stack.description} did not answer (${messageOf(error)}); every step of a hold can be done again, so running the same command again is safe`,
    );
  return explainTargetFailure(error, stack);
}
