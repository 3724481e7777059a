import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.ts';
import { actionEvent, unitEvent } from '../support/events.ts';
import { type StackProcess, startStackProcess, stopStackProcess } from '../support/local-stack-process.ts';

/**
 * A store dies mid-load: the ledger must answer 202 only for what it stored, 5xx (never a 401 or another
 * 4xx) for the rest, and after a restart and a resend of every batch hold each event exactly once.
 */

const BATCHES = 24;
const EVENTS_PER_BATCH = 20;
const KILL_AFTER = 8;

/** One unit per batch, so a read by unit shows exactly what became of the batch. */
function batches(tag: string) {
  return Array.from({ length: BATCHES }, (_, b) => {
    const unitId = `fault-${tag}-${b}`;
    const events = Array.from({ length: EVENTS_PER_BATCH }, (_, i) =>
      i === 0
        ? unitEvent('unit.started', unitId, { eventId: `${unitId}-start` })
        : actionEvent({ unitId, eventId: `${unitId}-action-${i}` }),
    );
    return { unitId, eventIds: events.map((event) => event.eventId as string), body: { events } };
  });
}

/** The pid of the stack's child whose command is `command` (`java` is DynamoDB Local, `node` the S3 server). */
function childPid(stack: StackProcess, command: 'java' | 'node'): number {
  const pids = execFileSync('pgrep', ['-P', String(stack.child.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const pid = pids.find(
    (p) => execFileSync('ps', ['-o', 'comm=', '-p', String(p)], { encoding: 'utf8' }).trim() === command,
  );
  if (!pid) throw new Error(`the stack has no ${command} child`);
  return pid;
}

async function unitEventIds(api: ReturnType<typeof apiClient>, unitId: string): Promise<string[]> {
  const read = await api.getEvents('support-triage', { unitId, limit: '1000' });
  expect(read.status).toBe(200);
  return (read.body.items as { eventId: string }[]).map((item) => item.eventId);
}

describe.each([
  ['DynamoDB Local', 'java'],
  ['the S3 server', 'node'],
] as const)('%s killed mid-load', (_store, command) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-ledger-faults-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('answers 202 only for what it stored and 5xx for the rest; after a restart and a resend, loses and duplicates nothing', async () => {
    // Prepare
    const first = await startStackProcess({ dataDir });
    const load = batches(command);
    const answers: { status: number; body: Record<string, unknown> }[] = [];

    // Act: send the batches in order, killing the store after KILL_AFTER of them
    for (const [b, batch] of load.entries()) {
      if (b === KILL_AFTER) process.kill(childPid(first, command), 'SIGKILL');
      const api = apiClient(first.endpoints.api, first.token);
      answers.push(await api.postEvents(batch.body));
    }
    await stopStackProcess(first, 'SIGTERM');
    const second = await startStackProcess({ dataDir, port: first.port });
    const api = apiClient(second.endpoints.api, second.token);
    const storedBeforeResend = await Promise.all(load.map((batch) => unitEventIds(api, batch.unitId)));
    const resent = [];
    for (const batch of load) resent.push(await api.postEvents(batch.body));
    const storedAfterResend = await Promise.all(load.map((batch) => unitEventIds(api, batch.unitId)));
    await stopStackProcess(second, 'SIGTERM');

    // Assess: before the kill every batch was stored; during the outage only 5xx, each saying a retry is safe
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.slice(0, KILL_AFTER)).toEqual(Array(KILL_AFTER).fill(202));
    const duringOutage = statuses.slice(KILL_AFTER);
    expect(duringOutage.filter((status) => status < 500)).toEqual([]);
    // 503: what clients and OTLP exporters retry (a 500 they may not).
    expect(new Set(duringOutage)).toEqual(new Set([503]));
    for (const answer of answers.slice(KILL_AFTER)) expect(String(answer.body.message)).toMatch(/retry/i);
    // a 202 means stored: every event of every acknowledged batch reads back after the restart
    for (const [b, answer] of answers.entries()) {
      if (answer.status === 202)
        expect(storedBeforeResend[b]?.sort()).toEqual([...(load[b]?.eventIds ?? [])].sort());
    }
    // after the resend: all 202, and each event exactly once
    expect(resent.map((answer) => answer.status)).toEqual(Array(BATCHES).fill(202));
    for (const [b, batch] of load.entries()) {
      expect(storedAfterResend[b]?.sort()).toEqual([...batch.eventIds].sort());
    }
  });
});
