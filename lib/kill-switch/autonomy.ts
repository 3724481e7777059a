import { messageOf } from '#lib/errors.ts';
import type { LastFlip } from '#lib/kill-switch/history.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { FlagReader } from '#lib/kill-switch/ports.ts';
import {
  type Lane,
  laneAllowedInPhase,
  phaseOpening,
  type RolloutPhase,
  widestLaneOf,
} from '#lib/registry/workflows.ts';

/** SPEC "Read API": what an agent reads before acting alone. */
export interface AutonomyState {
  readonly workflowId: string;
  readonly autonomousAllowed: boolean;
  /**
   * The lane the agent must use now: `autonomous` when allowed; otherwise `hitl`, or `shadow` while the
   * workflow's rollout phase (baseline) opens no lane that ships output.
   */
  readonly lane: Lane;
  readonly flagVersion: string | null;
  readonly reason: string | null;
  readonly changedAt: string | null;
}

/** Where to find why a lane is off: AppConfig serves a disabled flag as `{enabled: false}` alone. */
export type FlipLookup = (workflowId: string, scope: 'workflow' | 'master') => Promise<LastFlip | undefined>;

/**
 * Evaluates the autonomous lane for one workflow. The rollout phase comes first: only the `autonomous`
 * phase opens the lane (baseline keeps agents in shadow, hitl and evals in hitl), whatever the flags say.
 * Then the kill switch: allowed only when the workflow's own flag and the master flag are both on. It
 * fails closed: flags that cannot be read, or a workflow with no flag, mean "not allowed". For a lane that
 * is off, who switched it off and why come from the ledger's record of the flip. Without `rolloutPhase`
 * (callers that know only the flags) the kill switch alone decides.
 */
export async function readAutonomy(
  workflowId: string,
  flags: FlagReader,
  lastFlip: FlipLookup = async () => undefined,
  rolloutPhase?: RolloutPhase,
): Promise<AutonomyState> {
  const switched = await readKillSwitch(workflowId, flags, lastFlip);
  if (rolloutPhase === undefined || laneAllowedInPhase(rolloutPhase, 'autonomous')) return switched;
  const phaseReason = `rollout phase "${rolloutPhase}": the autonomous lane opens in phase "${phaseOpening('autonomous')}" (workflow registry)`;
  return {
    workflowId,
    autonomousAllowed: false,
    lane: widestLaneOf(rolloutPhase),
    flagVersion: switched.flagVersion,
    // The kill switch's own reason still matters: it will hold when the phase moves on.
    reason: switched.autonomousAllowed
      ? phaseReason
      : `${phaseReason}; kill switch: ${switched.reason ?? 'off'}`,
    changedAt: switched.autonomousAllowed ? null : switched.changedAt,
  };
}

async function readKillSwitch(
  workflowId: string,
  flags: FlagReader,
  lastFlip: FlipLookup,
): Promise<AutonomyState> {
  const closed = (reason: string): AutonomyState => ({
    workflowId,
    autonomousAllowed: false,
    lane: 'hitl',
    flagVersion: null,
    reason,
    changedAt: null,
  });
  let snapshot: Awaited<ReturnType<FlagReader['read']>>;
  try {
    snapshot = await flags.read();
  } catch (error) {
    return closed(`kill-switch flag unreadable (${messageOf(error)}); failing closed`);
  }
  const own = snapshot.values[workflowId];
  if (!own)
    return {
      ...closed(`no kill-switch flag for ${workflowId}; failing closed`),
      flagVersion: snapshot.version,
    };
  const master = snapshot.values[MASTER_FLAG];
  if (master && !master.enabled) {
    const recorded = master.reason ? undefined : await lastFlip(workflowId, 'master').catch(() => undefined);
    return {
      workflowId,
      autonomousAllowed: false,
      lane: 'hitl',
      flagVersion: snapshot.version,
      reason: `all autonomous lanes stopped: ${master.reason ?? recorded?.reason ?? 'no reason recorded yet'}`,
      changedAt: master.changedAt ?? recorded?.changedAt ?? null,
    };
  }
  const recorded =
    own.enabled || own.reason ? undefined : await lastFlip(workflowId, 'workflow').catch(() => undefined);
  return {
    workflowId,
    autonomousAllowed: own.enabled,
    lane: own.enabled ? 'autonomous' : 'hitl',
    flagVersion: snapshot.version,
    reason: own.reason ?? recorded?.reason ?? null,
    changedAt: own.changedAt ?? recorded?.changedAt ?? null,
  };
}
