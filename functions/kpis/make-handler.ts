import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { GrantStore } from '#lib/auth/tokens.ts';
import type { KpiStore } from '#lib/kpi/job.ts';
import { readKpis } from '#lib/kpi/read-kpis.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { resolveCaller } from '../commons/caller.ts';
import { json, toErrorResponse } from '../commons/http.ts';

/** GET /v1/workflows/{workflowId}/kpis?week=YYYY-Www: the stored KPI record (SPEC "KPIs"). */
export function makeKpisHandler(deps: {
  kpis: KpiStore;
  grants: GrantStore;
  registry: RegistrySource;
  clock: () => Date;
}) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      const caller = await resolveCaller(event, deps.grants);
      const record = await readKpis(
        { workflowId: event.pathParameters?.workflowId ?? '', week: event.queryStringParameters?.week },
        caller,
        { ...deps, registry: await deps.registry.current() },
      );
      return json(200, record);
    } catch (error) {
      return toErrorResponse(error);
    }
  };
}
