import { type KpiJobDependencies, type KpiJobRequest, runKpiJobs } from '#lib/kpi/job.ts';
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
  return async (request: KpiJobRequest | null = {}) => {
    const { weeks, records } = await runKpiJobs(request ?? {}, deps);
    publishKpiMetrics(
      deps.metrics,
      records.filter((record) => record.week === weeks.at(-1)),
    );
    const computed = records.map(({ workflowId, week, throughput }) => ({ workflowId, week, throughput }));
    logger.info('KPIs computed', { computed });
    return { computed };
  };
}
