import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { GrantStore } from '#lib/auth/tokens.ts';
import { type IngestDependencies, ingestEvents } from '#lib/ingest/ingest-events.ts';
import type { ViolationKind } from '#lib/ports.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { resolveCaller } from '../commons/caller.ts';
import { json, parseJsonBody, toErrorResponse } from '../commons/http.ts';
import { logger, metrics } from '../commons/powertools.ts';

export interface IngestHandlerDependencies extends Omit<IngestDependencies, 'registry'> {
  readonly grants: GrantStore;
  /** Read per request, so a newly deployed registry takes effect without a cold start. */
  readonly registry: RegistrySource;
}

/** POST /v1/events: body → use case → 202 with a status per event (SPEC "Ingest"). */
export function makeIngestHandler(deps: IngestHandlerDependencies) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      const caller = await resolveCaller(event, deps.grants);
      const body = parseJsonBody(event);
      const result = await ingestEvents(body, caller, { ...deps, registry: await deps.registry.current() });
      metrics.addMetric('EventsAccepted', MetricUnit.Count, result.accepted);
      metrics.addMetric('EventsDuplicate', MetricUnit.Count, result.duplicates);
      metrics.addMetric('EventsConflict', MetricUnit.Count, result.conflicts);
      const count = (kind: ViolationKind) =>
        result.violations?.filter((violation) => violation.kind === kind).length ?? 0;
      metrics.addMetric('BoundaryViolations', MetricUnit.Count, count('boundary'));
      metrics.addMetric('KillSwitchViolations', MetricUnit.Count, count('kill-switch'));
      metrics.addMetric('RolloutPhaseViolations', MetricUnit.Count, count('rollout-phase'));
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
    } catch (error) {
      const response = toErrorResponse(error);
      if (response.statusCode < 500) metrics.addMetric('IngestRejected', MetricUnit.Count, 1);
      else metrics.addMetric('IngestFailed', MetricUnit.Count, 1);
      return response;
    }
  };
}
