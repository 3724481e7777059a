import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mayAccess, WorkflowNotAllowedError } from '#lib/auth/caller.ts';
import type { GrantStore } from '#lib/auth/tokens.ts';
import { UnknownWorkflowError } from '#lib/errors.ts';
import { readAutonomy } from '#lib/kill-switch/autonomy.ts';
import type { FlagReader } from '#lib/kill-switch/ports.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { resolveCaller } from '../commons/caller.ts';
import { json, toErrorResponse } from '../commons/http.ts';

/** GET /v1/workflows/{workflowId}/autonomy: 200 with the lane to use, failing closed (SPEC "Read API"). */
export function makeAutonomyHandler(deps: {
  flags: FlagReader;
  grants: GrantStore;
  registry: WorkflowRegistry;
}) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      const caller = await resolveCaller(event, deps.grants);
      const workflowId = event.pathParameters?.workflowId ?? '';
      if (!deps.registry.get(workflowId)) throw new UnknownWorkflowError(workflowId);
      if (!mayAccess(caller, workflowId)) throw new WorkflowNotAllowedError([workflowId]);
      return json(200, await readAutonomy(workflowId, deps.flags));
    } catch (error) {
      return toErrorResponse(error);
    }
  };
}
