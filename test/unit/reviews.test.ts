import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { httpHandler } from '#functions/commons/handlers.ts';
import { makeReviewsHandler } from '#functions/reviews/make-handler.ts';
import { InvalidRequestError } from '#lib/errors.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { type IngestDependencies, ingestEvents } from '#lib/ingest/ingest-events.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import type { Lane } from '#lib/registry/workflows.ts';
import { unitLane } from '#lib/reviews/lane.ts';
import { readReviews } from '#lib/reviews/read-reviews.ts';
import { isSampledForReview } from '#lib/reviews/sampling.ts';
import { lambdaContext } from '#local-stack/api-server.ts';
import { actionEvent, unitEvent } from '../support/events.ts';
import {
  InMemoryEventArchive,
  InMemoryEventIndex,
  InMemoryReviewQueue,
} from '../support/in-memory-stores.ts';

/** A fresh unit ID that support-triage's 10% sample picks. */
let counter = 0;
function sampledUnit(): string {
  for (;;) {
    const id = `unit-${++counter}`;
    if (isSampledForReview('support-triage', id, 0.1)) return id;
  }
}

const everyWorkflow = { principal: 'test', workflows: '*' as const };
const AT = '2026-11-24T11:00:00Z';

describe('the lane of a unit, for review', () => {
  it.each([
    [['shadow'], 'shadow'],
    [['shadow', 'shadow', undefined], 'shadow'],
    [['shadow', 'hitl'], 'hitl'],
    [['hitl', 'shadow'], 'hitl'],
    [['shadow', 'autonomous', 'hitl'], 'autonomous'],
    [['hitl'], 'hitl'],
    [[], null],
    [[undefined, 'rogue', 7], null],
  ] as const)('actions in %j make a %s unit', (lanes, expected) => {
    expect(unitLane(lanes)).toBe(expected);
  });
});

describe('the review queue: each sampled unit with its lane', () => {
  let index: InMemoryEventIndex;
  let reviews: InMemoryReviewQueue;
  let deps: IngestDependencies;

  beforeEach(() => {
    index = new InMemoryEventIndex();
    reviews = new InMemoryReviewQueue();
    deps = {
      index,
      archive: new InMemoryEventArchive(),
      registry: defaultRegistry,
      hasher: new ActorHasher(Buffer.alloc(32, 1)),
      clock: () => new Date('2026-11-24T12:00:00Z'),
      reviews,
    };
  });

  const action = (unitId: string, lane: Lane | undefined) => {
    const event = actionEvent({ unitId, lane, occurredAt: AT });
    if (lane === undefined) delete event.lane;
    return event;
  };
  const completed = (unitId: string) => unitEvent('unit.completed', unitId, { occurredAt: AT });
  const laneOf = (unitId: string) => reviews.items.get(`support-triage#${unitId}`)?.lane;

  it('queues a unit whose actions all ran in shadow as shadow, from the same request or earlier ones', async () => {
    // Prepare
    const [together, apart, mixed, unknown] = [sampledUnit(), sampledUnit(), sampledUnit(), sampledUnit()];
    await ingestEvents(
      { events: [action(apart, 'shadow'), action(mixed, 'shadow'), action(mixed, 'shadow')] },
      everyWorkflow,
      deps,
    );

    // Act
    await ingestEvents(
      {
        events: [
          action(together, 'shadow'),
          completed(together),
          completed(apart),
          action(mixed, 'hitl'),
          completed(mixed),
          action(unknown, undefined),
          completed(unknown),
        ],
      },
      everyWorkflow,
      deps,
    );

    // Assess
    expect(laneOf(together)).toBe('shadow');
    expect(laneOf(apart)).toBe('shadow');
    expect(laneOf(mixed)).toBe('hitl');
    expect(laneOf(unknown)).toBeNull();
  });

  it('keeps the lane it was queued with when the completion is sent again', async () => {
    const unit = sampledUnit();
    await ingestEvents({ events: [action(unit, 'shadow'), completed(unit)] }, everyWorkflow, deps);
    await ingestEvents({ events: [action(unit, 'autonomous'), completed(unit)] }, everyWorkflow, deps);
    expect(laneOf(unit)).toBe('shadow');
  });
});

