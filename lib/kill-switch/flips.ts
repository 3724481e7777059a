import type { LedgerEvent } from '#lib/events/schema.ts';
import type { FlagValue, FlagValues } from '#lib/kill-switch/flag-document.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';

/** The unit under which a workflow's kill-switch flips are kept in its ledger. */
export const KILL_SWITCH_UNIT = 'kill-switch';

export interface Flip {
  readonly flag: string;
  readonly from: boolean;
  readonly to: boolean;
  readonly value: FlagValue;
}

/** Flags whose `enabled` changed between two deployed value maps (a new flag counts as a change from on). */
export function diffFlags(previous: FlagValues | undefined, current: FlagValues): Flip[] {
  return Object.entries(current)
    .map(([flag, value]) => ({ flag, from: previous?.[flag]?.enabled ?? true, to: value.enabled, value }))
    .filter((flip) => flip.from !== flip.to);
}

export const laneState = (enabled: boolean) => (enabled ? 'enabled' : 'disabled');

/**
 * One `rollback` event per affected workflow and flip: a workflow's own flag goes to that workflow's
 * ledger; the master flag goes to every workflow's, since it stops them all. The eventId is derived
 * from the deployment, so recording the same deployment twice stores nothing new.
 */
export function rollbackEventsFor(
  flips: readonly Flip[],
  context: {
    workflowIds: readonly string[];
    environment: string;
    deploymentNumber: number;
    at: string;
    configurationVersion: string;
  },
): LedgerEvent[] {
  return flips.flatMap((flip) => {
    const workflows =
      flip.flag === MASTER_FLAG ? context.workflowIds : context.workflowIds.filter((id) => id === flip.flag);
    return workflows.map(
      (workflowId): LedgerEvent => ({
        type: 'rollback',
        eventId: `kill-switch:${context.environment}:${context.deploymentNumber}:${flip.flag}`,
        workflowId,
        unitId: KILL_SWITCH_UNIT,
        occurredAt: context.at,
        reason: flip.value.reason?.trim() || 'no reason given',
        initiatedBy: flip.value.changedBy?.trim() || 'unknown (flipped through AppConfig without changedBy)',
        lane: 'autonomous',
        from: laneState(flip.from),
        to: laneState(flip.to),
        metadata: {
          flag: flip.flag,
          scope: flip.flag === MASTER_FLAG ? 'all-workflows' : 'workflow',
          appconfig: {
            environment: context.environment,
            deploymentNumber: context.deploymentNumber,
            configurationVersion: context.configurationVersion,
          },
          ...(flip.value.changedAt ? { flagChangedAt: flip.value.changedAt } : {}),
        },
      }),
    );
  });
}
