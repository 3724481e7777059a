import { type Caller, mayAccess, WorkflowNotAllowedError } from '#lib/auth/caller.ts';
import { InvalidRequestError, UnknownWorkflowError } from '#lib/errors.ts';
import type { KpiStore } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { InvalidWeekError, lastCompleteWeek, weekBounds } from '#lib/kpi/weeks.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';

export class KpisNotComputedError extends Error {
  override name = 'KpisNotComputedError';
  constructor(workflowId: string, week: string) {
    super(
      `no KPIs for ${workflowId} in ${week} yet: the KPI job computes each week after it ends (locally: agent-ledger jobs kpi --week ${week})`,
    );
  }
}

/** GET /v1/workflows/{id}/kpis?week=YYYY-Www (default: the last complete week). */
export async function readKpis(
  request: { workflowId: string; week: string | undefined },
  caller: Caller,
  deps: { kpis: KpiStore; registry: WorkflowRegistry; clock: () => Date },
): Promise<KpiRecord> {
  if (!deps.registry.get(request.workflowId)) throw new UnknownWorkflowError(request.workflowId);
  if (!mayAccess(caller, request.workflowId)) throw new WorkflowNotAllowedError([request.workflowId]);
  const week = request.week ?? lastCompleteWeek(deps.clock().getTime());
  try {
    weekBounds(week);
  } catch (error) {
    if (error instanceof InvalidWeekError) {
      throw new InvalidRequestError('the week is invalid', [
        { index: null, path: 'query.week', message: error.message },
      ]);
    }
    throw error;
  }
  const record = await deps.kpis.getRecord(request.workflowId, week);
  if (!record) throw new KpisNotComputedError(request.workflowId, week);
  return record;
}
