import { describe, expect, it } from 'vitest';
import type { AutonomyState } from '#lib/kill-switch/autonomy.ts';
import { type DrillDependencies, DrillRefusedError, runDrill } from '#lib/kill-switch/run-drill.ts';
import { InMemoryDrillStore } from '../support/in-memory-stores.ts';

const WORKFLOW = 'support-triage';
const STARTED = new Date('2026-12-01T14:15:00.123Z');

/**
 * A workflow's lane on a fake clock: a flip shows in `autonomy()` `lagMs` after it is issued (never, for
 * Infinity), and sleeping moves the clock on. `failFlip` makes the n-th flip (from 1) throw.
 */
class FakeLane {
  time = 0;
  enabled = true;
  private shown = true;
  private showsAt = 0;
  readonly flips: { enabled: boolean; reason: string; ok: boolean }[] = [];
  readonly drills = new InMemoryDrillStore();
  lagMs: { off: number; on: number } = { off: 120, on: 120 };
  failFlip: (attempt: number, enabled: boolean) => Error | undefined = () => undefined;

  deps(): DrillDependencies {
    return {
      flip: async (enabled, reason) => {
        const failure = this.failFlip(this.flips.length + 1, enabled);
        this.flips.push({ enabled, reason, ok: failure === undefined });
        if (failure) throw failure;
        this.shown = this.#allowed();
        this.enabled = enabled;
        this.showsAt = this.time + (enabled ? this.lagMs.on : this.lagMs.off);
      },
      autonomy: async () => this.#state(this.#allowed()),
      drills: this.drills,
      clock: () => this.time,
      sleep: async (ms) => {
        this.time += ms;
      },
      now: () => STARTED,
    };
  }

  #allowed(): boolean {
    return this.time >= this.showsAt ? this.enabled : this.shown;
  }

  #state(allowed: boolean): AutonomyState {
    return {
      workflowId: WORKFLOW,
      autonomousAllowed: allowed,
      lane: allowed ? 'autonomous' : 'hitl',
      flagVersion: '1',
      reason: allowed ? null : 'support-triage paused: incident 7',
      changedAt: null,
    };
  }
}

const request = { by: 'oncall-b', target: 'the local stack', timeoutMs: 1000 };

