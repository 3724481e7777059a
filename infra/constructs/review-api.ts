import { Duration, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { functionEntry } from '../paths.ts';
import type { IngestApi } from './ingest-api.ts';
import { LedgerFunction } from './ledger-function.ts';

export interface ReviewApiProps {
  readonly ingestApi: IngestApi;
  readonly table: dynamodb.ITable;
}

/**
 * `GET /v1/workflows/{workflowId}/reviews?status=pending` (token) and its `/iam/v1/…` mirror (SigV4): the
 * sampled units awaiting human review, each with the unit's events for the reviewer to judge.
 */
export class ReviewApi extends Construct {
  public readonly function: LedgerFunction;

  constructor(scope: Construct, id: string, props: ReviewApiProps) {
    super(scope, id);
    const { ingestApi } = props;
    this.function = new LedgerFunction(this, 'Reviews', {
      entry: functionEntry('reviews'),
      description: 'Agent Ledger: GET /v1/workflows/{workflowId}/reviews, sampled units awaiting review',
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
        'method.request.querystring.status': false,
        'method.request.querystring.limit': false,
        'method.request.querystring.cursor': false,
      },
    };
    const tokenRoute = ingestApi.api.root
      .resourceForPath('v1/workflows/{workflowId}/reviews')
      .addMethod('GET', integration, {
        ...options,
        authorizationType: apigw.AuthorizationType.CUSTOM,
        authorizer: ingestApi.tokenAuthorizer,
      });
    const iamRoute = ingestApi.api.root
      .resourceForPath('iam/v1/workflows/{workflowId}/reviews')
      .addMethod('GET', integration, { ...options, authorizationType: apigw.AuthorizationType.IAM });
    Validations.of(tokenRoute).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are review tools and agent services outside AWS, not people signing in: they present bearer tokens that the TOKEN authorizer checks against hashed tokens in the ledger table; there is no user pool to sign in to.',
    });
    Validations.of(iamRoute).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are services and operators inside AWS: they sign requests with SigV4 and IAM authorizes them; a Cognito user pool would force them to hold user credentials instead of their roles.',
    });
  }
}
