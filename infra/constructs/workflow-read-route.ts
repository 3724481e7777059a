import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { ApiFunction } from '#lib/api/routes.ts';
import { functionEntry } from '../paths.ts';
import type { IngestApi } from './ingest-api.ts';
import { LedgerFunction } from './ledger-function.ts';

export interface WorkflowReadRouteProps {
  /** The API the routes join: `/v1/…` (token) and `/iam/v1/…` (SigV4). */
  readonly ingestApi: IngestApi;
  readonly table: dynamodb.ITable;
  /** The construct ID of the function, e.g. `Kpis`. */
  readonly functionId: string;
  /** The function (its folder under `functions/`); its routes are its rows of `API_ROUTES`. */
  readonly entry: ApiFunction;
  readonly description: string;
}

/**
 * A function with table read access that serves a read on one workflow, `GET /v1/workflows/{workflowId}/…`
 * (token) and its `/iam/v1/…` mirror (SigV4), as its rows of `API_ROUTES` say: the KPI and review routes.
 */
export function addWorkflowReadRoute(scope: Construct, props: WorkflowReadRouteProps): LedgerFunction {
  const fn = new LedgerFunction(scope, props.functionId, {
    entry: functionEntry(props.entry),
    description: props.description,
    memorySize: 512,
    timeout: Duration.seconds(10),
  }).useLedgerTable(props.table, 'read');
  props.ingestApi.addRoutes({ [props.entry]: fn });
  return fn;
}
