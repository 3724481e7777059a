import {
  type KpiJobDependencies,
  type KpiJobPart,
  type KpiJobRequest,
  planKpiJobs,
  runKpiParts,
} from '#lib/kpi/job.ts';
import { lastCompleteWeek } from '#lib/kpi/weeks.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { mapWithConcurrency } from '#lib/util/concurrency.ts';
import { type JobMetrics, publishKpiMetrics } from '../commons/job-metrics.ts';
import { logger } from '../commons/powertools.ts';

/** Parts handed to Lambda at once while fanning out (each hand-over is one short API call). */
const FAN_OUT_CONCURRENCY = 8;

export interface KpiJobHandlerDependencies extends KpiJobDependencies {
  readonly registry: RegistrySource;
  readonly metrics: JobMetrics;
  /**
   * Hands one part to an invocation of its own (in Lambda: this function, invoked asynchronously). With it,
   * a run of more than one part computes none itself: a workflow's week of 1M events takes minutes (README,
   * "The KPI job at scale"), so the Monday run's 4 weeks of every workflow would not fit Lambda's 15.
   */
  readonly fanOut?: (part: KpiJobPart) => Promise<void>;
}

/**
 * The scheduled KPI job: EventBridge Scheduler invokes it on Mondays with `{"recomputeWeeks": 4}` (the week
 * that just ended and the 3 before it, for late reviews) and daily with `{}` (the last complete week, the one
 * drift judges); `{"week": "2026-W47"}` recomputes one week, `{"workflowId": …}` only one workflow. A run
 * of several parts (workflow × week) fans out, one invocation per part, and answers what it handed out; a
 * run of one part computes it. The records of the last complete week are emitted as CloudWatch metrics
 * (the dashboard's charts, which plot them at the time they are emitted); older weeks' are not.
 */
export function makeKpiJob(deps: KpiJobHandlerDependencies) {
  return async (request: KpiJobRequest | null = {}) => {
    const parts = await planKpiJobs(request ?? {}, deps);
    if (deps.fanOut && parts.length > 1) {
      await mapWithConcurrency(parts, FAN_OUT_CONCURRENCY, deps.fanOut);
      logger.info('KPI job fanned out', { parts });
      return { fannedOut: parts };
    }
    const records = await runKpiParts(parts, deps);
    const newest = lastCompleteWeek(deps.clock().getTime());
    publishKpiMetrics(
      deps.metrics,
      records.filter((record) => record.week === newest),
    );
    const computed = records.map(({ workflowId, week, throughput }) => ({ workflowId, week, throughput }));
    logger.info('KPIs computed', { computed });
    return { computed };
  };
}
