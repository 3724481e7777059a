import type { LastFlip } from '#lib/kill-switch/history.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { FlagReader } from '#lib/kill-switch/ports.ts';

/** SPEC "Read API": what an agent reads before acting alone. */
export interface AutonomyState {
  readonly workflowId: string;
  readonly autonomousAllowed: boolean;
  /** The lane the agent must use now. */
  readonly lane: 'autonomous' | 'hitl';
  readonly flagVersion: string | null;
  readonly reason: string | null;
  readonly changedAt: string | null;
}

/** Where to find why a lane is off: AppConfig serves a disabled flag as `{enabled: false}` alone. */
export type FlipLookup = (workflowId: string, scope: 'workflow' | 'master') => Promise<LastFlip | undefined>;

/**
 * Evaluates the kill switch for one workflow: allowed only when its own flag and the master flag are
 * both on. It fails closed: flags that cannot be read, or a workflow with no flag, mean "not allowed".
 * For a lane that is off, who switched it off and why come from the ledger's record of the flip.
 */
export async function readAutonomy(
  workflowId: string,
  flags: FlagReader,
  lastFlip: FlipLookup = async () => undefined,
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
    return closed(`kill-switch flag unreadable (${(error as Error).message}); failing closed`);
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
