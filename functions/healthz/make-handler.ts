import { checkHealth, type HealthProbe } from '#lib/health/check-health.ts';
import { json } from '../commons/http.ts';
import type { HttpRouteHandler } from '../commons/middy-stack.ts';
import { logger } from '../commons/powertools.ts';

/** GET /healthz: 200 when the ledger table and the archive bucket answer, 503 naming what does not. */
export function makeHealthzHandler(deps: { table: HealthProbe; archive: HealthProbe }): HttpRouteHandler {
  return async () => {
    const { healthy, checks } = await checkHealth(deps, (_check, error) =>
      logger.warn('health check failed', { error }),
    );
    return json(healthy ? 200 : 503, { status: healthy ? 'ok' : 'degraded', checks });
  };
}
