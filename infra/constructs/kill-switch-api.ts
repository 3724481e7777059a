import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import { InvalidConfigError, parsePrincipalArn } from '../config.ts';
import { functionEntry } from '../paths.ts';
import type { IngestApi } from './ingest-api.ts';
import type { KillSwitchIds } from './kill-switch.ts';
import { LedgerFunction } from './ledger-function.ts';

/** The longest `reason` a flip may carry (the CLI and the handler hold it to the same bound). */
export const MAX_FLIP_REASON_LENGTH = 500;

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

    for (const fn of [autonomy, killSwitch]) {
      Validations.of(fn.function).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked only synchronously by API Gateway (proxy integration), so Lambda never queues an event to dead-letter: failures go back to the caller, and a flip that failed is simply sent again.',
      });
    }
    this.functions = { autonomy, killSwitch };

    const flipModel = ingestApi.api.addModel('KillSwitchRequest', {
      contentType: 'application/json',
      modelName: 'KillSwitchRequest',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        title: 'KillSwitchRequest',
        type: apigw.JsonSchemaType.OBJECT,
        required: ['enabled', 'reason'],
        properties: {
          enabled: { type: apigw.JsonSchemaType.BOOLEAN },
          reason: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: MAX_FLIP_REASON_LENGTH },
        },
      },
    });
    const workflowPath = { 'method.request.path.workflowId': true };
    const autonomyIntegration = new apigw.LambdaIntegration(autonomy.function);

    const tokenAutonomy = ingestApi.api.root
      .resourceForPath('v1/workflows/{workflowId}/autonomy')
      .addMethod('GET', autonomyIntegration, {
        authorizationType: apigw.AuthorizationType.CUSTOM,
        authorizer: ingestApi.tokenAuthorizer,
        requestValidator: ingestApi.requestValidator,
        requestParameters: workflowPath,
      });
    const iamWorkflow = ingestApi.api.root.resourceForPath('iam/v1/workflows/{workflowId}');
    const iamAutonomy = iamWorkflow.addResource('autonomy').addMethod('GET', autonomyIntegration, {
      authorizationType: apigw.AuthorizationType.IAM,
      requestValidator: ingestApi.requestValidator,
      requestParameters: workflowPath,
    });
    const flip = iamWorkflow
      .addResource('kill-switch')
      .addMethod('POST', new apigw.LambdaIntegration(killSwitch.function), {
        authorizationType: apigw.AuthorizationType.IAM,
        requestValidator: ingestApi.requestValidator,
        requestParameters: workflowPath,
        requestModels: { 'application/json': flipModel },
      });

    Validations.of(tokenAutonomy).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are agent services outside AWS, not people: they present bearer tokens that the TOKEN authorizer checks against hashed tokens in the ledger table; there is no user pool to sign in to.',
    });
    Validations.of(iamAutonomy).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are agent services inside AWS, not people: they sign requests with SigV4 and IAM authorizes them; a Cognito user pool would force them to hold user credentials instead of their roles.',
    });
    Validations.of(flip).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Flips come from operators and automation with IAM identities (SSO roles, pipelines), signed with SigV4; who may flip which workflow is an IAM policy per workflow, so a Cognito user pool would only add a second identity system beside IAM.',
    });

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
                'POST',
                `/iam/v1/workflows/${workflowId}/kill-switch`,
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
