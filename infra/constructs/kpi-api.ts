import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { IngestApi } from './ingest-api.ts';
import type { LedgerFunction } from './ledger-function.ts';
import { addWorkflowReadRoute } from './workflow-read-route.ts';

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
    this.function = addWorkflowReadRoute(this, {
      ...props,
      functionId: 'Kpis',
      entry: 'kpis',
      description: "Agent Ledger: GET /v1/workflows/{workflowId}/kpis, a workflow's KPI record for a week",
    });
  }
}
