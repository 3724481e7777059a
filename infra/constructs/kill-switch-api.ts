import { Duration, Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { routePath, routeServedBy } from '#lib/api/routes.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import { InvalidConfigError, parsePrincipalArn } from '../config.ts';
import { functionEntry } from '../paths.ts';
import type { IngestApi } from './ingest-api.ts';
import type { KillSwitchIds } from './kill-switch.ts';
import { LedgerFunction } from './ledger-function.ts';

/** The route a flip is a call of: its IAM path names the workflow, so a policy can allow one workflow. */
const FLIP_ROUTE = routeServedBy('kill-switch');

export interface KillSwitchApiProps {
  /** The API the routes join: `/v1/…` (token) and `/iam/v1/…` (SigV4). */
  readonly ingestApi: IngestApi;
  /** The API Gateway stage, which also names the flip policies. */
  readonly stageName: string;
  readonly table: dynamodb.ITable;
  /** This stage's kill switch, from the stateful stack. */
  readonly killSwitch: KillSwitchIds;
  /** The registered workflows: each gets its own flip policy (and so does the master flag). */
  readonly workflowIds: readonly string[];
  /**
   * IAM principals (role or user ARNs, validated by `readLedgerConfig`) that may flip each workflow's lane.
   * @default none: the policies exist, attached to nobody
   */
  readonly flippers?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The kill switch's HTTP side. `GET /v1/workflows/{workflowId}/autonomy` (token) and its `/iam/v1/…` mirror
 * (SigV4) tell an agent whether its autonomous lane is allowed; `POST /iam/v1/workflows/{workflowId}/kill-switch`
 * flips it, with SigV4 only: flipping is for people and automation with IAM identities, never for bearer
 * tokens. Who may flip which workflow is an IAM managed policy per workflow, allowing `execute-api:Invoke`
 * on exactly that workflow's kill-switch route of this stage, attached to the principals named in context.
 */
export class KillSwitchApi extends Construct {
  public readonly functions: { readonly autonomy: LedgerFunction; readonly killSwitch: LedgerFunction };
  /**
   * Per flip target, i.e. each registered workflow and `MASTER_FLAG` (flipped through the same route, with
   * `allAutonomousLanes` as the workflowId): the policy that allows flipping it.
   */
  public readonly flipPolicies: ReadonlyMap<string, iam.ManagedPolicy>;

  constructor(scope: Construct, id: string, props: KillSwitchApiProps) {
    super(scope, id);
    const { ingestApi } = props;

    const autonomy = new LedgerFunction(this, 'Autonomy', {
      entry: functionEntry('autonomy'),
      description:
        'Agent Ledger: GET /v1/workflows/{workflowId}/autonomy, whether the autonomous lane is allowed',
      memorySize: 512,
      timeout: Duration.seconds(10),
    })
      .useLedgerTable(props.table, 'read')
      .useKillSwitch(props.killSwitch, 'read');

    const killSwitch = new LedgerFunction(this, 'KillSwitch', {
      entry: functionEntry('kill-switch'),
      description:
        "Agent Ledger: POST /iam/v1/workflows/{workflowId}/kill-switch, flips a workflow's autonomous lane",
      memorySize: 512,
      // Under API Gateway's 29 s: the immediate strategy completes a deployment within seconds.
      timeout: Duration.seconds(25),
      // No table: the caller is the SigV4 identity API Gateway passes, and the flags live in AppConfig.
    }).useKillSwitch(props.killSwitch, 'write');

    this.functions = { autonomy, killSwitch };
    ingestApi.addRoutes({ autonomy, 'kill-switch': killSwitch });

    this.flipPolicies = this.createFlipPolicies(props);
  }

  private createFlipPolicies(props: KillSwitchApiProps): Map<string, iam.ManagedPolicy> {
    const stack = Stack.of(this);
    const policies = new Map<string, iam.ManagedPolicy>();
    for (const workflowId of [MASTER_FLAG, ...props.workflowIds]) {
      const policy = new iam.ManagedPolicy(this, `FlipPolicy-${workflowId}`, {
        managedPolicyName: `agent-ledger-${props.stageName}-flip-${workflowId}`,
        description:
          workflowId === MASTER_FLAG
            ? `Agent Ledger (${props.stageName}): may flip the master kill switch (every autonomous lane at once), and only that one`
            : `Agent Ledger (${props.stageName}): may flip the kill switch of workflow ${workflowId}, and only that one`,
        statements: [
          new iam.PolicyStatement({
            actions: ['execute-api:Invoke'],
            resources: [
              props.ingestApi.api.arnForExecuteApi(
                FLIP_ROUTE.method,
                routePath(FLIP_ROUTE, 'iam').replace('{workflowId}', workflowId),
                props.stageName,
              ),
            ],
          }),
        ],
      });
      for (const [index, arn] of (props.flippers?.[workflowId] ?? []).entries()) {
        const principal = parsePrincipalArn(arn);
        if (!principal)
          throw new InvalidConfigError(
            `killSwitchFlippers.${workflowId}: "${arn}" is not a role or user ARN`,
          );
        if (!Token.isUnresolved(stack.account) && principal.account !== stack.account) {
          throw new InvalidConfigError(
            `killSwitchFlippers.${workflowId}: "${arn}" is in account ${principal.account}, but a managed policy can only be attached to principals of this stack's account ${stack.account}`,
          );
        }
        const id = `Flipper-${workflowId}-${index}`;
        if (principal.kind === 'role') policy.attachToRole(iam.Role.fromRoleName(this, id, principal.name));
        else policy.attachToUser(iam.User.fromUserName(this, id, principal.name));
      }
      policies.set(workflowId, policy);
    }
    return policies;
  }
}
