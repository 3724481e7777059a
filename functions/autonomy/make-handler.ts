import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mayAccess, WorkflowNotAllowedError } from '#lib/auth/caller.ts';
import type { GrantStore } from '#lib/auth/tokens.ts';
import { UnknownWorkflowError } from '#lib/errors.ts';
import { readAutonomy } from '#lib/kill-switch/autonomy.ts';
import { LedgerLaneHistory } from '#lib/kill-switch/history.ts';
import type { FlagReader } from '#lib/kill-switch/ports.ts';
import type { EventIndex } from '#lib/ports.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { resolveCaller } from '../commons/caller.ts';
import { json, toErrorResponse } from '../commons/http.ts';

/**
 * GET /v1/workflows/{workflowId}/autonomy: 200 with the lane to use, gated by the workflow's rollout phase
 * and the kill switch, failing closed (SPEC "Read API").
 */
export function makeAutonomyHandler(deps: {
  flags: FlagReader;
  grants: GrantStore;
  registry: RegistrySource;
  index: EventIndex;
}) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      const caller = await resolveCaller(event, deps.grants);
      const workflowId = event.pathParameters?.workflowId ?? '';
      const workflow = (await deps.registry.current()).get(workflowId);
      if (!workflow) throw new UnknownWorkflowError(workflowId);
      if (!mayAccess(caller, workflowId)) throw new WorkflowNotAllowedError([workflowId]);
      const history = new LedgerLaneHistory(deps.index, Math.floor(Date.now() / 1000));
      const state = await readAutonomy(
        workflowId,
        deps.flags,
        (id, scope) => history.lastFlip(id, scope),
        workflow.rolloutPhase,
      );
      return json(200, state);
    } catch (error) {
      return toErrorResponse(error);
    }
  };
}
