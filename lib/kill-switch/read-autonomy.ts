import { type Caller, workflowForCaller } from '#lib/auth/caller.ts';
import { type AutonomyState, readAutonomy } from '#lib/kill-switch/autonomy.ts';
import { LedgerLaneHistory } from '#lib/kill-switch/history.ts';
import type { FlagReader } from '#lib/kill-switch/ports.ts';
import type { EventIndex } from '#lib/ports.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';

export interface ReadAutonomyDependencies {
  readonly flags: FlagReader;
  /** Where the recorded flips are: why a lane is off, when AppConfig serves only `{enabled: false}`. */
  readonly index: EventIndex;
  readonly registry: WorkflowRegistry;
  readonly clock: () => Date;
}

/**
 * GET /v1/workflows/{workflowId}/autonomy (SPEC "Read API"): the lane to use, gated by the workflow's
 * rollout phase and the kill switch, failing closed.
 */
export async function readWorkflowAutonomy(
  request: { workflowId: string },
  caller: Caller,
  deps: ReadAutonomyDependencies,
): Promise<AutonomyState> {
  const workflow = workflowForCaller(caller, request.workflowId, deps.registry);
  const history = new LedgerLaneHistory(deps.index, Math.floor(deps.clock().getTime() / 1000));
  return readAutonomy(
    request.workflowId,
    deps.flags,
    (id, scope) => history.lastFlip(id, scope),
    workflow.rolloutPhase,
  );
}
