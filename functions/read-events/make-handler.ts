import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { GrantStore } from '#lib/auth/tokens.ts';
import type { EventIndex } from '#lib/ports.ts';
import { readEvents } from '#lib/read/read-events.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { resolveCaller } from '../commons/caller.ts';
import { json, toErrorResponse } from '../commons/http.ts';

export interface ReadEventsHandlerDependencies {
  readonly index: EventIndex;
  readonly grants: GrantStore;
  readonly registry: RegistrySource;
  readonly clock: () => Date;
}

/** GET /v1/workflows/{workflowId}/events. */
export function makeReadEventsHandler(deps: ReadEventsHandlerDependencies) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      const caller = await resolveCaller(event, deps.grants);
      const result = await readEvents(
        { workflowId: event.pathParameters?.workflowId ?? '', params: event.queryStringParameters ?? {} },
        caller,
        { ...deps, registry: await deps.registry.current() },
      );
      return json(200, result);
    } catch (error) {
      return toErrorResponse(error);
    }
  };
}
