import type { KpiStore } from '#lib/kpi/job.ts';
import { readKpis } from '#lib/kpi/read-kpis.ts';
import { type WorkflowRouteDependencies, workflowRouteHandler } from '../commons/workflow-route.ts';

/** GET /v1/workflows/{workflowId}/kpis?week=YYYY-Www: the stored KPI record (SPEC "KPIs"). */
export function makeKpisHandler(deps: WorkflowRouteDependencies & { readonly kpis: KpiStore }) {
  return workflowRouteHandler(deps, ({ workflowId, params }, caller, withRegistry) =>
    readKpis({ workflowId, week: params.week }, caller, withRegistry),
  );
}
