import { afterEach, describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, parseRetryAfter } from '../../client/backoff.ts';
import { bodyBytes, nextBatchSize } from '../../client/batches.ts';
import { LedgerClient, type LedgerClientOptions } from '../../client/ledger-client.ts';
import type { DroppedEvent, LedgerEventInput, RetryInfo } from '../../client/types.ts';
import { MAX_BODY_BYTES } from '../../lib/events/schema.ts';
import { accepted, type FakeAnswer, fakeLedger, type SeenRequest } from '../support/fake-ledger.ts';

const TOKEN = 'test-token';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function ledger(answer: (request: SeenRequest, index: number) => FakeAnswer | Promise<FakeAnswer>) {
  const fake = await fakeLedger(answer);
  cleanups.push(fake.close);
  return fake;
}

/** A client with fast retries, its drops and retries collected. */
function clientFor(url: string, options: Partial<LedgerClientOptions> = {}) {
  const drops: DroppedEvent[] = [];
  const retries: RetryInfo[] = [];
  const client = new LedgerClient({
    endpoint: url,
    token: TOKEN,
    backoff: { baseDelayMs: 5, maxDelayMs: 40 },
    onDrop: (drop) => drops.push(drop),
    onRetry: (retry) => retries.push(retry),
    ...options,
  });
  cleanups.push(() => client.close({ timeoutMs: 200 }));
  return { client, drops, retries };
}

function started(unitId: string, extra: Record<string, unknown> = {}): LedgerEventInput {
  return { type: 'unit.started', workflowId: 'support-triage', unitId, ...extra } as LedgerEventInput;
}

