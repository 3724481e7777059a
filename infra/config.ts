import type { Construct } from 'constructs';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { hotIndexDaysFrom } from '#lib/storage/ledger-table.ts';

/**
 * Deployment settings, read from CDK context: defaults in `cdk.json`, overridden per command with
 * `-c key=value` (e.g. `npx cdk deploy --all -c stage=prod -c throttleRateLimit=1000`).
 */
export interface LedgerConfig {
  /** Names the stacks (`AgentLedger-<stage>-Stateful|Stateless`) and the API Gateway stage. */
  readonly stage: string;
  /** API Gateway stage-wide throttling: steady requests per second and burst bucket size. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * Whether this app sets the account's API Gateway CloudWatch Logs role (needed for execution logs).
   * Turn off where a landing zone already manages that account-wide, per-region setting.
   */
  readonly manageApiGatewayAccountRole: boolean;
  /**
   * Who may flip each workflow's kill switch: IAM role or user ARNs (of the deployment account) per
   * registered workflow, or per `allAutonomousLanes` (the master flag), each given that flip policy. Context `killSwitchFlippers`, a JSON object
   * (e.g. `-c 'killSwitchFlippers={"support-triage":["arn:aws:iam::111122223333:role/oncall"]}'`).
   */
  readonly killSwitchFlippers: Readonly<Record<string, readonly string[]>>;
  /**
   * Days an event stays in the index after it arrives (context `hotIndexDays`, 1–750); unset: the
   * functions' default, `DEFAULT_HOT_INDEX_DAYS` (lib/storage/ledger-table.ts).
   */
  readonly hotIndexDays?: number;
}

export const DEFAULT_STAGE = 'dev';
export const DEFAULT_THROTTLE = { rateLimit: 500, burstLimit: 1000 } as const;

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError';
}

export function readLedgerConfig(
  scope: Construct,
  registry: WorkflowRegistry = defaultRegistry,
): LedgerConfig {
  const context = (key: string): unknown => scope.node.tryGetContext(key);

  const stage = String(context('stage') ?? DEFAULT_STAGE);
  if (!STAGE_PATTERN.test(stage)) {
    throw new InvalidConfigError(
      `context "stage" is "${stage}": use 1-20 lowercase letters, digits or hyphens, starting with a letter (e.g. -c stage=prod)`,
    );
  }
  return {
    stage,
    throttle: {
      rateLimit: positiveInteger(
        'throttleRateLimit',
        context('throttleRateLimit'),
        DEFAULT_THROTTLE.rateLimit,
      ),
      burstLimit: positiveInteger(
        'throttleBurstLimit',
        context('throttleBurstLimit'),
        DEFAULT_THROTTLE.burstLimit,
      ),
    },
    manageApiGatewayAccountRole: flag('apiGatewayCloudWatchRole', context('apiGatewayCloudWatchRole'), true),
    killSwitchFlippers: flippers(context('killSwitchFlippers'), registry),
    ...hotWindow(context('hotIndexDays')),
  };
}

function hotWindow(raw: unknown): { hotIndexDays?: number } {
  if (raw === undefined) return {};
  try {
    return { hotIndexDays: hotIndexDaysFrom(String(raw)) };
  } catch (error) {
    throw new InvalidConfigError(
      `context "hotIndexDays" is "${String(raw)}": ${(error as Error).message.replace(/^LEDGER_HOT_INDEX_DAYS /, '')} (e.g. -c hotIndexDays=60)`,
    );
  }
}

/** An IAM role or user, as its ARN names it. */
export interface PrincipalArn {
  readonly partition: string;
  readonly account: string;
  readonly kind: 'role' | 'user';
  /** The name without its path: what IAM attaches policies to. */
  readonly name: string;
}

const PRINCIPAL_ARN =
  /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):(role|user)\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;

/** Parses `arn:<partition>:iam::<account>:role|user/[path/]name`; anything else is undefined. */
export function parsePrincipalArn(arn: string): PrincipalArn | undefined {
  const match = PRINCIPAL_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition = '', account = '', kind, , name = ''] = match;
  return { partition, account, kind: kind === 'role' ? 'role' : 'user', name };
}

/** From `-c` the object arrives as a JSON string, from cdk.json as an object: accept both. */
function flippers(raw: unknown, registry: WorkflowRegistry): Record<string, string[]> {
  if (raw === undefined) return {};
  const example = '{"support-triage":["arn:aws:iam::111122223333:role/oncall"]}';
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new InvalidConfigError(`context "killSwitchFlippers" is not JSON: use an object like ${example}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidConfigError(
      `context "killSwitchFlippers" must be an object of workflow ID to ARN list, like ${example}`,
    );
  }
  const result: Record<string, string[]> = {};
  for (const [workflowId, arns] of Object.entries(value)) {
    if (workflowId !== MASTER_FLAG && !registry.get(workflowId)) {
      throw new InvalidConfigError(
        `context "killSwitchFlippers" names workflow "${workflowId}", which is not registered: use one of ${[...registry.ids(), MASTER_FLAG].join(', ')}`,
      );
    }
    if (!Array.isArray(arns) || arns.some((arn) => typeof arn !== 'string')) {
      throw new InvalidConfigError(
        `context "killSwitchFlippers.${workflowId}" must be a list of IAM role or user ARNs, like ${example}`,
      );
    }
    for (const arn of arns as string[]) {
      if (!parsePrincipalArn(arn)) {
        throw new InvalidConfigError(
          `context "killSwitchFlippers.${workflowId}" has "${arn}", which is not an IAM role or user ARN: use arn:aws:iam::<account>:role/<name> (a role's ARN, not an assumed-role session's) or arn:aws:iam::<account>:user/<name>`,
        );
      }
    }
    result[workflowId] = [...new Set(arns as string[])];
  }
  return result;
}

/** Context from `-c` arrives as a string, from cdk.json as a number: accept both. */
function positiveInteger(key: string, raw: unknown, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidConfigError(
      `context "${key}" is "${String(raw)}": use a positive integer (e.g. -c ${key}=${fallback})`,
    );
  }
  return value;
}

function flag(key: string, raw: unknown, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new InvalidConfigError(`context "${key}" is "${String(raw)}": use true or false`);
}
