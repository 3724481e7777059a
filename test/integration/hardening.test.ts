import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { listObjectKeys } from '#lib/adapters/s3-keys.ts';
import { MAX_JSON_DEPTH } from '#lib/json/strict-json.ts';
import type { ArchiveLineOutcome } from '#lib/ports.ts';
import { indexedVersionFromArchive } from '#lib/storage/archive-bucket.ts';
import { LOCAL_ARCHIVE_BUCKET } from '#local-stack/settings.ts';
import { apiClient, rawRequest } from '../support/api.ts';
import { localClients } from '../support/clients.ts';
import { actionEvent } from '../support/events.ts';

/**
 * Each answer the Hardening issue found wrong, asked again as a hostile client would ask it: a bad request
 * is a clear 4xx that names the place, nothing is changed quietly, and what was stored is what was sent.
 */
const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const stores = localClients(stack);
const auth = { authorization: `Bearer ${stack.token}` };
const host = new URL(stack.api).host;

/** POST /v1/events with exactly these bytes. */
const post = (body: Uint8Array | string, headers: Record<string, string> = {}) =>
  rawRequest(stack.api, {
    path: '/v1/events',
    headers: { host, 'content-type': 'application/json', ...auth, ...headers },
    body,
  });

async function unchangedStores<T>(act: () => Promise<T>): Promise<T> {
  const before = await stores.storeCounts();
  const result = await act();
  expect(await stores.storeCounts()).toEqual(before);
  return result;
}

