import type { Construct } from 'constructs';

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
}

export const DEFAULT_STAGE = 'dev';
export const DEFAULT_THROTTLE = { rateLimit: 500, burstLimit: 1000 } as const;

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError';
}

export function readLedgerConfig(scope: Construct): LedgerConfig {
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
  };
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
