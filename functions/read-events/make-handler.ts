import type { EventIndex } from '#lib/ports.ts';
import { readEvents } from '#lib/read/read-events.ts';
import { type WorkflowRouteDependencies, workflowRouteHandler } from '../commons/workflow-route.ts';

export interface ReadEventsHandlerDependencies extends WorkflowRouteDependencies {
  readonly index: EventIndex;
}

/** GET /v1/workflows/{workflowId}/events: a workflow's stored events in time order. */
export function makeReadEventsHandler(deps: ReadEventsHandlerDependencies) {
  return workflowRouteHandler(deps, readEvents);
}
