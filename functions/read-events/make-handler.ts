import { readEvents } from '#lib/read/read-events.ts';
import type { TieredEventsDependencies } from '#lib/read/tiered-events.ts';
import { type WorkflowRouteDependencies, workflowRouteHandler } from '../commons/workflow-route.ts';

export interface ReadEventsHandlerDependencies extends WorkflowRouteDependencies, TieredEventsDependencies {}

/**
 * GET /v1/workflows/{workflowId}/events: a workflow's stored events in time order, from the index for the
 * hot window and from the archive before it.
 */
export function makeReadEventsHandler(deps: ReadEventsHandlerDependencies) {
  return workflowRouteHandler(deps, readEvents);
}
