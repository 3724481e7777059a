import { type Notifier, runDriftJob } from '#lib/drift/job.ts';
import type { FlagWriter } from '#lib/kill-switch/ports.ts';
import type { KpiStore } from '#lib/kpi/job.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { type JobMetrics, publishDriftMetrics } from '../commons/job-metrics.ts';
import { logger } from '../commons/powertools.ts';

/**
 * The scheduled drift job, after the KPI job; `{"week": "2026-W47"}` judges one week, `{}` the last
 * complete one. Emits DriftPauses per workflow (1 when this run paused its lane), which the dashboard's
 * drift alarm watches.
 */
export function makeDriftJob(deps: {
  kpis: KpiStore;
  flags: FlagWriter;
  notifier: Notifier;
  registry: RegistrySource;
  clock: () => Date;
  metrics: JobMetrics;
}) {
  return async (request: { week?: string } | null = {}) => {
    const outcomes = await runDriftJob(request?.week, { ...deps, registry: await deps.registry.current() });
    publishDriftMetrics(deps.metrics, outcomes);
    logger.info('drift judged', { outcomes });
    return { outcomes };
  };
}
