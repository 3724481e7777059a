import type { FlagReader } from '#lib/kill-switch/ports.ts';
import { readWorkflowAutonomy } from '#lib/kill-switch/read-autonomy.ts';
import type { EventIndex } from '#lib/ports.ts';
import { type WorkflowRouteDependencies, workflowRouteHandler } from '../commons/workflow-route.ts';

/**
 * GET /v1/workflows/{workflowId}/autonomy: 200 with the lane to use, gated by the workflow's rollout phase
 * and the kill switch, failing closed (SPEC "Read API").
 */
export function makeAutonomyHandler(
  deps: WorkflowRouteDependencies & { readonly flags: FlagReader; readonly index: EventIndex },
) {
  return workflowRouteHandler(deps, readWorkflowAutonomy);
}
