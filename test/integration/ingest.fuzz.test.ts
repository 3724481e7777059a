import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { apiClient, rawRequest } from '../support/api.ts';
import { localClients } from '../support/clients.ts';
import { actionEvent, unitEvent } from '../support/events.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const stores = localClients(stack);

const fieldNames = [
  'eventId',
  'type',
  'workflowId',
  'unitId',
  'occurredAt',
  'actor',
  'usage',
  'toolCalls',
  'lane',
  'flag',
  'output',
  'approval',
  'reviewerId',
  'verdict',
  'reviewMinutes',
  'metadata',
  'reason',
  'initiatedBy',
  'extra',
];

/** A valid event of any type, then zero or more mutations: a field removed, replaced by any JSON, or added. */
const eventArbitrary = fc
  .tuple(
    fc.constantFrom(
      () => actionEvent(),
      () => unitEvent('unit.started', 'u-1'),
      () => unitEvent('unit.completed', 'u-1', { outcome: 'resolved' }),
      () => unitEvent('unit.escalated', 'u-1', { reason: 'policy' }),
      () =>
        unitEvent('review.verdict', 'u-1', {
          reviewerId: 'r-1',
          verdict: 'defect',
          reviewMinutes: 4,
          escaped: true,
        }),
      () => unitEvent('rollback', 'u-1', { reason: 'drift', initiatedBy: 'ops', from: 'on', to: 'off' }),
    ),
    fc.array(fc.tuple(fc.constantFrom('delete', 'set'), fc.constantFrom(...fieldNames), fc.jsonValue()), {
      maxLength: 3,
    }),
  )
  .map(([make, mutations]) => {
    const event: Record<string, unknown> = make();
    for (const [op, field, value] of mutations) {
      if (op === 'delete') delete event[field];
      else event[field] = value;
    }
    return event;
  });

/** What is sent: JSON of any shape, or raw text that may not be JSON at all. */
const bodyArbitrary: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ events: fc.array(eventArbitrary, { minLength: 1, maxLength: 5 }) }),
  fc.record({ events: fc.array(fc.jsonValue(), { maxLength: 3 }) }),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string(),
);

