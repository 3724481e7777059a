import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventHandler, httpHandler } from '#functions/commons/handlers.ts';
import { HttpError } from '#functions/commons/http.ts';
import { INGEST_METRICS } from '#functions/commons/ingest-metrics.ts';
import { metrics } from '#functions/commons/powertools.ts';
import { makeHealthzHandler } from '#functions/healthz/make-handler.ts';
import { makeIngestHandler } from '#functions/ingest/make-handler.ts';
import * as errors from '#lib/errors.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { lambdaContext } from '#local-stack/api-server.ts';
import { actionEvent } from '../support/events.ts';
import { InMemoryEventArchive, InMemoryEventIndex } from '../support/in-memory-stores.ts';

const context = lambdaContext('test-function', 'request-1');
const anyRequest = {} as APIGatewayProxyEvent;
const noGrants = {
  putGrant: async () => {},
  getGrant: async () => undefined,
  deleteGrant: async () => false,
};

/** The metrics the shared Powertools instance was given, by name, in order; nothing is flushed. */
function recordedMetrics(): string[] {
  const names: string[] = [];
  vi.spyOn(metrics, 'addMetric').mockImplementation((name) => {
    names.push(name);
    return metrics;
  });
  vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
  return names;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('httpHandler: the one error path of the API routes', () => {
  it.each([
    [
      new errors.InvalidRequestError('bad', [{ index: 0, path: '$.events[0]', message: 'x' }]),
      400,
      'invalid_request',
    ],
    [new HttpError(401, 'unauthorized', 'who are you'), 401, 'unauthorized'],
    [new errors.WorkflowNotAllowedError(['code-review']), 403, 'forbidden'],
    [new errors.UnknownWorkflowError('nope'), 404, 'not_found'],
    [new errors.KpisNotComputedError('support-triage', '2026-W47'), 404, 'not_found'],
    [new errors.RegistryUnavailableError('AppConfig said no'), 503, 'service_unavailable'],
    [new Error('connect ECONNREFUSED 10.0.0.1:443'), 500, 'internal_error'],
  ])('answers what the make-handler throws (%s) with %i %s', async (error, statusCode, code) => {
    // Prepare
    const handler = httpHandler(async () => {
      throw error;
    });

    // Act
    const response = await handler(anyRequest, context);

    // Assess
    expect(response.statusCode).toBe(statusCode);
    expect(response.headers).toEqual({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
    });
    expect(JSON.parse(response.body)).toMatchObject({ error: code });
  });

  it('passes an answer through unchanged', async () => {
    const answer = { statusCode: 202, body: '{}' };
    expect(await httpHandler(async () => answer)(anyRequest, context)).toEqual(answer);
  });

  it('counts each answered error as rejected (4xx) or failed (5xx) when given error metrics', async () => {
    // Prepare
    const names = recordedMetrics();
    const failing = (error: Error) =>
      httpHandler(
        async () => {
          throw error;
        },
        { errorMetrics: { rejected: 'Rejected', failed: 'Failed' } },
      );

    // Act
    await failing(new errors.InvalidRequestError('bad'))(anyRequest, context);
    await failing(new Error('boom'))(anyRequest, context);
    await httpHandler(async () => ({ statusCode: 200, body: '' }), {
      errorMetrics: { rejected: 'Rejected', failed: 'Failed' },
    })(anyRequest, context);

    // Assess
    expect(names).toEqual(['Rejected', 'Failed']);
  });

  it('counts nothing for a route without error metrics', async () => {
    const names = recordedMetrics();
    await httpHandler(async () => {
      throw new errors.InvalidRequestError('bad');
    })(anyRequest, context);
    expect(names).toEqual([]);
  });
});

describe('the ingest route through its Lambda handler', () => {
  const ingest = () =>
    httpHandler(
      makeIngestHandler({
        index: new InMemoryEventIndex(),
        archive: new InMemoryEventArchive(),
        grants: noGrants,
        registry: defaultRegistry,
        hasher: new ActorHasher(Buffer.alloc(32, 7)),
        clock: () => new Date('2026-11-24T10:00:00Z'),
      }),
      { errorMetrics: { rejected: INGEST_METRICS.rejected, failed: INGEST_METRICS.failed } },
    );
  const post = (body: string, contentType = 'application/json') =>
    ({
      headers: { 'Content-Type': contentType },
      body,
      isBase64Encoded: false,
      requestContext: { authorizer: { workflows: '*', principalId: 'agent' } },
    }) as unknown as APIGatewayProxyEvent;

  it('emits IngestRejected from the boundary for a request it answers 4xx', async () => {
    // Prepare
    const names = recordedMetrics();

    // Act
    const response = await ingest()(post('a=1', 'application/x-www-form-urlencoded'), context);

    // Assess
    expect(response.statusCode).toBe(415);
    expect(names).toEqual([INGEST_METRICS.rejected]);
  });

  it('emits its counts, and no error metric, for a request it accepts', async () => {
    // Prepare
    const names = recordedMetrics();
    const event = actionEvent({ occurredAt: '2026-11-24T09:00:00Z' });

    // Act
    const response = await ingest()(post(JSON.stringify({ events: [event] })), context);

    // Assess
    expect(response.statusCode).toBe(202);
    expect(names).toEqual([
      INGEST_METRICS.accepted,
      INGEST_METRICS.duplicates,
      INGEST_METRICS.conflicts,
      INGEST_METRICS.boundaryViolations,
      INGEST_METRICS.killSwitchViolations,
      INGEST_METRICS.rolloutPhaseViolations,
    ]);
  });
});

describe('eventHandler', () => {
  it('returns what the job returns, and lets what it throws reach the invoker', async () => {
    expect(await eventHandler(async (event: { n: number }) => event.n + 1)({ n: 1 }, context)).toBe(2);
    await expect(
      eventHandler(async () => {
        throw new Error('Unauthorized');
      })({}, context),
    ).rejects.toThrow('Unauthorized');
  });
});

describe('GET /healthz', () => {
  const up = { check: async () => {} };
  const down = {
    check: async () => {
      throw new Error('ResourceNotFoundException');
    },
  };

  it('answers 200 ok when the table and the archive answer', async () => {
    const response = await httpHandler(makeHealthzHandler({ table: up, archive: up }))(anyRequest, context);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'ok', checks: { table: 'ok', archive: 'ok' } });
  });

  it('answers 503 degraded naming what does not answer, and not why', async () => {
    const response = await httpHandler(makeHealthzHandler({ table: up, archive: down }))(anyRequest, context);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({
      status: 'degraded',
      checks: { table: 'ok', archive: 'unreachable' },
    });
  });
});
