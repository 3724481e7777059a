import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type DroppedEvent, LedgerClient } from '../../client/index.ts';
import { apiClient } from '../support/api.ts';
import { cliOn } from '../support/cli.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const cli = cliOn(stack.dataDir);

function newClient() {
  const drops: DroppedEvent[] = [];
  const client = new LedgerClient({
    endpoint: stack.api,
    token: stack.token,
    onDrop: (drop) => drops.push(drop),
  });
  return { client, drops };
}

async function unitEvents(unitId: string) {
  const page = await api.getEvents('support-triage', { unitId });
  expect(page.status).toBe(200);
  return page.body.items as Record<string, any>[];
}

describe('agent-ledger/client from plain JavaScript', () => {
  beforeAll(() => {
    // The built package, as `npm ci` (prepare) leaves it, from the sources under test. First in the file: the
    // build idles this process's HTTP connections past the local server's keep-alive, and a reused one fails.
    execFileSync(process.execPath, ['client/build.mjs'], { stdio: 'pipe' });
  });

  it('imports the built dist/client/index.js through the package exports and logs a unit', async () => {
    // Prepare
    const unitId = `ticket-plain-js-${randomUUID()}`;

    // Act
    const output = execFileSync(process.execPath, ['test/integration/client-plain.mjs'], {
      env: { ...process.env, LEDGER_API: stack.api, LEDGER_TOKEN: stack.token, UNIT_ID: unitId },
      encoding: 'utf8',
    });

    // Assess
    const result = JSON.parse(output);
    expect(result.stats).toMatchObject({ accepted: 3, dropped: 0 });
    expect(result.autonomy).toMatchObject({
      workflowId: 'support-triage',
      autonomousAllowed: expect.any(Boolean),
    });
    // Logged within a millisecond or so, so in any order.
    expect((await unitEvents(unitId)).map((item) => item.type).sort()).toEqual([
      'action',
      'unit.completed',
      'unit.started',
    ]);
  });
});

describe('agent-ledger/client on the local stack', () => {
  afterAll(() => {
    cli('kill-switch', 'on', 'code-review', '--reason', 'client test cleanup');
  });

  it('logs a unit with its actions, read back in order through the read API', async () => {
    // Prepare
    const { client, drops } = newClient();
    const unitId = `ticket-client-${randomUUID()}`;
    const at = (second: number) => new Date(Date.now() - 60_000 + second * 1000).toISOString();

    // Act
    const unit = client.unit('support-triage', unitId, { occurredAt: at(0) });
    unit.action({
      occurredAt: at(1),
      lane: 'hitl',
      agent: { id: 'triage-bot', version: '2.0.0' },
      model: { provider: 'anthropic', name: 'claude-sonnet', version: '2026-05' },
      usage: { inputTokens: 100, outputTokens: 20 },
      toolCalls: [
        { name: 'lookup_order', endpoint: 'orders.get', parameters: { orderId: 'O-1' }, outcome: 'success' },
      ],
    });
    unit.action({ occurredAt: at(2), lane: 'hitl', output: { text: 'Refund approved' } });
    unit.completed('resolved', { occurredAt: at(3) });
    const stats = await client.close();

    // Assess
    expect(drops).toEqual([]);
    expect(stats).toMatchObject({ accepted: 4, duplicates: 0, dropped: 0, buffered: 0 });
    const items = await unitEvents(unitId);
    expect(items.map((item) => item.type)).toEqual(['unit.started', 'action', 'action', 'unit.completed']);
    expect(items[1]).toMatchObject({
      agent: { id: 'triage-bot' },
      usage: { inputTokens: 100, outputTokens: 20 },
    });
    expect(items[3]).toMatchObject({ outcome: 'resolved' });
  });

  it('sends the same events twice and the ledger keeps them once', async () => {
    // Prepare
    const unitId = `ticket-client-${randomUUID()}`;
    const events = [
      { type: 'unit.started', workflowId: 'support-triage', unitId, eventId: `${unitId}.s` },
      {
        type: 'unit.escalated',
        workflowId: 'support-triage',
        unitId,
        eventId: `${unitId}.e`,
        reason: 'angry',
      },
    ] as const;
    const occurredAt = new Date(Date.now() - 1000).toISOString();
    const first = newClient().client;
    const second = newClient().client;

    // Act
    for (const event of events) first.log({ ...event, occurredAt });
    const firstStats = await first.close();
    for (const event of events) second.log({ ...event, occurredAt });
    const secondStats = await second.close();

    // Assess
    expect(firstStats).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(secondStats).toMatchObject({ accepted: 0, duplicates: 2, conflicts: 0, dropped: 0 });
    // Both occurred at the same instant, so their order is not the point: that each is there once is.
    expect((await unitEvents(unitId)).map((item) => item.eventId).sort()).toEqual([
      `${unitId}.e`,
      `${unitId}.s`,
    ]);
  });

  it('keeps the good events of a batch the ledger refuses part of, and reports the bad one', async () => {
    // Prepare: the client cannot know the registry, so the ledger's 400 names the event.
    const { client, drops } = newClient();
    const unitId = `ticket-client-${randomUUID()}`;

    // Act
    client.log({ type: 'unit.started', workflowId: 'support-triage', unitId });
    client.log({ type: 'unit.started', workflowId: 'not-registered', unitId });
    client.log({ type: 'unit.completed', workflowId: 'support-triage', unitId });
    const stats = await client.close();

    // Assess
    expect(stats).toMatchObject({ accepted: 2, dropped: 1 });
    expect(drops).toEqual([
      expect.objectContaining({
        reason: 'invalid',
        status: 400,
        event: expect.objectContaining({ workflowId: 'not-registered' }),
        issues: [expect.objectContaining({ path: '$.workflowId' })],
      }),
    ]);
    // Logged in the same millisecond, so in either order.
    expect((await unitEvents(unitId)).map((item) => item.type).sort()).toEqual([
      'unit.completed',
      'unit.started',
    ]);
  });

  it('reads autonomy: allowed, then not allowed once the kill switch is off', async () => {
    // Prepare
    const { client } = newClient();
    const before = await client.autonomy('code-review');

    // Act
    cli('kill-switch', 'off', 'code-review', '--reason', 'client test');
    const flippedAt = Date.now();
    let after = await client.autonomy('code-review');
    while (after.autonomousAllowed && Date.now() - flippedAt < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await client.autonomy('code-review');
    }
    const elapsed = Date.now() - flippedAt;
    await client.close();

    // Assess: the local flip shows within 2 s, and the client's 1 s cache keeps it within that.
    expect(before).toMatchObject({ workflowId: 'code-review', autonomousAllowed: true, lane: 'autonomous' });
    expect(after).toMatchObject({ workflowId: 'code-review', autonomousAllowed: false, lane: 'hitl' });
    expect(elapsed).toBeLessThan(2000);
  });

  it('fails closed when the ledger cannot be reached', async () => {
    // Prepare
    const client = new LedgerClient({ endpoint: 'http://127.0.0.1:9', token: stack.token });

    // Act
    const state = await client.autonomy('support-triage');
    await client.close();

    // Assess
    expect(state).toMatchObject({ autonomousAllowed: false, lane: 'hitl' });
  });
});
