import type { GrantStore } from '#lib/auth/tokens.ts';
import type { EventIndex } from '#lib/ports.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import type { ReviewQueue } from '#lib/reviews/queue.ts';
import { readReviews } from '#lib/reviews/read-reviews.ts';
import { workflowRouteHandler } from '../commons/workflow-route.ts';

/** GET /v1/workflows/{workflowId}/reviews?status=pending (SPEC "Read API"). */
export function makeReviewsHandler(deps: {
  reviews: ReviewQueue;
  index: EventIndex;
  grants: GrantStore;
  registry: RegistrySource;
  clock: () => Date;
}) {
  return workflowRouteHandler(deps, readReviews);
}