describe('refused with a 4xx that names the place, storing nothing', () => {
  it('an action nested 2,300 arrays deep (item 1)', async () => {
    const event = actionEvent();
    const deep = `${'['.repeat(2300)}${']'.repeat(2300)}`;
    const body = JSON.stringify({ events: [event] }).replace(
      '"parameters":{"orderId":"O-1"}',
      `"parameters":${deep}`,
    );
    const answer = await unchangedStores(() => post(body));
    expect(answer.status).toBe(400);
    expect(answer.body.issues[0]).toMatchObject({
      index: 0,
      path: expect.stringMatching(/^\$\.events\[0\]\.toolCalls\[0\]\.parameters(\[0\])+$/),
      message: expect.stringContaining(`nests more than ${MAX_JSON_DEPTH}`),
    });
  });

  it.each([
    ['a __proto__ key in metadata', 'proto-metadata', '$.events[0].metadata.__proto__'],
    [
      'a __proto__ key in tool-call parameters',
      'proto-parameters',
      '$.events[0].toolCalls[0].parameters.__proto__',
    ],
    ['a number beyond a double (1e400)', 'huge-number', '$.events[0].durationMs'],
    ['the eventId twice in one event', 'duplicate-eventId', '$.events[0].eventId'],
  ])('%s (item 4)', async (_what, variant, path) => {
    const event = actionEvent();
    let body = JSON.stringify({ events: [event] });
    if (variant === 'proto-parameters')
      body = body.replace('"parameters":{', '"parameters":{"__proto__":{"x":1},');
    else if (variant === 'huge-number') body = body.replace(/"durationMs":2300/, '"durationMs":1e400');
    else if (variant === 'duplicate-eventId')
      body = body.replace('{"eventId":', '{"eventId":"evt-first","eventId":');
    else body = body.replace('"durationMs":2300', `"durationMs":2300,"metadata":${'{"__proto__":1}'}`);
    const answer = await unchangedStores(() => post(body));
    expect(answer.status).toBe(400);
    expect(answer.body.issues.map((issue: { path: string }) => issue.path)).toContain(path);
  });

  it('"events" twice in the body (item 4)', async () => {
    const body = `{"events":[${JSON.stringify(actionEvent())}],"events":[${JSON.stringify(actionEvent())}]}`;
    const answer = await unchangedStores(() => post(body));
    expect(answer).toMatchObject({ status: 400, body: { issues: [{ path: '$.events', index: null }] } });
  });

  it('bytes that are not UTF-8, naming the byte (item 4)', async () => {
    const text = Buffer.from(JSON.stringify({ events: [actionEvent({ unitId: 'T-Xé' })] }), 'utf8');
    const at = text.indexOf(Buffer.from('é', 'utf8'));
    const broken = Buffer.concat([text.subarray(0, at), Buffer.from([0xe9]), text.subarray(at + 2)]);
    const answer = await unchangedStores(() => post(broken));
    expect(answer.status).toBe(400);
    expect(answer.body.issues[0].message).toBe(`byte ${at} (0xe9) is not valid UTF-8`);
  });

  it('a charset other than UTF-8 is a 415 that says to send UTF-8, never read as UTF-8 (item 4)', async () => {
    const latin1 = Buffer.from(JSON.stringify({ events: [actionEvent({ unitId: 'T-é' })] }), 'latin1');
    const answer = await unchangedStores(() =>
      post(latin1, { 'content-type': 'application/json; charset=iso-8859-1' }),
    );
    expect(answer.status).toBe(415);
    expect(answer.body.message).toContain('UTF-8');
  });

  it('a malformed path segment is a 400, not a 502 (item 3)', async () => {
    const answer = await rawRequest(stack.api, {
      method: 'GET',
      path: '/v1/workflows/%ZZ/autonomy',
      headers: { host, ...auth },
    });
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('a reviews cursor the API did not write is a 400, as for events (item 11)', async () => {
    for (const route of ['reviews', 'events']) {
      const answer = await rawRequest(stack.api, {
        method: 'GET',
        path: `/v1/workflows/support-triage/${route}?cursor=garbage`,
        headers: { host, ...auth },
      });
      expect(answer, route).toMatchObject({ status: 400, body: { issues: [{ path: 'query.cursor' }] } });
    }
  });

  it('a plain body labelled gzip is a 400; a coding the ledger does not take is a 415 (item 11)', async () => {
    const body = JSON.stringify({ events: [actionEvent()] });
    expect((await unchangedStores(() => post(body, { 'content-encoding': 'gzip' }))).status).toBe(400);
    expect((await unchangedStores(() => post(body, { 'content-encoding': 'br' }))).status).toBe(415);
  });
});

describe('kept exactly as sent', () => {
  it('a gzip body, as agents and OTLP exporters send it (item 11)', async () => {
    const event = actionEvent();
    const answer = await post(gzipSync(JSON.stringify({ events: [event] })), { 'content-encoding': 'gzip' });
    expect(answer).toMatchObject({ status: 202, body: { accepted: 1 } });
  });

  it('years 0000–0099 as sent, in time order (item 5)', async () => {
    const unitId = `T-old-${Date.now()}`;
    const roman = actionEvent({ unitId, occurredAt: '0050-06-15T12:00:00Z' });
    const leap = actionEvent({ unitId, occurredAt: '0000-02-29T00:00:00Z' });
    expect((await api.postEvents({ events: [roman, leap] })).status).toBe(202);
    const around50 = await api.getEvents('support-triage', {
      unitId,
      from: '0050-01-01T00:00:00Z',
      to: '0051-01-01T00:00:00Z',
    });
    expect(around50.body.items.map((item: { occurredAt: string }) => item.occurredAt)).toEqual([
      '0050-06-15T12:00:00Z',
    ]);
    const all = await api.getEvents('support-triage', { unitId });
    expect(all.body.items.map((item: { eventId: string }) => item.eventId)).toEqual([
      leap.eventId,
      roman.eventId,
    ]);
  });
});

describe('per-event statuses against what the index holds (item 6)', () => {
  it.each([
    ['A', 'A', ['conflict', 'conflict']],
    ['A', 'B', ['conflict', 'duplicate']],
  ])('stored B, sent [%s, %s]: %j', async (one, two, expected) => {
    const eventId = `evt-status-${one}${two}-${Date.now()}`;
    // Every field fixed, so two versions differ only where the test says.
    const version = (text: string) =>
      actionEvent({
        eventId,
        unitId: 'T-status',
        occurredAt: '2026-11-20T10:00:00Z',
        flag: { version: 12, checkedAt: '2026-11-20T09:59:00Z' },
        approval: { approverId: 'lead-3', decision: 'approved', decidedAt: '2026-11-20T09:59:30Z' },
        output: { text },
      });
    const stored = await api.postEvents({ events: [version('B')] });
    expect(stored.body.results, JSON.stringify(stored.body)).toEqual([{ eventId, status: 'accepted' }]);
    const answer = await api.postEvents({ events: [version(one), version(two)] });
    expect(answer.body.results.map((result: { status: string }) => result.status)).toEqual(expected);
  });
});

describe('the archive says which version the index kept (item 7)', () => {
  it('ten different contents posted in parallel for the same eventIds: the archive alone names the winner', async () => {
    // Prepare: ten versions of the same three events
    const stamp = Date.now();
    const ids = [0, 1, 2].map((i) => `evt-race-${stamp}-${i}`);
    const versions = Array.from({ length: 10 }, (_, v) =>
      ids.map((eventId) =>
        actionEvent({
          eventId,
          unitId: `T-race-${stamp}`,
          occurredAt: '2026-11-20T10:00:00Z',
          output: { text: `version ${v}` },
        }),
      ),
    );

    // Act
    const answers = await Promise.all(versions.map((events) => api.postEvents({ events })));

    // Assess: exactly one accepted per event; the archive's own rule picks the same version as the index
    expect(answers.every((answer) => answer.status === 202)).toBe(true);
    const accepted = answers
      .flatMap((answer) => answer.body.results)
      .filter((r: { status: string }) => r.status === 'accepted');
    expect(accepted).toHaveLength(ids.length);
    const archived = await archiveLinesOf(ids);
    for (const eventId of ids) {
      const indexed = (await api.getEvents('support-triage', { unitId: `T-race-${stamp}` })).body.items.find(
        (item: { eventId: string }) => item.eventId === eventId,
      );
      const lines = archived.filter(({ line }) => line.eventId === eventId);
      expect(lines.length).toBeGreaterThanOrEqual(1);
      const winner = indexedVersionFromArchive(lines);
      expect(winner?.output, eventId).toEqual(indexed.output);
      // Self-describing: every line carries its content hash, and every line of another content than the
      // index's is named by an outcome record (so the rule does not just happen to pick the first line).
      expect(lines.every(({ line }) => /^[0-9a-f]{64}$/.test(line.contentHash))).toBe(true);
      const losers = lines.filter(({ line }) => line.contentHash !== winner?.contentHash);
      expect(losers.length).toBeGreaterThan(0);
      expect(losers.every(({ outcome }) => outcome?.status === 'conflict')).toBe(true);
    }
  });
});

/** Every archived line of these events, with the outcome recorded beside its object. */
async function archiveLinesOf(eventIds: readonly string[]) {
  const wanted = new Set(eventIds);
  const keys: string[] = [];
  for await (const key of listObjectKeys(stores.s3, { bucket: LOCAL_ARCHIVE_BUCKET, prefix: 'raw/' }))
    keys.push(key);
  const read = async (key: string) => {
    const object = await stores.s3.send(new GetObjectCommand({ Bucket: LOCAL_ARCHIVE_BUCKET, Key: key }));
    return Buffer.from(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
  };
  const outcomes = new Map<string, ArchiveLineOutcome[]>();
  for (const key of keys.filter((k) => /\/_outcome-[^/]+\.json$/.test(k))) {
    const outcome = JSON.parse((await read(key)).toString('utf8')) as {
      archiveKey: string;
      lines: ArchiveLineOutcome[];
    };
    outcomes.set(outcome.archiveKey, outcome.lines);
  }
  const lines: {
    line: { eventId: string; contentHash: string; output?: unknown };
    outcome: ArchiveLineOutcome | undefined;
  }[] = [];
  for (const key of keys.filter((k) => k.endsWith('.ndjson.gz'))) {
    for (const text of gunzipSync(await read(key))
      .toString('utf8')
      .split('\n')
      .filter(Boolean)) {
      const line = JSON.parse(text) as { eventId: string; contentHash: string; output?: unknown };
      if (!wanted.has(line.eventId)) continue;
      lines.push({
        line,
        outcome: outcomes
          .get(key)
          ?.find((o) => o.eventId === line.eventId && o.contentHash === line.contentHash),
      });
    }
  }
  return lines;
}

describe('the local API and console answer only their loopback host names (item 9)', () => {
  it.each(['/', '/healthz', '/v1/workflows/support-triage/events', '/reports/governance/index.json'])(
    'GET %s with Host evil.example is a 403 with no data',
    async (path) => {
      const port = new URL(stack.api).port;
      const refused = await rawRequest(stack.api, {
        method: 'GET',
        path,
        headers: { host: `evil.example:${port}`, ...auth },
      });
      expect(refused.status).toBe(403);
      expect(JSON.stringify(refused.body)).not.toContain('support-triage"');
      const served = await rawRequest(stack.api, {
        method: 'GET',
        path: '/healthz',
        headers: { host: `localhost:${port}` },
      });
      expect(served.status).toBe(200);
    },
  );
});