describe('backoff', () => {
  it('doubles its ceiling from 200 ms up to 30 s', () => {
    // Act
    const ceilings = Array.from({ length: 10 }, (_, attempt) => backoffCeiling(attempt));

    // Assess
    expect(ceilings).toEqual([200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
    expect(backoffCeiling(5000)).toBe(30_000);
  });

  it('draws each delay uniformly under the ceiling (full jitter)', () => {
    // Act
    const lowest = backoffDelay(3, undefined, undefined, () => 0);
    const middle = backoffDelay(3, undefined, undefined, () => 0.5);
    const highest = backoffDelay(3, undefined, undefined, () => 0.999_999);

    // Assess
    expect([lowest, middle, highest]).toEqual([0, 800, 1599]);
  });

  it('waits at least as long as Retry-After asks, up to 2 minutes', () => {
    // Act & Assess
    expect(backoffDelay(0, 5000, undefined, () => 0.5)).toBe(5000);
    expect(backoffDelay(8, 1000, undefined, () => 0.5)).toBe(15_000);
    expect(backoffDelay(0, 3_600_000, undefined, () => 0)).toBe(120_000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    // Prepare
    const now = Date.parse('2026-05-01T10:00:00Z');

    // Act & Assess
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Fri, 01 May 2026 10:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('batches', () => {
  it('take at most 500 events and 1 MiB of body, and always at least one event', () => {
    // Prepare
    const small = Array.from({ length: 1200 }, () => ({ event: {}, json: '{}', bytes: 2 }));
    const large = Array.from({ length: 30 }, () => ({ event: {}, json: '', bytes: 100_000 }));

    // Act & Assess
    expect(nextBatchSize(small)).toBe(500);
    expect(nextBatchSize(large)).toBe(10);
    expect(bodyBytes(10, 1_000_000)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(bodyBytes(11, 1_100_000)).toBeGreaterThan(MAX_BODY_BYTES);
    expect(nextBatchSize([{ event: {}, json: '', bytes: 2 * MAX_BODY_BYTES }])).toBe(1);
  });
});

describe('LedgerClient: sending', () => {
  it('sends 1 200 events as requests of at most 500, with the bearer token', async () => {
    // Prepare
    const fake = await ledger(accepted);
    const { client } = clientFor(fake.url);

    // Act
    for (let i = 0; i < 1200; i += 1) client.log(started(`ticket-${i}`));
    await client.flush();

    // Assess
    expect(fake.requests.map((request) => request.events.length)).toEqual([500, 500, 200]);
    expect(fake.requests.every((request) => request.path === '/v1/events')).toBe(true);
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(new Set(fake.events().map((event) => event.unitId)).size).toBe(1200);
    expect(client.stats()).toMatchObject({ accepted: 1200, buffered: 0, dropped: 0 });
  });

  it('keeps every request body within 1 MiB', async () => {
    // Prepare
    const fake = await ledger(accepted);
    const { client } = clientFor(fake.url);
    const padding = 'x'.repeat(200_000);

    // Act
    for (let i = 0; i < 21; i += 1) client.log(started(`ticket-${i}`, { metadata: { padding } }));
    await client.flush();

    // Assess
    expect(fake.requests.map((request) => request.events.length)).toEqual([5, 5, 5, 5, 1]);
    for (const request of fake.requests)
      expect(Buffer.byteLength(request.body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
  });

  it('sends on its interval without being flushed', async () => {
    // Prepare
    const fake = await ledger(accepted);
    const { client } = clientFor(fake.url, { flushIntervalMs: 50 });

    // Act
    client.log(started('ticket-1'));
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Assess
    expect(fake.events()).toHaveLength(1);
  });

  it('fills in a UUID eventId and occurredAt when missing, and keeps given ones', async () => {
    // Prepare
    const fake = await ledger(accepted);
    const { client } = clientFor(fake.url);

    // Act
    const filled = client.log(started('ticket-1'));
    const given = client.log(started('ticket-2', { eventId: 'mine-1', occurredAt: '2026-05-01T10:00:00Z' }));
    await client.flush();

    // Assess
    expect(filled).toMatch(UUID);
    expect(given).toBe('mine-1');
    expect(fake.events()).toEqual([
      expect.objectContaining({ eventId: filled, occurredAt: expect.any(String) }),
      expect.objectContaining({ eventId: 'mine-1', occurredAt: '2026-05-01T10:00:00Z' }),
    ]);
  });

  it('counts duplicates as kept and reports conflicts', async () => {
    // Prepare
    const fake = await ledger((request) => ({
      status: 202,
      body: {
        accepted: 1,
        duplicates: 1,
        conflicts: 1,
        results: request.events.map((event, i) => ({
          eventId: event.eventId,
          status: ['accepted', 'duplicate', 'conflict'][i],
        })),
      },
    }));
    const { client, drops } = clientFor(fake.url);

    // Act
    const ids = ['a', 'b', 'c'].map((id) => client.log(started(id)));
    await client.flush();

    // Assess
    expect(client.stats()).toMatchObject({ accepted: 1, duplicates: 1, conflicts: 1, dropped: 1 });
    expect(drops).toEqual([
      expect.objectContaining({ reason: 'conflict', event: expect.objectContaining({ eventId: ids[2] }) }),
    ]);
  });
});

describe('LedgerClient: retries', () => {
  it('retries 503s, 500s, 429s and dropped connections with the same eventIds until the ledger takes them', async () => {
    // Prepare
    const failures: FakeAnswer[] = [{ status: 503 }, 'hangup', { status: 429 }, { status: 500, body: {} }];
    const fake = await ledger((request, index) => failures[index] ?? accepted(request));
    const { client, retries } = clientFor(fake.url);

    // Act
    client.log(started('ticket-1'));
    client.log(started('ticket-2'));
    await client.flush();

    // Assess
    expect(fake.requests).toHaveLength(5);
    expect(new Set(fake.requests.map((request) => request.body)).size).toBe(1);
    expect(retries.map((retry) => retry.attempt)).toEqual([0, 1, 2, 3]);
    expect(retries.every((retry) => retry.delayMs <= 40)).toBe(true);
    expect(client.stats()).toMatchObject({ accepted: 2, retries: 4, dropped: 0 });
  });

  it('honours Retry-After', async () => {
    // Prepare
    const fake = await ledger((request, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : accepted(request),
    );
    const { client, retries } = clientFor(fake.url);

    // Act
    client.log(started('ticket-1'));
    await client.flush();

    // Assess
    const [first, second] = fake.requests;
    expect(retries[0]?.delayMs).toBe(1000);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('retries a request that takes longer than its time limit', async () => {
    // Prepare
    const fake = await ledger((request, index) => (index === 0 ? 'hang' : accepted(request)));
    const { client, retries } = clientFor(fake.url, { requestTimeoutMs: 100 });

    // Act
    client.log(started('ticket-1'));
    await client.flush();

    // Assess
    expect(fake.requests).toHaveLength(2);
    expect(retries[0]?.error.name).toBe('TimeoutError');
    expect(client.stats().accepted).toBe(1);
  });

  it.each([401, 403, 404, 409, 413, 422])('never retries a %i, and reports the events', async (status) => {
    // Prepare
    const fake = await ledger(() => ({ status, body: { error: 'no', message: 'not for you' } }));
    const { client, drops, retries } = clientFor(fake.url);

    // Act
    client.log(started('ticket-1'));
    await client.flush();

    // Assess
    expect(fake.requests).toHaveLength(1);
    expect(retries).toEqual([]);
    expect(drops).toEqual([
      expect.objectContaining({
        reason: 'rejected',
        status,
        message: `the ledger answered ${status}: not for you`,
      }),
    ]);
  });

  it('rides out an outage without losing what it holds, and holds no more than its cap', async () => {
    // Prepare: the ledger is down (503, then refused connections) for its first 40 requests.
    const fake = await ledger((request, index) =>
      index < 40 ? (index % 2 ? 'hangup' : { status: 503 }) : accepted(request),
    );
    const { client, drops } = clientFor(fake.url, { maxBufferedEvents: 100, maxBufferedBytes: 1_000_000 });

    // Act
    for (let i = 0; i < 150; i += 1) client.log(started(`ticket-${i}`));
    const held = client.stats();
    await client.flush();

    // Assess
    expect(held).toMatchObject({
      buffered: 100,
      dropped: 50,
      droppedBy: expect.objectContaining({ buffer_full: 50 }),
    });
    expect(drops.every((drop) => drop.reason === 'buffer_full')).toBe(true);
    expect(drops.map((drop) => drop.event.unitId)).toEqual(
      Array.from({ length: 50 }, (_, i) => `ticket-${100 + i}`),
    );
    expect(fake.requests.length).toBeGreaterThan(40);
    expect(
      new Set(
        fake
          .events()
          .slice(-100)
          .map((event) => event.unitId),
      ).size,
    ).toBe(100);
    expect(client.stats()).toMatchObject({ accepted: 100, buffered: 0, dropped: 50, retries: 40 });
  });

  it('caps what it holds by bytes as well', async () => {
    // Prepare
    const fake = await ledger(() => ({ status: 503 }));
    const { client } = clientFor(fake.url, { maxBufferedBytes: 50_000 });
    const padding = 'x'.repeat(10_000);

    // Act
    for (let i = 0; i < 10; i += 1) client.log(started(`ticket-${i}`, { metadata: { padding } }));

    // Assess
    expect(client.stats()).toMatchObject({
      buffered: 4,
      droppedBy: expect.objectContaining({ buffer_full: 6 }),
    });
    expect(client.stats().bufferedBytes).toBeLessThanOrEqual(50_000);
  });
});

describe('LedgerClient: bad events', () => {
  it('checks events against the schema before sending, and reports the bad ones with their issues', async () => {
    // Prepare
    const fake = await ledger(accepted);
    const { client, drops } = clientFor(fake.url);

    // Act
    client.log(started('ticket-1'));
    client.log({
      type: 'action',
      workflowId: 'support-triage',
      unitId: 'ticket-1',
      usage: { inputTokens: -1, outputTokens: 2 },
    });
    client.log({ type: 'unit.started', workflowId: 'Not A Workflow', unitId: 'ticket-2' });
    await client.flush();

    // Assess
    expect(fake.events().map((event) => event.unitId)).toEqual(['ticket-1']);
    expect(drops.map((drop) => [drop.reason, drop.issues?.map((issue) => issue.path)])).toEqual([
      ['invalid', ['$.usage.inputTokens']],
      ['invalid', ['$.workflowId']],
    ]);
    expect(drops[0]?.issues?.[0]?.message).toBe('must be ≥ 0');
  });

  it('on a 400, drops exactly the events its issues name and resends the rest', async () => {
    // Prepare: the ledger refuses events of an unregistered workflow (which the client cannot know).
    const fake = await ledger((request) => {
      const bad = request.events.flatMap((event, index) =>
        event.workflowId === 'unknown-flow' ? [index] : [],
      );
      if (bad.length === 0) return accepted(request);
      return {
        status: 400,
        body: {
          error: 'invalid_request',
          message: 'the request breaks the ingest contract',
          issues: bad.map((index) => ({
            index,
            path: `$.events[${index}].workflowId`,
            message: "workflow 'unknown-flow' is not registered",
          })),
        },
      };
    });
    const { client, drops, retries } = clientFor(fake.url);

    // Act
    for (let i = 0; i < 6; i += 1) {
      client.log({
        type: 'unit.started',
        workflowId: i % 3 === 1 ? 'unknown-flow' : 'support-triage',
        unitId: `t-${i}`,
      });
    }
    await client.flush();

    // Assess
    expect(fake.requests.map((request) => request.events.length)).toEqual([6, 4]);
    expect(fake.requests[1]?.events.map((event) => event.unitId)).toEqual(['t-0', 't-2', 't-3', 't-5']);
    expect(drops.map((drop) => [drop.event.unitId, drop.reason, drop.status, drop.issues])).toEqual([
      [
        't-1',
        'invalid',
        400,
        [{ path: '$.workflowId', message: "workflow 'unknown-flow' is not registered" }],
      ],
      [
        't-4',
        'invalid',
        400,
        [{ path: '$.workflowId', message: "workflow 'unknown-flow' is not registered" }],
      ],
    ]);
    expect(retries).toEqual([]);
    expect(client.stats()).toMatchObject({ accepted: 4, dropped: 2 });
  });

  it('on a 400 that names no event, halves the batch until the bad event is alone', async () => {
    // Prepare
    const fake = await ledger((request) =>
      request.events.some((event) => event.unitId === 'poison')
        ? {
            status: 400,
            body: {
              error: 'invalid_request',
              message: 'no',
              issues: [{ index: null, path: '$', message: 'no' }],
            },
          }
        : accepted(request),
    );
    const { client, drops } = clientFor(fake.url);

    // Act
    for (let i = 0; i < 8; i += 1) client.log(started(i === 5 ? 'poison' : `t-${i}`));
    await client.flush();

    // Assess
    expect(drops.map((drop) => drop.event.unitId)).toEqual(['poison']);
    expect(client.stats()).toMatchObject({ accepted: 7, dropped: 1 });
    // Depth first: all 8, [0–3] kept, [4–7], [4, 5], [4] kept, [5] dropped, [6, 7] kept.
    expect(fake.requests.map((request) => request.events.length)).toEqual([8, 4, 4, 2, 1, 1, 2]);
  });

  it('on a 403 for a mix of workflows, keeps the workflows the caller may log to', async () => {
    // Prepare
    const fake = await ledger((request) =>
      request.events.some((event) => event.workflowId === 'code-review')
        ? { status: 403, body: { message: 'not allowed' } }
        : accepted(request),
    );
    const { client, drops } = clientFor(fake.url);

    // Act
    client.log(started('t-1'));
    client.log({ type: 'unit.started', workflowId: 'code-review', unitId: 'pr-1' });
    client.log(started('t-2'));
    await client.flush();

    // Assess
    expect(drops.map((drop) => [drop.event.unitId, drop.reason, drop.status])).toEqual([
      ['pr-1', 'rejected', 403],
    ]);
    expect(client.stats().accepted).toBe(2);
  });
});

describe('LedgerClient: units', () => {
  it('logs a unit started, its actions, and completed or escalated', async () => {
    // Prepare
    const fake = await ledger(accepted);
    const { client } = clientFor(fake.url);

    // Act
    const unit = client.unit('support-triage', 'ticket-9');
    unit.start(); // once per handle
    unit.action({ lane: 'hitl', agent: { id: 'triage-bot' }, usage: { inputTokens: 10, outputTokens: 2 } });
    unit.completed('resolved');
    const later = client.unit('support-triage', 'ticket-10', { start: false });
    later.start();
    later.escalated('customer asked for a person');
    await client.flush();

    // Assess
    expect(fake.events().map((event) => [event.type, event.unitId, event.outcome ?? event.reason])).toEqual([
      ['unit.started', 'ticket-9', undefined],
      ['action', 'ticket-9', undefined],
      ['unit.completed', 'ticket-9', 'resolved'],
      ['unit.started', 'ticket-10', undefined],
      ['unit.escalated', 'ticket-10', 'customer asked for a person'],
    ]);
    expect(fake.events()[1]).toMatchObject({
      workflowId: 'support-triage',
      lane: 'hitl',
      usage: { inputTokens: 10 },
    });
  });
});

describe('LedgerClient: autonomy', () => {
  const open = {
    workflowId: 'support-triage',
    autonomousAllowed: true,
    lane: 'autonomous',
    flagVersion: '3',
    reason: null,
    changedAt: null,
  };

  it('reads the lane and reuses the answer for its cache time', async () => {
    // Prepare
    const fake = await ledger(() => ({ status: 200, body: open }));
    const { client } = clientFor(fake.url, { autonomyCacheMs: 200 });

    // Act
    const first = await client.autonomy('support-triage');
    const [second, third] = await Promise.all([
      client.autonomy('support-triage'),
      client.autonomy('support-triage'),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await client.autonomy('support-triage');

    // Assess
    expect(first).toEqual(open);
    expect([second, third]).toEqual([open, open]);
    expect(fake.requests.map((request) => [request.method, request.path])).toEqual([
      ['GET', '/v1/workflows/support-triage/autonomy'],
      ['GET', '/v1/workflows/support-triage/autonomy'],
    ]);
  });

  it('caches for 1 s by default, within the 2 s a flip may take to show', async () => {
    // Prepare
    const fake = await ledger(() => ({ status: 200, body: open }));
    const { client } = clientFor(fake.url);

    // Act
    await client.autonomy('support-triage');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.autonomy('support-triage');
    await new Promise((resolve) => setTimeout(resolve, 900));
    await client.autonomy('support-triage');

    // Assess
    expect(fake.requests).toHaveLength(2);
  });

  it.each<[string, FakeAnswer]>([
    ['a 500', { status: 500, body: { error: 'internal' } }],
    ['a 403', { status: 403, body: { message: 'not allowed' } }],
    ['a body without autonomousAllowed', { status: 200, body: { lane: 'autonomous' } }],
    ['a body that is not JSON', { status: 200 }],
    ['a dropped connection', 'hangup'],
    ['no answer in time', 'hang'],
  ])('fails closed on %s', async (_, answer) => {
    // Prepare
    const fake = await ledger(() => answer);
    const { client } = clientFor(fake.url, { autonomyTimeoutMs: 200 });

    // Act
    const state = await client.autonomy('support-triage');

    // Assess
    expect(state).toMatchObject({ workflowId: 'support-triage', autonomousAllowed: false, lane: 'hitl' });
    expect(state.reason).toMatch(/^fail closed: /);
  });

  it('fails closed when nothing listens at the endpoint', async () => {
    // Prepare
    const fake = await ledger(() => ({ status: 200, body: open }));
    await fake.close();
    const { client } = clientFor(fake.url);

    // Act
    const state = await client.autonomy('support-triage');

    // Assess
    expect(state.autonomousAllowed).toBe(false);
    expect(state.reason).toMatch(/could not be reached/);
  });
});

describe('LedgerClient: close', () => {
  it('flushes what it holds', async () => {
    // Prepare
    const fake = await ledger(accepted);
    const { client, drops } = clientFor(fake.url, { flushIntervalMs: 60_000 });
    client.log(started('ticket-1'));

    // Act
    const stats = await client.close();
    client.log(started('ticket-2'));

    // Assess
    expect(fake.events()).toHaveLength(1);
    expect(stats).toMatchObject({ accepted: 1, buffered: 0, dropped: 0 });
    expect(drops.map((drop) => drop.reason)).toEqual(['closed']);
  });

  it('gives up on a ledger that is down after its time limit, and reports what it drops', async () => {
    // Prepare
    const fake = await ledger(() => ({ status: 503 }));
    const { client } = clientFor(fake.url);
    for (let i = 0; i < 3; i += 1) client.log(started(`ticket-${i}`));

    // Act
    const startedAt = Date.now();
    const stats = await client.close({ timeoutMs: 300 });

    // Assess
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(stats).toMatchObject({
      buffered: 0,
      dropped: 3,
      droppedBy: expect.objectContaining({ closed: 3 }),
    });
  });
});

describe('LedgerClient: configuration', () => {
  it('gives the OTLP exporters the ledger traces URL and the bearer token', () => {
    // Prepare
    const client = new LedgerClient({ endpoint: 'https://ledger.example/prod/', token: 'abc' });
    cleanups.push(() => client.close());

    // Act & Assess
    expect(client.otlpExporterOptions()).toEqual({
      url: 'https://ledger.example/prod/v1/traces',
      headers: { Authorization: 'Bearer abc' },
    });
  });

  it('wants exactly one of token and sigv4', () => {
    // Act & Assess
    expect(() => new LedgerClient({ endpoint: 'http://x' })).toThrow(/either token/);
    expect(
      () => new LedgerClient({ endpoint: 'http://x', token: 't', sigv4: { region: 'eu-west-1' } }),
    ).toThrow(/either token/);
  });

  it('signs with SigV4 for execute-api on /iam/v1/…', async () => {
    // Prepare
    const fake = await ledger((request) =>
      request.method === 'POST' ? accepted(request) : { status: 200, body: {} },
    );
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session-1' };
    const { client } = clientFor(fake.url, { token: undefined, sigv4: { region: 'eu-west-1', credentials } });

    // Act
    client.log(started('ticket-1'));
    await client.flush();
    await client.autonomy('support-triage');

    // Assess
    expect(fake.requests.map((request) => request.path)).toEqual([
      '/iam/v1/events',
      '/iam/v1/workflows/support-triage/autonomy',
    ]);
    for (const request of fake.requests) {
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
      );
      expect(request.headers['x-amz-security-token']).toBe('session-1');
      expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    }
    expect(
      fake.requests[0]?.headers['x-amz-content-sha256'] ?? 'unsigned-payload-header-absent',
    ).toBeTruthy();
  });
});
