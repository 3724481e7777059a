import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { GrantStore } from '#lib/auth/tokens.ts';
import type { EventIndex } from '#lib/ports.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import type { ReviewQueue } from '#lib/reviews/queue.ts';
import { readReviews } from '#lib/reviews/read-reviews.ts';
import { resolveCaller } from '../commons/caller.ts';
import { json, toErrorResponse } from '../commons/http.ts';

/** GET /v1/workflows/{workflowId}/reviews?status=pending (SPEC "Read API"). */
export function makeReviewsHandler(deps: {
  reviews: ReviewQueue;
  index: EventIndex;
  grants: GrantStore;
  registry: RegistrySource;
  clock: () => Date;
}) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      const caller = await resolveCaller(event, deps.grants);
      const result = await readReviews(
        { workflowId: event.pathParameters?.workflowId ?? '', params: event.queryStringParameters ?? {} },
        caller,
        { ...deps, registry: await deps.registry.current() },
      );
      return json(200, result);
    } catch (error) {
      return toErrorResponse(error);
    }
  };
}
