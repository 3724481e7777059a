import type { GrantStore } from '#lib/auth/tokens.ts';
import { type IngestDependencies, ingestEvents } from '#lib/ingest/ingest-events.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { resolveCaller } from '../commons/caller.ts';
import { json } from '../commons/http.ts';
import { addIngestMetrics } from '../commons/ingest-metrics.ts';
import type { HttpRouteHandler } from '../commons/middy-stack.ts';
import { logger, metrics } from '../commons/powertools.ts';
import { parseJsonBody } from '../commons/request-body.ts';

export interface IngestHandlerDependencies extends Omit<IngestDependencies, 'registry'> {
  readonly grants: GrantStore;
  /** Read per request, so a newly deployed registry takes effect without a cold start. */
  readonly registry: RegistrySource;
}

/**
 * POST /v1/events: body → use case → 202 with a status per event (SPEC "Ingest"). A request it cannot
 * accept is thrown to the error boundary, which answers it and counts it (IngestRejected, IngestFailed).
 */
export function makeIngestHandler(deps: IngestHandlerDependencies): HttpRouteHandler {
  return async (event) => {
    const caller = await resolveCaller(event, deps.grants);
    const body = parseJsonBody(event);
    const result = await ingestEvents(body, caller, { ...deps, registry: await deps.registry.current() });
    addIngestMetrics(metrics, result);
    if (result.violations) {
      // The alert operators see (rule IDs and event IDs only; never event contents).
      logger.warn('autonomy violations stored', {
        caller: caller.principal,
        violations: result.violations,
      });
    }
    // Counts only: event contents (and so actor IDs) never reach the logs.
    logger.info('ingested', {
      caller: caller.principal,
      accepted: result.accepted,
      duplicates: result.duplicates,
      conflicts: result.conflicts,
    });
    return json(202, result);
  };
}
