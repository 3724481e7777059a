import { type KpiJobDependencies, type KpiJobRequest, runKpiJob, weeksToCompute } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { type JobMetrics, publishKpiMetrics } from '../commons/job-metrics.ts';
import { logger } from '../commons/powertools.ts';

/**
 * The scheduled KPI job: EventBridge Scheduler invokes it weekly with `{}` (the week that just ended)
 * and daily with `{"recomputeWeeks": 4}` (late reviews); `{"week": "2026-W47"}` recomputes one week.
 * It emits each workflow's cost per unit, defect rate and throughput of the newest week it computed as
 * CloudWatch metrics (the dashboard's charts); older weeks of a recompute are not re-emitted.
 */
export function makeKpiJob(deps: KpiJobDependencies & { registry: RegistrySource; metrics: JobMetrics }) {
  return async (request: KpiJobRequest = {}) => {
    const weeks = weeksToCompute(request, deps.clock().getTime());
    const newest = weeks.at(-1);
    const registry = await deps.registry.current();
    const computed: { workflowId: string; week: string; throughput: number }[] = [];
    const newestRecords: KpiRecord[] = [];
    for (const week of weeks) {
      for (const workflowId of registry.ids()) {
        const record = await runKpiJob(workflowId, week, deps);
        computed.push({ workflowId, week, throughput: record.throughput });
        if (week === newest) newestRecords.push(record);
      }
    }
    publishKpiMetrics(deps.metrics, newestRecords);
    logger.info('KPIs computed', { computed });
    return { computed };
  };
}
