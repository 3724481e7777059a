import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { IngestApi } from './ingest-api.ts';
import type { LedgerFunction } from './ledger-function.ts';
import { addWorkflowReadRoute } from './workflow-read-route.ts';

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
    this.function = addWorkflowReadRoute(this, {
      ...props,
      functionId: 'Reviews',
      entry: 'reviews',
      description: 'Agent Ledger: GET /v1/workflows/{workflowId}/reviews, sampled units awaiting review',
    });
  }
}