describe('GET /v1/workflows/{id}/reviews?lane=…', () => {
  let reviews: InMemoryReviewQueue;
  const deps = () => ({
    reviews,
    index: new InMemoryEventIndex(),
    registry: defaultRegistry,
    clock: () => new Date('2026-11-24T12:00:00Z'),
  });

  beforeEach(async () => {
    reviews = new InMemoryReviewQueue();
    const base = { workflowId: 'support-triage', completedAt: AT, sampledAt: AT };
    await reviews.enqueue({ ...base, unitId: 'u-shadow', lane: 'shadow' });
    await reviews.enqueue({ ...base, unitId: 'u-hitl', lane: 'hitl' });
    await reviews.enqueue({ ...base, unitId: 'u-auto', lane: 'autonomous' });
    await reviews.enqueue({ ...base, unitId: 'u-none', lane: null });
  });

  it('lists only the units of the lane asked for, each with its lane', async () => {
    for (const [lane, units] of [
      ['shadow', ['u-shadow']],
      ['hitl', ['u-hitl']],
      ['autonomous', ['u-auto']],
    ] as const) {
      const page = await readReviews(
        { workflowId: 'support-triage', params: { status: 'pending', lane } },
        everyWorkflow,
        deps(),
      );
      expect(page.items.map((item) => [item.unitId, item.lane])).toEqual(units.map((unit) => [unit, lane]));
    }
    const all = await readReviews({ workflowId: 'support-triage', params: {} }, everyWorkflow, deps());
    // In unit-ID order, as the queue keeps them (the DynamoDB queue's sort key is the unit ID).
    expect(all.items.map((item) => [item.unitId, item.lane])).toEqual([
      ['u-auto', 'autonomous'],
      ['u-hitl', 'hitl'],
      ['u-none', null],
      ['u-shadow', 'shadow'],
    ]);
    expect(reviews.queries.at(-1)).not.toHaveProperty('lane');
  });

  it('refuses a cursor it did not write, as the events route does, instead of an empty page', async () => {
    for (const cursor of [
      'garbage',
      'ZXZlbnRzOjIwMjY',
      '',
      '%%%',
      Buffer.from('reviews:').toString('base64url'),
    ]) {
      const attempt = readReviews(
        { workflowId: 'support-triage', params: { status: 'pending', cursor } },
        everyWorkflow,
        deps(),
      );
      await expect(attempt, cursor).rejects.toMatchObject({
        issues: [{ index: null, path: 'query.cursor', message: expect.stringContaining('not a cursor') }],
      });
    }
  });

  it('refuses a lane it does not know, naming the parameter', async () => {
    for (const lane of ['Shadow', 'human', '', 'none']) {
      const attempt = readReviews(
        { workflowId: 'support-triage', params: { status: 'pending', lane } },
        everyWorkflow,
        deps(),
      );
      await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
      await expect(attempt).rejects.toMatchObject({
        issues: [{ index: null, path: 'query.lane', message: 'must be one of shadow, hitl, autonomous' }],
      });
    }
  });

  it('answers 400 through the handler, with the lane in the response items otherwise', async () => {
    // Prepare
    const handler = httpHandler(
      makeReviewsHandler({
        ...deps(),
        grants: { putGrant: async () => {}, getGrant: async () => undefined, deleteGrant: async () => false },
      }),
    );
    const request = (query: Record<string, string>) =>
      ({
        pathParameters: { workflowId: 'support-triage' },
        queryStringParameters: query,
        requestContext: { authorizer: { workflows: '*', principalId: 'reviewer' } },
      }) as unknown as APIGatewayProxyEvent;

    // Act
    const bad = await handler(request({ status: 'pending', lane: 'yolo' }), lambdaContext('reviews', 'r-1'));
    const good = await handler(
      request({ status: 'pending', lane: 'shadow' }),
      lambdaContext('reviews', 'r-2'),
    );

    // Assess
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({
      error: 'invalid_request',
      issues: [{ path: 'query.lane', message: 'must be one of shadow, hitl, autonomous' }],
    });
    expect(good.statusCode).toBe(200);
    expect(JSON.parse(good.body).items).toMatchObject([{ unitId: 'u-shadow', lane: 'shadow', events: [] }]);
  });
});
