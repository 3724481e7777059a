import type { Caller } from '#lib/auth/caller.ts';
import type { GrantStore } from '#lib/auth/tokens.ts';
import type { RegistrySource, WorkflowRegistry } from '#lib/registry/workflows.ts';
import { resolveCaller } from './caller.ts';
import { json } from './http.ts';
import type { HttpRouteHandler } from './middy-stack.ts';

/** What a route on one workflow is asked: the workflow of its path, and its query string. */
export interface WorkflowRequest {
  readonly workflowId: string;
  readonly params: Readonly<Record<string, string | undefined>>;
}

/** What every route on one workflow needs, whatever its use case reads besides. */
export interface WorkflowRouteDependencies {
  readonly grants: GrantStore;
  /** Read per request, so a newly deployed registry takes effect without a cold start. */
  readonly registry: RegistrySource;
  readonly clock: () => Date;
}

/** The dependencies of a workflow route's use case: the make-handler's, with the registry as deployed now. */
export type WithRegistry<Deps> = Omit<Deps, 'registry'> & { readonly registry: WorkflowRegistry };

/**
 * A read on one workflow, `GET /v1/workflows/{workflowId}/…`: who is calling, the deployed registry (read
 * per request, so a new version takes effect without a cold start), then the use case, whose result is the
 * 200 answer. What the use case throws is the error boundary's to answer.
 */
export function workflowRouteHandler<Deps extends WorkflowRouteDependencies>(
  deps: Deps,
  useCase: (request: WorkflowRequest, caller: Caller, deps: WithRegistry<Deps>) => Promise<unknown>,
): HttpRouteHandler {
  return async (event) => {
    const caller = await resolveCaller(event, deps.grants);
    const request = {
      workflowId: event.pathParameters?.workflowId ?? '',
      params: event.queryStringParameters ?? {},
    };
    return json(200, await useCase(request, caller, { ...deps, registry: await deps.registry.current() }));
  };
}
