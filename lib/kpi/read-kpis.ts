import { type Caller, workflowForCaller } from '#lib/auth/caller.ts';
import { InvalidRequestError, KpisNotComputedError } from '#lib/errors.ts';
import type { KpiStore } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { InvalidWeekError, lastCompleteWeek, weekBounds } from '#lib/kpi/weeks.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';

/** GET /v1/workflows/{id}/kpis?week=YYYY-Www (default: the last complete week). */
export async function readKpis(
  request: { workflowId: string; week: string | undefined },
  caller: Caller,
  deps: { kpis: KpiStore; registry: WorkflowRegistry; clock: () => Date },
): Promise<KpiRecord> {
  workflowForCaller(caller, request.workflowId, deps.registry);
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
