import { parseArgs } from 'node:util';
import { formatWorkflowScope, parseWorkflowScope } from '#lib/auth/caller.ts';
import { parseRoles, ROLES, type Role } from '#lib/auth/people.ts';
import { issueToken } from '#lib/auth/tokens.ts';
import { UsageError } from '../errors.ts';
import {
  accessStore,
  deployedRegistry,
  explainTargetFailure,
  resolveTarget,
  type Target,
} from '../target.ts';

export const TOKENS_HELP = `agent-ledger tokens — bearer tokens for agent services outside AWS, and for people

  agent-ledger tokens create --workflows <ids|*> [--label <text>] [--stage <name>] [--json]
  agent-ledger tokens create --workflows <ids|*> --label <name> --roles <viewer,reviewer,operator>
  agent-ledger tokens revoke <tokenId> [--stage <name>]
  agent-ledger tokens list [--stage <name>] [--json]

A token without roles is an agent service's: it posts events and reads the API, and cannot sign in
to the console. A token with --roles is a person's, for signing in to the console: on its workflows a
viewer reads, a reviewer judges the sample, an operator flips the kill switch and runs drills. Its
--label is the person's name, which their verdicts and flips record.

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
      roles: { type: 'string' },
      stage: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (action === 'create') {
    if (positionals.length > 0)
      throw new UsageError(`tokens create takes no arguments, got '${positionals[0]}'`);
    const scope = parseScopeOption(values.workflows);
    const roles = parseRolesOption(values.roles, values.label);
    const target = await resolveTarget(values.stage);
    const workflows = await registeredScope(scope, target);
    const { token, record } = issueToken({
      workflows,
      now: new Date(),
      ...(values.label ? { label: values.label } : {}),
      ...(roles ? { roles: roles.join(',') } : {}),
    });
    await accessStore(target)
      .putToken(record)
      .catch((error) => explainTargetFailure(error, target));
    if (values.json) {
      const { tokenId, workflows, roles } = record;
      print(JSON.stringify({ tokenId, token, workflows, ...(roles ? { roles } : {}) }));
      return;
    }
    print(
      record.roles
        ? `Created token ${record.tokenId} for ${record.label} (roles ${record.roles}) on workflows ${record.workflows} on ${target.description}.`
        : `Created token ${record.tokenId} for workflows ${record.workflows} on ${target.description}.`,
    );
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
        `${token.tokenId}  ${token.createdAt}  workflows=${token.workflows}${token.roles ? `  roles=${token.roles}` : ''}${token.label ? `  label=${token.label}` : ''}`,
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

/**
 * `--roles viewer,reviewer`: the person's console roles, checked before any stack is reached. A token
 * with roles is a person's, so it needs `--label`, their name. Without `--roles`, undefined: a service's token.
 */
export function parseRolesOption(option: string | undefined, label: string | undefined): Role[] | undefined {
  if (option === undefined) return undefined;
  const parsed = parseRoles(option);
  if ('unknown' in parsed) {
    throw new UsageError(
      `unknown role ${parsed.unknown.map((word) => `'${word}'`).join(', ')} in --roles; the roles are ${ROLES.join(', ')}`,
    );
  }
  if (parsed.roles.length === 0)
    throw new UsageError(`--roles names no role; give one or more of ${ROLES.join(', ')}`);
  if (!label?.trim()) {
    throw new UsageError(
      "a token with --roles is a person's: give --label <their name>, which their verdicts and flips record",
    );
  }
  return parsed.roles;
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
