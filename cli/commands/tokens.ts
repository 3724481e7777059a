import { parseArgs } from 'node:util';
import { formatWorkflowScope, parseWorkflowScope } from '#lib/auth/caller.ts';
import { issueToken } from '#lib/auth/tokens.ts';
import { UsageError } from '../errors.ts';
import {
  accessStore,
  deployedRegistry,
  explainTargetFailure,
  resolveTarget,
  type Target,
} from '../target.ts';

export const TOKENS_HELP = `agent-ledger tokens — bearer tokens for agent services outside AWS

  agent-ledger tokens create --workflows <ids|*> [--label <text>] [--stage <name>]
  agent-ledger tokens revoke <tokenId> [--stage <name>]
  agent-ledger tokens list [--stage <name>]

The token is printed once and stored only as a hash. Revoking takes effect at once locally and
within the authorizer cache (60 s) in the cloud.`;

export async function tokensCommand(args: string[], print: (line: string) => void): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      workflows: { type: 'string' },
      label: { type: 'string' },
      stage: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (action === 'create') {
    if (positionals.length > 0)
      throw new UsageError(`tokens create takes no arguments, got '${positionals[0]}'`);
    const scope = parseScopeOption(values.workflows);
    const target = await resolveTarget(values.stage);
    const workflows = await registeredScope(scope, target);
    const { token, record } = issueToken({
      workflows,
      now: new Date(),
      ...(values.label ? { label: values.label } : {}),
    });
    await accessStore(target)
      .putToken(record)
      .catch((error) => explainTargetFailure(error, target));
    if (values.json) {
      print(JSON.stringify({ tokenId: record.tokenId, token, workflows: record.workflows }));
      return;
    }
    print(`Created token ${record.tokenId} for workflows ${record.workflows} on ${target.description}.`);
    print('It is shown this once; store it as a secret:');
    print(token);
    return;
  }
  if (action === 'revoke') {
    const [tokenId, extra] = positionals;
    if (!tokenId || extra)
      throw new UsageError('usage: agent-ledger tokens revoke <tokenId> [--stage <name>]');
    const id = /^alt_([0-9a-f]{16})_/.exec(tokenId)?.[1] ?? tokenId;
    if (!/^[0-9a-f]{16}$/.test(id))
      throw new UsageError(`'${tokenId}' is not a token ID (16 hex characters)`);
    const target = await resolveTarget(values.stage);
    const deleted = await accessStore(target)
      .deleteToken(id)
      .catch((error) => explainTargetFailure(error, target));
    if (!deleted)
      throw new UsageError(
        `no token ${id} on ${target.description}; \`agent-ledger tokens list\` shows them`,
      );
    print(`Revoked token ${id} on ${target.description}.`);
    return;
  }
  if (action === 'list') {
    const target = await resolveTarget(values.stage);
    const tokens = await accessStore(target)
      .listTokens()
      .catch((error) => explainTargetFailure(error, target));
    if (values.json) {
      for (const { tokenHash: _hash, ...shown } of tokens) print(JSON.stringify(shown));
      return;
    }
    if (tokens.length === 0) print(`No tokens on ${target.description}.`);
    for (const token of tokens) {
      print(
        `${token.tokenId}  ${token.createdAt}  workflows=${token.workflows}${token.label ? `  label=${token.label}` : ''}`,
      );
    }
    return;
  }
  throw new UsageError(action ? `unknown tokens action '${action}'\n\n${TOKENS_HELP}` : TOKENS_HELP);
}

/** `--workflows a,b` or `*`: checked before any stack is reached. */
export function parseScopeOption(option: string | undefined): ReturnType<typeof parseWorkflowScope> {
  if (option === undefined || option.trim() === '') {
    throw new UsageError('--workflows is required: a comma-separated list of workflow IDs, or * for all');
  }
  const scope = parseWorkflowScope(option);
  if (scope !== '*' && scope.size === 0) throw new UsageError('--workflows names no workflow');
  return scope;
}

/** The scope as stored, once every ID in it is registered in the target's deployed registry. */
export async function registeredScope(
  scope: ReturnType<typeof parseWorkflowScope>,
  target: Target,
): Promise<string> {
  if (scope !== '*') {
    const { registry } = await deployedRegistry(target);
    const unknown = [...scope].filter((id) => !registry.get(id));
    if (unknown.length > 0) {
      throw new UsageError(
        `unknown workflow ${unknown.join(', ')}; registered: ${registry.ids().join(', ')}`,
      );
    }
  }
  return formatWorkflowScope(scope);
}