describe('POST /v1/events, any body', () => {
  it('answers 202 or a 4xx, never a 5xx, and a rejected request stores nothing', async () => {
    let accepted = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(bodyArbitrary, async (body) => {
        const before = await stores.storeCounts();
        const response = await api.postEvents(body);
        const after = await stores.storeCounts();
        expect([202, 400, 403, 413]).toContain(response.status);
        if (response.status === 202) {
          accepted++;
          expect(after.eventItems - before.eventItems).toBe(response.body.accepted);
        } else {
          rejected++;
          expect(after).toEqual(before);
        }
      }),
      { numRuns: 120 },
    );
    // Both paths were exercised, or the property said little.
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------
// What a hostile client sends below the JSON: nesting, prototype keys, duplicate keys, numbers that do
// not fit, lone surrogates, bytes that are not UTF-8, charsets and content codings.

interface RawCase {
  readonly bytes: Buffer;
  readonly headers: Record<string, string>;
  /** The events as sent, when the body is one the ledger must accept and keep exactly. */
  readonly keeps?: Record<string, unknown>[];
  /** Why it must be refused, when it must. */
  readonly refusal?: string;
}

/** A JSON text mutation that makes the body something the ledger must refuse (or, for depth ≤ 64, keep). */
const textMutation = fc.oneof(
  fc.integer({ min: 1, max: 200 }).map((depth) => ({ kind: 'nest' as const, depth })),
  fc.constantFrom('metadata', 'parameters').map((where) => ({ kind: 'proto' as const, where })),
  fc.constantFrom('eventId', 'events').map((key) => ({ kind: 'duplicate-key' as const, key })),
  fc
    .constantFrom('1e400', '-1e400', '12345678901234567890', '1e-400')
    .map((literal) => ({ kind: 'number' as const, literal })),
  fc.constant({ kind: 'lone-surrogate' as const }),
  fc.constant({ kind: 'none' as const }),
);
const byteMutation = fc.oneof(
  fc.integer({ min: 0x80, max: 0xff }).map((byte) => ({ kind: 'invalid-byte' as const, byte })),
  fc.constant({ kind: 'none' as const }),
);
const charset = fc.constantFrom(
  undefined,
  'utf-8',
  'UTF-8',
  'utf8',
  'us-ascii',
  'iso-8859-1',
  'utf-16',
  'klingon',
);
const coding = fc.constantFrom(undefined, 'identity', 'gzip', 'fake-gzip', 'deflate', 'gzip, gzip', 'br');

const rawCaseArbitrary: fc.Arbitrary<RawCase> = fc
  .tuple(textMutation, byteMutation, charset, coding)
  .map(([text, byte, declaredCharset, declaredCoding]) => {
    // Plain ASCII content, so a latin-1 or ASCII declaration is about the header, not the bytes.
    const event = actionEvent({ metadata: { note: 'plain ascii' } });
    let json = JSON.stringify({ events: [event] });
    const refusals: string[] = [];
    switch (text.kind) {
      case 'nest': {
        // The body, an event, a tool call and its parameters are 5 levels: the rest nest inside.
        const nested = `${'['.repeat(text.depth)}1${']'.repeat(text.depth)}`;
        json = json.replace('"parameters":{"orderId":"O-1"}', `"parameters":{"orderId":${nested}}`);
        (event.toolCalls as { parameters: unknown }[]).splice(0, 1, {
          ...(event.toolCalls as Record<string, unknown>[])[0],
          parameters: { orderId: JSON.parse(nested) },
        });
        if (text.depth + 4 > 64) refusals.push('nesting');
        break;
      }
      case 'proto':
        json =
          text.where === 'metadata'
            ? json.replace('"metadata":{', '"metadata":{"__proto__":{"admin":true},')
            : json.replace('"parameters":{', '"parameters":{"__proto__":{"admin":true},');
        refusals.push('__proto__');
        break;
      case 'duplicate-key':
        json =
          text.key === 'eventId'
            ? json.replace('{"eventId":', '{"eventId":"evt-shadow","eventId":')
            : json.replace('{"events":', '{"events":[],"events":');
        refusals.push('duplicate key');
        break;
      case 'number':
        json = json.replace('"durationMs":2300', `"durationMs":${text.literal}`);
        refusals.push('number');
        break;
      case 'lone-surrogate':
        json = json.replace('"note":"plain ascii"', '"note":"plain \\ud800 ascii"');
        refusals.push('lone surrogate');
        break;
    }
    let bytes = Buffer.from(json, 'utf8');
    if (byte.kind === 'invalid-byte') {
      const at = bytes.indexOf(Buffer.from('plain'));
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([byte.byte]), bytes.subarray(at)]);
      refusals.push('invalid byte');
    }
    if (
      declaredCharset !== undefined &&
      !['utf-8', 'utf8', 'us-ascii'].includes(declaredCharset.toLowerCase())
    ) {
      refusals.push('charset');
    }
    const headers: Record<string, string> = {
      'content-type': `application/json${declaredCharset ? `; charset=${declaredCharset}` : ''}`,
    };
    switch (declaredCoding) {
      case 'gzip':
        bytes = gzipSync(bytes);
        headers['content-encoding'] = 'gzip';
        break;
      case 'gzip, gzip':
        bytes = gzipSync(gzipSync(bytes));
        headers['content-encoding'] = 'gzip, gzip';
        break;
      case 'deflate':
        bytes = deflateSync(bytes);
        headers['content-encoding'] = 'deflate';
        break;
      case 'fake-gzip':
        headers['content-encoding'] = 'gzip';
        refusals.push('not gzip');
        break;
      case 'identity':
      case 'br':
        headers['content-encoding'] = declaredCoding;
        if (declaredCoding === 'br') refusals.push('coding');
        break;
    }
    return refusals.length > 0
      ? { bytes, headers, refusal: refusals.join(', ') }
      : { bytes, headers, keeps: [event] };
  });

describe('POST /v1/events, any bytes, charset and coding', () => {
  it('refuses with a 4xx what it cannot keep as sent, storing nothing, and keeps everything else exactly', async () => {
    const host = new URL(stack.api).host;
    const seen = { kept: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(rawCaseArbitrary, async (raw) => {
        const before = await stores.storeCounts();
        const answer = await rawRequest(stack.api, {
          path: '/v1/events',
          headers: { host, authorization: `Bearer ${stack.token}`, ...raw.headers },
          body: raw.bytes,
        });
        if (raw.refusal !== undefined) {
          seen.refused++;
          expect([400, 413, 415], `${raw.refusal}: ${JSON.stringify(answer.body)}`).toContain(answer.status);
          expect(await stores.storeCounts()).toEqual(before);
          return;
        }
        seen.kept++;
        expect(answer.status, JSON.stringify(answer.body)).toBe(202);
        for (const sent of raw.keeps ?? []) {
          const read = await api.getEvents('support-triage', { unitId: sent.unitId as string });
          // Exactly as sent, but for the people it names: those are kept as digests (README, "Privacy").
          const { receivedAt: _, actor, approval, ...stored } = read.body.items[0];
          const { actor: sentActor, approval: sentApproval, ...rest } = sent as Record<string, any>;
          expect(stored).toEqual(rest);
          expect(Object.keys(actor ?? {})).toEqual(Object.keys(sentActor));
          expect(approval).toEqual({ ...sentApproval, approverId: expect.stringMatching(/^hmac-sha256:/) });
        }
      }),
      { numRuns: 100 },
    );
    expect(seen.kept).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
});