describe('runDrill', () => {
  it('flips off and on, measures both, and records a passed drill', async () => {
    // Prepare
    const lane = new FakeLane();
    const progress: string[] = [];

    // Act
    const record = await runDrill(WORKFLOW, request, lane.deps(), (line) => void progress.push(line));

    // Assess: polled every 50 ms, the 120 ms lag shows at the fourth read.
    expect(record).toEqual({
      drillId: expect.stringMatching(/^drill-20261201T141500-[0-9a-f]{4}$/),
      workflowId: WORKFLOW,
      startedAt: STARTED.toISOString(),
      by: 'oncall-b',
      target: 'the local stack',
      offEffectMs: 150,
      onEffectMs: 150,
      outcome: 'passed',
    });
    expect(lane.flips).toEqual([
      { enabled: false, reason: `kill-switch drill ${record.drillId}`, ok: true },
      { enabled: true, reason: `kill-switch drill ${record.drillId}`, ok: true },
    ]);
    expect(lane.enabled).toBe(true);
    expect(await lane.drills.listDrills(WORKFLOW, 1)).toEqual([record]);
    expect(progress).toEqual([
      `Drill ${record.drillId}: turning the autonomous lane of ${WORKFLOW} off…`,
      '  /autonomy shows it off after 150 ms; turning it back on…',
    ]);
  });

  it('polls as often as asked', async () => {
    const lane = new FakeLane();
    const record = await runDrill(WORKFLOW, { ...request, pollMs: 10 }, lane.deps());
    expect(record).toMatchObject({ offEffectMs: 120, onEffectMs: 120, outcome: 'passed' });
  });

  it('refuses a lane that is already off, without flipping or recording', async () => {
    // Prepare
    const lane = new FakeLane();
    lane.enabled = false;

    // Act
    const drill = runDrill(WORKFLOW, request, lane.deps());

    // Assess
    await expect(drill).rejects.toThrow(DrillRefusedError);
    await expect(drill).rejects.toThrow(
      'the autonomous lane of support-triage is already off (support-triage paused: incident 7); a drill would turn it on',
    );
    expect(lane.flips).toEqual([]);
    expect(lane.drills.records).toEqual([]);
  });

  it('refuses a workflow whose rollout phase keeps the lane closed', async () => {
    const lane = new FakeLane();
    const drill = runDrill(WORKFLOW, { ...request, rolloutPhase: 'evals' }, lane.deps());
    await expect(drill).rejects.toThrow(DrillRefusedError);
    await expect(drill).rejects.toThrow(
      'the autonomous lane of support-triage is not open in its rollout phase "evals" (workflow registry)',
    );
    expect(lane.flips).toEqual([]);
  });

  it('drills a workflow in phase autonomous', async () => {
    const lane = new FakeLane();
    const record = await runDrill(WORKFLOW, { ...request, rolloutPhase: 'autonomous' }, lane.deps());
    expect(record.outcome).toBe('passed');
  });

  it('fails when the lane never shows off, records it, and turns the lane back on', async () => {
    // Prepare
    const lane = new FakeLane();
    lane.lagMs = { off: Number.POSITIVE_INFINITY, on: 0 };

    // Act
    const record = await runDrill(WORKFLOW, { ...request, timeoutMs: 300 }, lane.deps());

    // Assess
    expect(record).toMatchObject({
      outcome: 'failed',
      offEffectMs: -1,
      onEffectMs: -1,
      detail: '/autonomy still showed on after 350 ms',
    });
    expect(lane.flips.map((flip) => flip.enabled)).toEqual([false, true]);
    expect(lane.enabled).toBe(true);
    expect(lane.drills.records).toEqual([record]);
  });

  it('fails when the lane never shows on again, with the off time kept', async () => {
    const lane = new FakeLane();
    lane.lagMs = { off: 0, on: Number.POSITIVE_INFINITY };
    const record = await runDrill(WORKFLOW, { ...request, timeoutMs: 300 }, lane.deps());
    expect(record).toMatchObject({
      outcome: 'failed',
      offEffectMs: 0,
      onEffectMs: -1,
      detail: '/autonomy still showed off after 350 ms',
    });
    expect(lane.flips.map((flip) => flip.enabled)).toEqual([false, true]);
    expect(lane.drills.records).toEqual([record]);
  });

  it('turns the lane back on when the flip back fails halfway, and says what broke', async () => {
    // Prepare
    const lane = new FakeLane();
    lane.failFlip = (attempt) =>
      attempt === 2 ? new Error('AppConfig throttled the deployment') : undefined;

    // Act
    const record = await runDrill(WORKFLOW, request, lane.deps());

    // Assess
    expect(record).toMatchObject({
      outcome: 'failed',
      offEffectMs: 150,
      onEffectMs: -1,
      detail: 'AppConfig throttled the deployment',
    });
    expect(lane.flips.map(({ enabled, ok }) => ({ enabled, ok }))).toEqual([
      { enabled: false, ok: true },
      { enabled: true, ok: false },
      { enabled: true, ok: true },
    ]);
    expect(lane.enabled).toBe(true);
    expect(lane.drills.records).toEqual([record]);
  });

  it('says so when turning the lane back on fails too, and still records the drill', async () => {
    // Prepare
    const lane = new FakeLane();
    lane.failFlip = (_attempt, enabled) => (enabled ? new Error('AppConfig is down') : undefined);

    // Act
    const record = await runDrill(WORKFLOW, request, lane.deps());

    // Assess
    expect(record).toMatchObject({
      outcome: 'failed',
      detail: 'AppConfig is down; restoring the lane failed too: AppConfig is down',
    });
    expect(lane.flips.map((flip) => flip.enabled)).toEqual([false, true, true]);
    expect(lane.drills.records).toEqual([record]);
  });

  it('does not flip back when the first flip fails', async () => {
    const lane = new FakeLane();
    lane.failFlip = (attempt) => (attempt === 1 ? new Error('not allowed') : undefined);
    const record = await runDrill(WORKFLOW, request, lane.deps());
    expect(record).toMatchObject({ outcome: 'failed', offEffectMs: -1, detail: 'not allowed' });
    expect(lane.flips.map((flip) => flip.enabled)).toEqual([false]);
    expect(lane.drills.records).toEqual([record]);
  });
});
