import type { EventIndex } from '#lib/ports.ts';
import type { ReviewQueue } from '#lib/reviews/queue.ts';
import { readReviews } from '#lib/reviews/read-reviews.ts';
import { type WorkflowRouteDependencies, workflowRouteHandler } from '../commons/workflow-route.ts';

/** GET /v1/workflows/{workflowId}/reviews?status=pending (SPEC "Read API"). */
export function makeReviewsHandler(
  deps: WorkflowRouteDependencies & { readonly reviews: ReviewQueue; readonly index: EventIndex },
) {
  return workflowRouteHandler(deps, readReviews);
}
