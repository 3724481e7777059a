import { gunzipSync } from 'node:zlib';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { toEventItem } from '#lib/adapters/dynamodb-event-index.ts';
import { LOCAL_ARCHIVE_BUCKET, LOCAL_TABLE_NAME } from '#local-stack/settings.ts';
import { apiClient } from '../support/api.ts';
import { cliOn } from '../support/cli.ts';
import { localClients } from '../support/clients.ts';
import { actionEvent, unitEvent } from '../support/events.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const stores = localClients(stack);

describe('POST /v1/events', () => {
  it('accepts a batch, archives it as one object per workflow, and reads it back in time order', async () => {
    // Prepare
    const unitId = `ticket-${Date.now()}`;
    const started = unitEvent('unit.started', unitId, { occurredAt: '2026-11-20T09:00:00+01:00' });
    const action = actionEvent({ unitId, occurredAt: '2026-11-20T08:30:00Z' });
    const completed = unitEvent('unit.completed', unitId, {
      occurredAt: '2026-11-20T10:00:00Z',
      outcome: 'resolved',
    });
    const review = actionEvent({ workflowId: 'code-review', unitId: 'pr-1' });
    const before = await stores.storeCounts();

    // Act
    const response = await api.postEvents({ events: [completed, action, started, review] });
    const readBack = await api.getEvents('support-triage', { unitId });

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ accepted: 4, duplicates: 0, conflicts: 0 });
    expect(response.body.results.map((r: { status: string }) => r.status)).toEqual(Array(4).fill('accepted'));
    const after = await stores.storeCounts();
    expect(after.eventItems - before.eventItems).toBe(4);
    expect(after.archiveObjects - before.archiveObjects).toBe(2);
    expect(readBack.status).toBe(200);
    expect(readBack.body.items.map((item: { eventId: string }) => item.eventId)).toEqual([
      started.eventId, // 08:00Z, sent with a +01:00 offset
      action.eventId,
      completed.eventId,
    ]);
    expect(readBack.body.items[1]).toMatchObject({ toolCalls: action.toolCalls, usage: action.usage });
    expect(readBack.body.items[1].receivedAt).toEqual(expect.any(String));
    expect(readBack.body.nextCursor).toBeNull();
  });

  it('stores the archive as gzip NDJSON under retention class, workflow and date', async () => {
    // Prepare
    const event = actionEvent({ workflowId: 'code-review' });

    // Act
    await api.postEvents({ events: [event] });

    // Assess
    const today = new Date().toISOString().slice(0, 10);
    const prefix = `raw/retention=18m/workflow=code-review/dt=${today}/`;
    const listing = await stores.s3.send(
      new ListObjectsV2Command({ Bucket: LOCAL_ARCHIVE_BUCKET, Prefix: prefix }),
    );
    const objects = await Promise.all(
      (listing.Contents ?? []).map(async ({ Key }) => {
        const object = await stores.s3.send(new GetObjectCommand({ Bucket: LOCAL_ARCHIVE_BUCKET, Key }));
        return gunzipSync(Buffer.from(await (object.Body?.transformToByteArray() ?? new Uint8Array())))
          .toString('utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line));
      }),
    );
    const archived = objects.flat().find((line) => line.eventId === event.eventId);
    expect(archived).toMatchObject({ eventId: event.eventId, workflowId: 'code-review', usage: event.usage });
    expect(archived.actor.customerId).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });

  it('answers a re-sent batch with duplicate and stores nothing new', async () => {
    // Prepare
    const events = [actionEvent(), actionEvent()];
    await api.postEvents({ events });
    const before = await stores.storeCounts();

    // Act
    const resend = await api.postEvents({ events });

    // Assess
    expect(resend.status).toBe(202);
    expect(resend.body).toMatchObject({ accepted: 0, duplicates: 2, conflicts: 0 });
    expect(await stores.storeCounts()).toEqual(before);
  });

  it('keeps the first version of an eventId and reports a changed re-send as conflict', async () => {
    // Prepare
    const original = actionEvent();
    await api.postEvents({ events: [original] });
    const changed = { ...original, output: { text: 'a different answer' } };
    const fresh = actionEvent();

    // Act
    const response = await api.postEvents({ events: [changed, fresh, fresh] });
    const stored = await api.getEvents('support-triage', { unitId: original.unitId as string });

    // Assess
    expect(response.status).toBe(202);
    expect(response.body.results).toEqual([
      { eventId: original.eventId, status: 'conflict' },
      { eventId: fresh.eventId, status: 'accepted' },
      { eventId: fresh.eventId, status: 'duplicate' },
    ]);
    expect(stored.body.items).toHaveLength(1);
    expect(stored.body.items[0].output).toEqual(original.output);
  });

  it('rejects a batch with one bad event with a 400 naming it, and stores nothing of the batch', async () => {
    // Prepare
    const before = await stores.storeCounts();
    const good = actionEvent();
    const bad = actionEvent({ occurredAt: 'yesterday', usage: { inputTokens: -5, outputTokens: 1 } });

    // Act
    const response = await api.postEvents({ events: [good, bad] });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.issues).toEqual(
      expect.arrayContaining([
        { index: 1, path: '$.events[1].occurredAt', message: 'must be an RFC 3339 timestamp with offset' },
        { index: 1, path: '$.events[1].usage.inputTokens', message: 'must be ≥ 0' },
      ]),
    );
    expect(await stores.storeCounts()).toEqual(before);
  });

  it.each([
    ['no credentials', undefined, 401],
    ['an unknown token', 'alt_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 401],
    ['a malformed token', 'not-a-token', 401],
  ])('answers %s with %i', async (_case, token, status) => {
    const response = await apiClient(stack.api, token).postEvents({ events: [actionEvent()] });
    expect(response.status).toBe(status);
    expect(response.body.error).toBe('unauthorized');
  });

  it('answers 415 for a body that is not JSON and 413 for one over 1 MiB', async () => {
    const notJson = await api.postEvents('events=1', { 'content-type': 'application/x-www-form-urlencoded' });
    const tooLarge = await api.postEvents({
      events: [actionEvent({ output: { text: 'x'.repeat(1024 * 1024) } })],
    });
    expect(notJson.status).toBe(415);
    expect(tooLarge.status).toBe(413);
  });

  it('answers 400 for malformed JSON', async () => {
    const response = await api.postEvents('{"events": [');
    expect(response.status).toBe(400);
    expect(response.body.issues[0].path).toBe('$');
  });
});

