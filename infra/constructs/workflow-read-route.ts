import { Duration, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { functionEntry } from '../paths.ts';
import type { IngestApi } from './ingest-api.ts';
import { LedgerFunction } from './ledger-function.ts';

export interface WorkflowReadRouteProps {
  /** The API the routes join: `/v1/…` (token) and `/iam/v1/…` (SigV4). */
  readonly ingestApi: IngestApi;
  readonly table: dynamodb.ITable;
  /** The construct ID of the function, e.g. `Kpis`. */
  readonly functionId: string;
  /** The folder under `functions/`. */
  readonly entry: string;
  readonly description: string;
  /** The last path segment: `GET /v1/workflows/{workflowId}/<resource>`. */
  readonly resource: string;
  /** Optional query-string parameters the route accepts. */
  readonly queryParameters: readonly string[];
}

/**
 * A read-only route on a workflow, `GET /v1/workflows/{workflowId}/<resource>` (token) mirrored under
 * `/iam/v1/…` (SigV4), served by its own function with table read access: the shape of the KPI and
 * review routes.
 */
export function addWorkflowReadRoute(scope: Construct, props: WorkflowReadRouteProps): LedgerFunction {
  const { ingestApi } = props;
  const fn = new LedgerFunction(scope, props.functionId, {
    entry: functionEntry(props.entry),
    description: props.description,
    memorySize: 512,
    timeout: Duration.seconds(10),
  }).useLedgerTable(props.table, 'read');
  Validations.of(fn.function).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'Invoked only synchronously by API Gateway (proxy integration), so Lambda never queues an event to dead-letter: failures go back to the caller, and a read is simply sent again.',
  });

  const integration = new apigw.LambdaIntegration(fn.function);
  const options = {
    requestValidator: ingestApi.requestValidator,
    requestParameters: {
      'method.request.path.workflowId': true,
      ...Object.fromEntries(
        props.queryParameters.map((name) => [`method.request.querystring.${name}`, false]),
      ),
    },
  };
  const tokenRoute = ingestApi.api.root
    .resourceForPath(`v1/workflows/{workflowId}/${props.resource}`)
    .addMethod('GET', integration, {
      ...options,
      authorizationType: apigw.AuthorizationType.CUSTOM,
      authorizer: ingestApi.tokenAuthorizer,
    });
  const iamRoute = ingestApi.api.root
    .resourceForPath(`iam/v1/workflows/{workflowId}/${props.resource}`)
    .addMethod('GET', integration, { ...options, authorizationType: apigw.AuthorizationType.IAM });
  Validations.of(tokenRoute).acknowledge({
    id: 'AwsSolutions-COG4',
    reason:
      'Callers are agent services, review tools and dashboards outside AWS, not people signing in: they present bearer tokens that the TOKEN authorizer checks against hashed tokens in the ledger table; there is no user pool to sign in to.',
  });
  Validations.of(iamRoute).acknowledge({
    id: 'AwsSolutions-COG4',
    reason:
      'Callers are services and operators inside AWS: they sign requests with SigV4 and IAM authorizes them; a Cognito user pool would force them to hold user credentials instead of their roles.',
  });
  return fn;
}
