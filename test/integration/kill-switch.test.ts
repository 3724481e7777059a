import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { AppConfigData } from '@aws-sdk/client-appconfigdata';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AppConfigDataFlagReader, AppConfigFlagWriter } from '#lib/adapters/appconfig-flags.ts';
import { locateKillSwitch } from '#lib/adapters/appconfig-locate.ts';
import { readAutonomy } from '#lib/kill-switch/autonomy.ts';
import { LOCAL_ENVIRONMENT } from '#lib/kill-switch/names.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local-stack/settings.ts';
import { apiClient } from '../support/api.ts';
import { cliOn } from '../support/cli.ts';
import { actionEvent } from '../support/events.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const cli = cliOn(stack.dataDir);

async function autonomy(workflowId: string) {
  const response = await fetch(`${stack.api}/v1/workflows/${workflowId}/autonomy`, {
    headers: { authorization: `Bearer ${stack.token}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** Milliseconds until /autonomy shows `allowed`, polling every 25 ms for at most 5 s. */
async function timeUntil(workflowId: string, allowed: boolean, since: number): Promise<number> {
  for (;;) {
    if ((await autonomy(workflowId)).body.autonomousAllowed === allowed) return Date.now() - since;
    if (Date.now() - since > 5000) throw new Error(`/autonomy did not show ${allowed} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The flip recorder runs after the deployment completes, as AppConfig's ON_DEPLOYMENT_COMPLETE actions do,
 * so what it writes (and the reason /autonomy shows for an off lane) arrives a moment after the flip.
 */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The local stack's kill switch, through the AppConfig SDK clients an operator would use. */
async function localKillSwitch() {
  const local = { endpoint: stack.appconfig, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const client = new AppConfigClient(local);
  const location = await locateKillSwitch(client, LOCAL_ENVIRONMENT);
  if (!location) throw new Error('no kill switch in the local stack');
  return { client, location, data: new AppConfigData(local) };
}

async function rollbacks(workflowId: string) {
  const page = await api.getEvents(workflowId, { unitId: 'kill-switch', type: 'rollback', limit: '1000' });
  return page.body.items as Record<string, any>[];
}

describe('the kill switch', () => {
  afterAll(() => {
    cli('kill-switch', 'on', 'support-triage', '--reason', 'test cleanup');
    cli('kill-switch', 'on', 'code-review', '--reason', 'test cleanup');
  });

  it('starts with every autonomous lane allowed', async () => {
    const state = await autonomy('code-review');
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({
      workflowId: 'code-review',
      autonomousAllowed: true,
      lane: 'autonomous',
    });
  });

  it('shows a CLI flip in /autonomy within 2 s and records it as a rollback event', async () => {
    // Act. The 2 s bound is the flip's propagation; it is timed from the CLI's return (the flag is deployed
    // by then), not from its spawn, whose TypeScript start-up alone takes over a second on a loaded machine.
    const output = cli(
      'kill-switch',
      'off',
      'support-triage',
      '--reason',
      'defect rate doubled',
      '--as',
      'alice',
    );
    const effectMs = await timeUntil('support-triage', false, Date.now());

    // Assess
    expect(output).toContain('is now OFF');
    expect(effectMs).toBeLessThan(2000);
    const state = await eventually(
      () => autonomy('support-triage'),
      (s) => s.body.reason !== null,
    );
    expect(state.body).toMatchObject({ lane: 'hitl', reason: 'defect rate doubled' });
    expect((await autonomy('code-review')).body.autonomousAllowed).toBe(true);
    expect((await rollbacks('support-triage')).at(-1)).toMatchObject({
      type: 'rollback',
      reason: 'defect rate doubled',
      initiatedBy: 'alice',
      lane: 'autonomous',
      from: 'enabled',
      to: 'disabled',
    });
  });

  it('counts an autonomous action taken while the lane was off as a violation, and keeps it', async () => {
    // Prepare: support-triage is off since the previous test.
    const disobedient = actionEvent({ lane: 'autonomous', occurredAt: new Date().toISOString() });
    const obedient = actionEvent({ lane: 'hitl', occurredAt: new Date().toISOString() });

    // Act
    const response = await api.postEvents({ events: [disobedient, obedient] });
    const violations = await api.getEvents('support-triage', {
      violations: 'kill-switch',
      from: new Date(Date.now() - 60_000).toISOString(),
    });

    // Assess
    expect(response.body.accepted).toBe(2);
    expect(violations.body.items.map((item: { eventId: string }) => item.eventId)).toEqual([
      disobedient.eventId,
    ]);
    expect(violations.body.items[0].killSwitchViolation).toBe(true);
  });

  it('records a flip made with the AppConfig API directly, not the CLI', async () => {
    // Prepare: an operator's own SDK call against the stand-in, as with `aws appconfig … --endpoint-url`.
    const { client, location } = await localKillSwitch();
    const before = (await rollbacks('code-review')).length;

    // Act
    await new AppConfigFlagWriter(client, location).setFlag('code-review', {
      enabled: false,
      reason: 'flipped in the console',
      changedBy: 'bob (console)',
    });
    await timeUntil('code-review', false, Date.now());

    // Assess
    const recorded = await eventually(
      () => rollbacks('code-review'),
      (events) => events.length > before,
    );
    expect(recorded).toHaveLength(before + 1);
    expect(recorded.at(-1)).toMatchObject({
      reason: 'flipped in the console',
      initiatedBy: 'bob (console)',
      to: 'disabled',
    });
  });

  it('fails closed when the flags cannot be read', async () => {
    // Prepare: the real reader against the stand-in, asked for a profile that does not exist.
    const { location, data } = await localKillSwitch();
    const unreadable = new AppConfigDataFlagReader(data, { ...location, profile: 'no-such-profile' }, 0);

    // Act
    const state = await readAutonomy('code-review', unreadable);

    // Assess
    expect(state).toMatchObject({ autonomousAllowed: false, lane: 'hitl', flagVersion: null });
    expect(state.reason).toMatch(/^kill-switch flag unreadable \(.+\); failing closed$/);
  });

  it('stops every lane with the master flag', async () => {
    cli('kill-switch', 'on', 'code-review', '--reason', 'console test over');
    cli('kill-switch', 'off', '--all', '--reason', 'incident 42');
    const state = await eventually(
      () => autonomy('code-review'),
      (s) => s.body.reason?.includes('incident 42'),
    );
    cli('kill-switch', 'on', '--all', '--reason', 'incident 42 resolved');
    expect(state.body).toMatchObject({
      autonomousAllowed: false,
      reason: 'all autonomous lanes stopped: incident 42',
    });
    expect((await rollbacks('code-review')).some((event) => event.metadata?.scope === 'all-workflows')).toBe(
      true,
    );
  });

  it('runs a drill that prints and records its time to effect, and leaves the lane on', async () => {
    // Act
    const output = cli('drill', 'code-review');
    const status = cli('kill-switch', 'status', '--json')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));

    // Assess
    expect(output).toMatch(/passed: off took effect in \d+ ms, on again in \d+ ms/);
    const codeReview = status.find((row) => row.workflowId === 'code-review');
    expect(codeReview.autonomousAllowed).toBe(true);
    expect(codeReview.lastDrill).toMatchObject({ workflowId: 'code-review', outcome: 'passed' });
    expect(codeReview.lastDrill.offEffectMs).toBeGreaterThan(0);
    expect(codeReview.lastDrill.offEffectMs).toBeLessThan(2000);
  });

  it('answers a flip without a reason with a usage error', () => {
    expect(() => cli('kill-switch', 'off', 'code-review')).toThrow(/--reason is required/);
  });
});

describe('the flag reader', () => {
  it('answers concurrent reads from one poll (a configuration token is good for one poll only)', async () => {
    const { location, data } = await localKillSwitch();
    const reader = new AppConfigDataFlagReader(data, location, 0);
    await reader.read();
    const states = await Promise.all(Array.from({ length: 5 }, () => readAutonomy('code-review', reader)));
    for (const state of states) expect(state.reason ?? '').not.toContain('unreadable');
  });
});