describe('tokens scoped to workflows', () => {
  const cli = cliOn(stack.dataDir);

  it('lets a token touch only its workflows, and stops it once revoked', async () => {
    // Prepare
    const created = JSON.parse(
      cli('tokens', 'create', '--workflows', 'code-review', '--label', 'test', '--json'),
    );
    const scoped = apiClient(stack.api, created.token);

    // Act
    const allowed = await scoped.postEvents({ events: [actionEvent({ workflowId: 'code-review' })] });
    const forbidden = await scoped.postEvents({ events: [actionEvent({ workflowId: 'support-triage' })] });
    const forbiddenRead = await scoped.getEvents('support-triage');
    cli('tokens', 'revoke', created.tokenId);
    const afterRevoke = await scoped.postEvents({ events: [actionEvent({ workflowId: 'code-review' })] });

    // Assess
    expect(allowed.status).toBe(202);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.message).toContain('support-triage');
    expect(forbiddenRead.status).toBe(403);
    expect(afterRevoke.status).toBe(401);
  });

  it("keeps a person's roles and name, and lists them", () => {
    // Prepare
    const created = JSON.parse(
      cli(
        'tokens',
        'create',
        '--workflows',
        'support-triage',
        '--label',
        'reviewer-a',
        '--roles',
        'reviewer,viewer',
        '--json',
      ),
    );

    // Act
    const listed = cli('tokens', 'list', '--json')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const text = cli('tokens', 'list');
    cli('tokens', 'revoke', created.tokenId);

    // Assess
    expect(created).toMatchObject({ workflows: 'support-triage', roles: 'viewer,reviewer' });
    expect(listed.find((token) => token.tokenId === created.tokenId)).toMatchObject({
      workflows: 'support-triage',
      roles: 'viewer,reviewer',
      label: 'reviewer-a',
    });
    expect(text).toContain(`${created.tokenId}  `);
    expect(text).toMatch(/roles=viewer,reviewer {2}label=reviewer-a/);
  });
});

