import { randomBytes } from 'node:crypto';
import { messageOf } from '#lib/errors.ts';
import type { AutonomyState } from '#lib/kill-switch/autonomy.ts';
import type { DrillRecord, DrillStore } from '#lib/kill-switch/drills.ts';
import { laneAllowedInPhase, type RolloutPhase } from '#lib/registry/workflows.ts';

/**
 * A kill-switch drill (SPEC "Kill switch"): flip the workflow's lane off, measure until agents see it off,
 * flip it back, measure until they see it on, and record the times. The CLI (`agent-ledger drill`) and
 * the console run this same code; they differ only in how they flip and how they read the lane.
 */
export interface DrillDependencies {
  /** Flips the workflow's flag through flipKillSwitch (the one flip path). */
  flip(enabled: boolean, reason: string): Promise<unknown>;
  /** The workflow's autonomy as agents see it (GET /autonomy for the CLI; readAutonomy in process for the console). */
  autonomy(): Promise<AutonomyState>;
  drills: DrillStore;
  /** Milliseconds on a monotonic clock, as `performance.now()` (the default). */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The wall clock, for the drill's ID and `startedAt`. */
  now?: () => Date;
}

export interface DrillRequest {
  /** Who runs the drill: what its flips and its record carry. */
  readonly by: string;
  /** Where it runs, as the record shows it: `the local stack`, `stage dev`. */
  readonly target: string;
  /** How long each flip may take to show before the drill fails. */
  readonly timeoutMs: number;
  /** How often the lane is read while waiting (default 50 ms). */
  readonly pollMs?: number;
  /** The workflow's rollout phase in the registry, when known: a phase that keeps the lane closed refuses the drill. */
  readonly rolloutPhase?: RolloutPhase;
}

/** The drill was not started, and nothing was flipped: the lane is already off, or its phase keeps it closed. */
export class DrillRefusedError extends Error {
  override name = 'DrillRefusedError';
}

/** Why a workflow in this rollout phase cannot be drilled, or undefined when it can. */
export function drillRefusal(
  workflowId: string,
  rolloutPhase: RolloutPhase | undefined,
): DrillRefusedError | undefined {
  if (rolloutPhase === undefined || laneAllowedInPhase(rolloutPhase, 'autonomous')) return undefined;
  return new DrillRefusedError(
    `the autonomous lane of ${workflowId} is not open in its rollout phase "${rolloutPhase}" (workflow registry), so there is nothing for the kill switch to stop; drill it once the workflow reaches phase "autonomous"`,
  );
}

/**
 * A drill's flips carry this reason; it is how the ledger tells them from real pauses (the flag document
 * has no other field a flip could be marked with, so the recorded rollback event has only its reason).
 */
export const drillFlipReason = (drillId: string) => `kill-switch drill ${drillId}`;

export const isDrillFlipReason = (reason: string) => /^kill-switch drill\b/.test(reason);

/** `drill-20261201T141500-a1b2`: the start time to the second, and four hex digits. */
export function newDrillId(now: Date): string {
  return `drill-${now.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(2).toString('hex')}`;
}

/**
 * Runs one drill and records it in `deps.drills`, passed or failed. Throws DrillRefusedError, before any
 * flip, when the lane is already off (a drill would turn it on) or the rollout phase keeps it closed.
 * A drill that breaks halfway never leaves the lane off: it flips the lane back on, and its record's
 * `detail` says what broke (and whether turning the lane back on failed too).
 */
export async function runDrill(
  workflowId: string,
  request: DrillRequest,
  deps: DrillDependencies,
  progress: (line: string) => void = () => {},
): Promise<DrillRecord> {
  const refusal = drillRefusal(workflowId, request.rolloutPhase);
  if (refusal) throw refusal;
  const clock = deps.clock ?? (() => performance.now());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = deps.now ?? (() => new Date());
  const pollMs = request.pollMs ?? 50;

  const drillId = newDrillId(now());
  const before = await deps.autonomy();
  if (!before.autonomousAllowed) {
    throw new DrillRefusedError(
      `the autonomous lane of ${workflowId} is already off (${before.reason}); a drill would turn it on`,
    );
  }
  const startedAt = now().toISOString();
  const flip = (enabled: boolean) => deps.flip(enabled, drillFlipReason(drillId));

  /** Reads the lane every `pollMs` until it shows `allowed`; the milliseconds since `since`. */
  const waitFor = async (allowed: boolean, since: number): Promise<number> => {
    for (;;) {
      const state = await deps.autonomy();
      const elapsed = Math.round(clock() - since);
      if (state.autonomousAllowed === allowed) return elapsed;
      if (elapsed > request.timeoutMs)
        throw new Error(`/autonomy still showed ${allowed ? 'off' : 'on'} after ${elapsed} ms`);
      await sleep(pollMs);
    }
  };

  let offEffectMs = -1;
  let onEffectMs = -1;
  let detail: string | undefined;
  let flippedOff = false;
  try {
    progress(`Drill ${drillId}: turning the autonomous lane of ${workflowId} off…`);
    const offStarted = clock();
    await flip(false);
    flippedOff = true;
    offEffectMs = await waitFor(false, offStarted);
    progress(`  /autonomy shows it off after ${offEffectMs} ms; turning it back on…`);
    const onStarted = clock();
    await flip(true);
    flippedOff = false;
    onEffectMs = await waitFor(true, onStarted);
  } catch (error) {
    detail = messageOf(error);
    // Never leave the lane off because a drill broke halfway.
    if (flippedOff) {
      await flip(true).catch((restore: unknown) => {
        detail += `; restoring the lane failed too: ${messageOf(restore)}`;
      });
    }
  }
  const record: DrillRecord = {
    drillId,
    workflowId,
    startedAt,
    by: request.by,
    target: request.target,
    offEffectMs,
    onEffectMs,
    outcome: detail === undefined ? 'passed' : 'failed',
    ...(detail !== undefined ? { detail } : {}),
  };
  await deps.drills.putDrill(record);
  return record;
}
