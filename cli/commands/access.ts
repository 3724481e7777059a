import { parseArgs } from 'node:util';
import { normalizeIamPrincipal } from '#lib/auth/tokens.ts';
import { UsageError } from '../errors.ts';
import { accessStore, explainTargetFailure, resolveTarget } from '../target.ts';
import { parseScopeOption, registeredScope } from './tokens.ts';

export const ACCESS_HELP = `agent-ledger access — which workflows an IAM caller (SigV4, under /iam/v1) may touch

  agent-ledger access grant <roleArn> --workflows <ids|*> [--stage <name>]
  agent-ledger access revoke <roleArn> [--stage <name>]
  agent-ledger access show <roleArn> [--stage <name>]

Name the role (arn:aws:iam::<account>:role/<name>); any session of it is covered.`;

export async function accessCommand(args: string[], print: (line: string) => void): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { workflows: { type: 'string' }, stage: { type: 'string' } },
  });
  if (!['grant', 'revoke', 'show'].includes(action ?? '')) {
    throw new UsageError(action ? `unknown access action '${action}'\n\n${ACCESS_HELP}` : ACCESS_HELP);
  }
  const [arn, extra] = positionals;
  if (!arn || extra) throw new UsageError(`usage: agent-ledger access ${action} <roleArn> …`);
  if (!/^arn:aws[a-z-]*:(iam|sts)::\d{12}:/.test(arn))
    throw new UsageError(`'${arn}' is not an IAM role or user ARN`);
  const principal = normalizeIamPrincipal(arn);

  if (action === 'grant') {
    const scope = parseScopeOption(values.workflows);
    const target = await resolveTarget(values.stage);
    const workflows = await registeredScope(scope, target);
    await accessStore(target)
      .putGrant({ principal, workflows, createdAt: new Date().toISOString() })
      .catch((error) => explainTargetFailure(error, target));
    print(`Granted ${principal} workflows ${workflows} on ${target.description}.`);
    return;
  }
  const target = await resolveTarget(values.stage);
  const store = accessStore(target);
  if (action === 'revoke') {
    const deleted = await store.deleteGrant(principal).catch((error) => explainTargetFailure(error, target));
    if (!deleted) throw new UsageError(`${principal} has no grant on ${target.description}`);
    print(`Revoked the grant of ${principal} on ${target.description}.`);
    return;
  }
  const grant = await store.getGrant(principal).catch((error) => explainTargetFailure(error, target));
  print(
    grant
      ? `${principal}: workflows ${grant.workflows} (since ${grant.createdAt})`
      : `${principal} has no grant`,
  );
}