describe('GET /v1/workflows/{id}/events', () => {
  it('pages through events of all time shards in order with a cursor', async () => {
    // Prepare: 250 events one second apart in one unit's hour, so the expected order is known.
    const unitId = `paging-${Date.now()}`;
    const base = Date.parse('2026-10-01T00:00:00Z');
    const events = Array.from({ length: 250 }, (_, i) =>
      unitEvent('unit.started', unitId, {
        eventId: `page-${unitId}-${i}`,
        occurredAt: new Date(base + i * 1000).toISOString(),
      }),
    );
    await api.postEvents({ events: events.slice(0, 125) });
    await api.postEvents({ events: events.slice(125) });

    // Act: by workflow (all 16 shards merged) and by unit, in pages of 100.
    const readAll = async (params: Record<string, string>) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await api.getEvents('support-triage', {
          ...params,
          limit: '100',
          ...(cursor ? { cursor } : {}),
        });
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((item: { eventId: string }) => item.eventId));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor);
      return { seen, pages };
    };
    const byWorkflow = await readAll({ from: '2026-10-01T00:00:00Z', to: '2026-10-01T00:04:10Z' });
    const byUnit = await readAll({ unitId });

    // Assess
    const expected = events.map((event) => event.eventId);
    expect(byWorkflow).toEqual({ seen: expected, pages: 3 });
    expect(byUnit).toEqual({ seen: expected, pages: 3 });
  });

  it('filters by type and half-open time range', async () => {
    // Prepare
    const unitId = `filter-${Date.now()}`;
    const at = (minute: number) => `2026-09-01T00:0${minute}:00Z`;
    const events = [
      unitEvent('unit.started', unitId, { occurredAt: at(0) }),
      actionEvent({ unitId, occurredAt: at(1) }),
      actionEvent({ unitId, occurredAt: at(2) }),
      unitEvent('unit.completed', unitId, { occurredAt: at(3) }),
    ];
    await api.postEvents({ events });

    // Act
    const actions = await api.getEvents('support-triage', { unitId, type: 'action' });
    const window = await api.getEvents('support-triage', { unitId, from: at(1), to: at(3) });

    // Assess
    expect(actions.body.items.map((i: { eventId: string }) => i.eventId)).toEqual([
      events[1]?.eventId,
      events[2]?.eventId,
    ]);
    expect(window.body.items.map((i: { eventId: string }) => i.eventId)).toEqual([
      events[1]?.eventId,
      events[2]?.eventId,
    ]);
  });

  it('never returns an event whose retention has expired, even before TTL deletes it', async () => {
    // Prepare: DynamoDB deletes expired items lazily (within days), so write one past its TTL directly.
    const unitId = `expired-${Date.now()}`;
    const live = unitEvent('unit.started', unitId);
    await api.postEvents({ events: [live] });
    const expired = unitEvent('unit.completed', unitId) as never as Parameters<
      typeof toEventItem
    >[0]['event'];
    const item = toEventItem({
      event: expired,
      occurredAtMs: Date.now() - 30_000,
      receivedAt: new Date().toISOString(),
      contentHash: 'x',
      expiresAt: Math.floor(Date.now() / 1000) - 60,
      archiveKey: 'raw/none',
    });
    await stores.dynamodb.send(new PutItemCommand({ TableName: LOCAL_TABLE_NAME, Item: marshall(item) }));

    // Act
    const byUnit = await api.getEvents('support-triage', { unitId });
    const byWorkflow = await api.getEvents('support-triage', {
      from: new Date(Date.now() - 120_000).toISOString(),
    });

    // Assess
    expect(byUnit.body.items.map((i: { eventId: string }) => i.eventId)).toEqual([live.eventId]);
    expect(byWorkflow.body.items.map((i: { eventId: string }) => i.eventId)).not.toContain(expired.eventId);
  });

  it.each([
    [{ from: 'last week' }, 'query.from'],
    [{ limit: '0' }, 'query.limit'],
    [{ type: 'click' }, 'query.type'],
    [{ cursor: 'bm90LWEtY3Vyc29y' }, 'query.cursor'],
  ])('answers 400 for %o naming %s', async (params, path) => {
    const response = await api.getEvents('support-triage', params);
    expect(response.status).toBe(400);
    expect(response.body.issues.map((issue: { path: string }) => issue.path)).toContain(path);
  });

  it('answers 404 for a workflow that is not registered', async () => {
    const response = await api.getEvents('no-such-workflow');
    expect(response.status).toBe(404);
  });
});

describe('GET /healthz', () => {
  it('answers 200 without credentials when the stores answer', async () => {
    const response = await fetch(`${stack.api}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', checks: { table: 'ok', archive: 'ok' } });
  });
});
