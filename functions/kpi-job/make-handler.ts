import { type KpiJobDependencies, type KpiJobRequest, runKpiJob, weeksToCompute } from '#lib/kpi/job.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { logger } from '../commons/powertools.ts';

/**
 * The scheduled KPI job: EventBridge Scheduler invokes it weekly with `{}` (the week that just ended)
 * and daily with `{"recomputeWeeks": 4}` (late reviews); `{"week": "2026-W47"}` recomputes one week.
 */
export function makeKpiJob(deps: KpiJobDependencies & { registry: WorkflowRegistry }) {
  return async (request: KpiJobRequest = {}) => {
    const weeks = weeksToCompute(request, deps.clock().getTime());
    const computed: { workflowId: string; week: string; throughput: number }[] = [];
    for (const week of weeks) {
      for (const workflowId of deps.registry.ids()) {
        const record = await runKpiJob(workflowId, week, deps);
        computed.push({ workflowId, week, throughput: record.throughput });
      }
    }
    logger.info('KPIs computed', { computed });
    return { computed };
  };
}
