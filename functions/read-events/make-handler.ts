import type { GrantStore } from '#lib/auth/tokens.ts';
import type { EventIndex } from '#lib/ports.ts';
import { readEvents } from '#lib/read/read-events.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { workflowRouteHandler } from '../commons/workflow-route.ts';

export interface ReadEventsHandlerDependencies {
  readonly index: EventIndex;
  readonly grants: GrantStore;
  readonly registry: RegistrySource;
  readonly clock: () => Date;
}

/** GET /v1/workflows/{workflowId}/events: a workflow's stored events in time order. */
export function makeReadEventsHandler(deps: ReadEventsHandlerDependencies) {
  return workflowRouteHandler(deps, readEvents);
}
