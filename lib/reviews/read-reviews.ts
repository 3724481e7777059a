import { type Caller, workflowForCaller } from '#lib/auth/caller.ts';
import { InvalidRequestError } from '#lib/errors.ts';
import type { EventIndex } from '#lib/ports.ts';
import { decodeCursor, encodeCursor } from '#lib/read/cursor.ts';
import { LANES, type WorkflowRegistry } from '#lib/registry/workflows.ts';
import { isLane } from '#lib/reviews/lane.ts';
import type { ReviewItem, ReviewQueue } from '#lib/reviews/queue.ts';

const MAX_EVENTS_PER_UNIT = 200;

export interface ReviewForReviewer extends ReviewItem {
  /** The unit's events in time order (actions with their outputs, tool calls, retrieval): what to judge. */
  readonly events: Record<string, unknown>[];
}

/**
 * GET /v1/workflows/{id}/reviews?status=pending[&lane=shadow]: the sampled units awaiting review, each
 * with its lane and what a reviewer needs to judge it. `lane=shadow` lists the onboarding reviews: units
 * whose actions all ran in the shadow lane. A `review.verdict` event for the unit closes it.
 */
export async function readReviews(
  request: { workflowId: string; params: Readonly<Record<string, string | undefined>> },
  caller: Caller,
  deps: { reviews: ReviewQueue; index: EventIndex; registry: WorkflowRegistry; clock: () => Date },
): Promise<{ items: ReviewForReviewer[]; nextCursor: string | null }> {
  workflowForCaller(caller, request.workflowId, deps.registry);
  const { status = 'pending', lane, limit: limitParam, cursor } = request.params;
  const issues = [];
  if (status !== 'pending' && status !== 'reviewed') {
    issues.push({ index: null, path: 'query.status', message: 'must be pending or reviewed' });
  }
  if (lane !== undefined && !isLane(lane)) {
    issues.push({ index: null, path: 'query.lane', message: `must be one of ${LANES.join(', ')}` });
  }
  const limit = limitParam === undefined ? 20 : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    issues.push({ index: null, path: 'query.limit', message: 'must be a whole number from 1 to 100' });
  }
  // A position is the unit ID the previous page ended with (1–256 characters, as unitId is).
  const after =
    cursor === undefined
      ? undefined
      : decodeCursor('reviews', cursor, (position) => position.length >= 1 && position.length <= 256);
  if (after === null) {
    issues.push({
      index: null,
      path: 'query.cursor',
      message: 'is not a cursor this API returned; start again without it',
    });
  }
  if (issues.length > 0) throw new InvalidRequestError('the query parameters are invalid', issues);

  const page = await deps.reviews.list({
    workflowId: request.workflowId,
    status: status as 'pending' | 'reviewed',
    ...(lane !== undefined && isLane(lane) ? { lane } : {}),
    limit,
    ...(after !== undefined && after !== null ? { after } : {}),
  });
  const nowSeconds = Math.floor(deps.clock().getTime() / 1000);
  const items = await Promise.all(
    page.items.map(async (item) => {
      const events = await deps.index.query({
        workflowId: item.workflowId,
        unitId: item.unitId,
        limit: MAX_EVENTS_PER_UNIT,
        nowSeconds,
      });
      return {
        ...item,
        events: events.items.map((stored) => ({ ...stored.event, receivedAt: stored.receivedAt })),
      };
    }),
  );
  return { items, nextCursor: page.after ? encodeCursor('reviews', page.after) : null };
}
