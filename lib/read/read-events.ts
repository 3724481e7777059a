import { type Caller, workflowForCaller } from '#lib/auth/caller.ts';
import { InvalidRequestError } from '#lib/errors.ts';
import { EVENT_TYPES, type EventType } from '#lib/events/schema.ts';
import { MIN_INSTANT_MS, parseRfc3339 } from '#lib/events/timestamps.ts';
import type { ValidationIssue } from '#lib/events/validate.ts';
import type { ViolationKind } from '#lib/ports.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { type TieredEventsDependencies, tieredEventPage } from './tiered-events.ts';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface ReadEventsRequest {
  readonly workflowId: string;
  readonly params: Readonly<Record<string, string | undefined>>;
}

export interface ReadEventsResult {
  readonly items: Record<string, unknown>[];
  readonly nextCursor: string | null;
}

const VIOLATION_KINDS: readonly ViolationKind[] = [
  'kill-switch',
  'boundary',
  'rollout-phase',
  'unlisted-tool',
];

/** A position in the time index: the sort key of the last event of a page. */
const CURSOR_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[A-Za-z0-9._:-]{1,128}$/;

/**
 * GET /v1/workflows/{id}/events (SPEC "Read API"): stored events in time order, `from` inclusive and
 * `to` exclusive, filtered by unit and type, paged with an opaque cursor. Expired events never return;
 * events past the index's hot window come from the archive, with the same item shape.
 */
export async function readEvents(
  request: ReadEventsRequest,
  caller: Caller,
  deps: TieredEventsDependencies & { registry: WorkflowRegistry; clock: () => Date },
): Promise<ReadEventsResult> {
  workflowForCaller(caller, request.workflowId, deps.registry);

  const { params } = request;
  const issues: ValidationIssue[] = [];
  const problem = (name: string, message: string) =>
    issues.push({ index: null, path: `query.${name}`, message });
  const now = deps.clock();

  const fromMs = params.from === undefined ? MIN_INSTANT_MS : parseRfc3339(params.from);
  if (fromMs === undefined) problem('from', 'must be an RFC 3339 timestamp with offset');
  // Events may be stamped up to 5 minutes ahead, so the default end leaves room for them.
  const toMs = params.to === undefined ? now.getTime() + 10 * 60_000 : parseRfc3339(params.to);
  if (toMs === undefined) problem('to', 'must be an RFC 3339 timestamp with offset');
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) problem('to', 'must not be before from');

  let limit = DEFAULT_PAGE_SIZE;
  if (params.limit !== undefined) {
    limit = Number(params.limit);
    if (!/^\d+$/.test(params.limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      problem('limit', `must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
    }
  }
  if (params.type !== undefined && !(EVENT_TYPES as readonly string[]).includes(params.type)) {
    problem('type', `must be one of ${EVENT_TYPES.join(', ')}`);
  }
  if (params.unitId !== undefined && (params.unitId.length < 1 || params.unitId.length > 256)) {
    problem('unitId', 'must be 1–256 characters');
  }
  const violations = VIOLATION_KINDS.find((kind) => kind === params.violations);
  if (params.violations !== undefined && violations === undefined) {
    problem(
      'violations',
      'must be kill-switch (autonomous while the lane was off), boundary (broke a boundary rule) or rollout-phase (a lane its rollout phase had not opened)',
    );
  }
  const after =
    params.cursor === undefined
      ? undefined
      : decodeCursor('events', params.cursor, (position) => CURSOR_KEY.test(position));
  if (after === null) problem('cursor', 'is not a cursor this API returned; start again without it');
  if (issues.length > 0) throw new InvalidRequestError('the query parameters are invalid', issues);

  // Before the hot window, from the archive too (lib/read/tiered-events.ts).
  const page = await tieredEventPage(
    {
      workflowId: request.workflowId,
      fromMs: fromMs ?? MIN_INSTANT_MS,
      toMs: toMs ?? 0,
      limit,
      nowSeconds: Math.floor(now.getTime() / 1000),
      ...(params.unitId !== undefined ? { unitId: params.unitId } : {}),
      ...(params.type !== undefined ? { type: params.type as EventType } : {}),
      ...(after ? { after } : {}),
      ...(violations ? { onlyViolations: violations } : {}),
    },
    now.getTime(),
    deps,
  );
  return {
    items: page.items.map((stored) => ({
      ...stored.event,
      receivedAt: stored.receivedAt,
      ...(stored.killSwitchViolation ? { killSwitchViolation: true } : {}),
      ...(stored.boundaryViolations ? { boundaryViolations: stored.boundaryViolations } : {}),
      ...(stored.rolloutPhaseViolation ? { rolloutPhaseViolation: stored.rolloutPhaseViolation } : {}),
      ...(stored.unlistedTools ? { unlistedTools: stored.unlistedTools } : {}),
    })),
    nextCursor: page.after ? encodeCursor('events', page.after) : null,
  };
}
