import type { RegistrySource } from '#lib/registry/workflows.ts';
import { type ReportsJobDependencies, type ReportsJobRequest, runReportsJob } from '#lib/reports/job.ts';
import { logger } from '../commons/powertools.ts';

/**
 * The scheduled governance reports job: EventBridge Scheduler invokes it weekly with `{}` (the week that
 * just ended, after the KPI job computed it); `{"week": "2026-W47"}` rewrites one week's reports.
 */
export function makeReportsJob(
  deps: Omit<ReportsJobDependencies, 'registry'> & { readonly registry: RegistrySource },
) {
  return async (request: ReportsJobRequest | null = {}) => {
    const result = await runReportsJob(request?.week ? { week: request.week } : {}, {
      ...deps,
      registry: await deps.registry.current(),
    });
    const summary = {
      week: result.week,
      month: result.month,
      quarter: result.quarter,
      indexUpdated: result.indexUpdated,
      keys: result.keys,
    };
    logger.info('governance reports written', summary);
    return summary;
  };
}
