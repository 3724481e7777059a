import { normalizeIamPrincipal } from '#lib/auth/tokens.ts';
import { flipKillSwitch } from '#lib/kill-switch/flip.ts';
import type { FlagWriter } from '#lib/kill-switch/ports.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { HttpError, json } from '../commons/http.ts';
import type { HttpRouteHandler } from '../commons/middy-stack.ts';
import { logger } from '../commons/powertools.ts';
import { parseJsonBody } from '../commons/request-body.ts';

/**
 * POST /iam/v1/workflows/{workflowId}/kill-switch `{enabled, reason}`. IAM only: who may call it for
 * which workflow is the per-workflow IAM policy the CDK attaches; the caller's role is recorded as who.
 */
export function makeKillSwitchHandler(deps: {
  writer: FlagWriter;
  registry: RegistrySource;
}): HttpRouteHandler {
  return async (event) => {
    const userArn = event.requestContext.identity?.userArn;
    if (!userArn)
      throw new HttpError(401, 'unauthorized', 'flipping the kill switch needs a SigV4-signed request');
    const changedBy = normalizeIamPrincipal(userArn);
    const result = await flipKillSwitch(
      event.pathParameters?.workflowId ?? '',
      parseJsonBody(event),
      changedBy,
      { writer: deps.writer, registry: await deps.registry.current() },
    );
    logger.info('kill switch flipped', { ...result, changedBy });
    return json(200, result);
  };
}
