import { Duration, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { functionEntry } from '../paths.ts';
import type { IngestApi } from './ingest-api.ts';
import { LedgerFunction } from './ledger-function.ts';

export interface KpiApiProps {
  /** The API the routes join: `/v1/…` (token) and `/iam/v1/…` (SigV4). */
  readonly ingestApi: IngestApi;
  readonly table: dynamodb.ITable;
}

/**
 * `GET /v1/workflows/{workflowId}/kpis?week=YYYY-Www` (token) and its `/iam/v1/…` mirror (SigV4): a
 * workflow's stored KPI record for a week (the last complete one without `week`), as the KPI job wrote it.
 */
export class KpiApi extends Construct {
  public readonly function: LedgerFunction;

  constructor(scope: Construct, id: string, props: KpiApiProps) {
    super(scope, id);
    const { ingestApi } = props;

    this.function = new LedgerFunction(this, 'Kpis', {
      entry: functionEntry('kpis'),
      description: "Agent Ledger: GET /v1/workflows/{workflowId}/kpis, a workflow's KPI record for a week",
      memorySize: 512,
      timeout: Duration.seconds(10),
    }).useLedgerTable(props.table, 'read');
    Validations.of(this.function.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked only synchronously by API Gateway (proxy integration), so Lambda never queues an event to dead-letter: failures go back to the caller, and a read is simply sent again.',
    });

    const integration = new apigw.LambdaIntegration(this.function.function);
    const options = {
      requestValidator: ingestApi.requestValidator,
      requestParameters: {
        'method.request.path.workflowId': true,
        'method.request.querystring.week': false,
      },
    };
    const tokenKpis = ingestApi.api.root
      .resourceForPath('v1/workflows/{workflowId}/kpis')
      .addMethod('GET', integration, {
        ...options,
        authorizationType: apigw.AuthorizationType.CUSTOM,
        authorizer: ingestApi.tokenAuthorizer,
      });
    const iamKpis = ingestApi.api.root
      .resourceForPath('iam/v1/workflows/{workflowId}/kpis')
      .addMethod('GET', integration, { ...options, authorizationType: apigw.AuthorizationType.IAM });

    Validations.of(tokenKpis).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are agent services and dashboards outside AWS, not people signing in: they present bearer tokens that the TOKEN authorizer checks against hashed tokens in the ledger table; there is no user pool to sign in to.',
    });
    Validations.of(iamKpis).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are services and operators inside AWS: they sign requests with SigV4 and IAM authorizes them; a Cognito user pool would force them to hold user credentials instead of their roles.',
    });
  }
}
