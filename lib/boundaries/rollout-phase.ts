import {
  LANES,
  LANES_BY_PHASE,
  type Lane,
  laneAllowedInPhase,
  phaseOpening,
  ROLLOUT_PHASES,
  type RolloutPhase,
  type Workflow,
} from '#lib/registry/workflows.ts';

/**
 * The rollout phase, checked by machine: an `action` whose lane its workflow's phase has not opened yet
 * (an autonomous action while the workflow is in evals, a human-approved one in baseline). Such an action
 * is stored like any other and marked, never refused. Pure and total: an action without a lane, or with
 * a lane or phase this code does not know, is not judged.
 */

export interface RolloutPhaseViolation {
  /** The workflow's phase when the action was ingested. */
  readonly phase: RolloutPhase;
  /** The lane the action ran in. */
  readonly lane: Lane;
  readonly message: string;
}

const isLane = (value: unknown): value is Lane => (LANES as readonly unknown[]).includes(value);
const isPhase = (value: unknown): value is RolloutPhase =>
  (ROLLOUT_PHASES as readonly unknown[]).includes(value);

export function rolloutPhaseViolation(
  action: { readonly lane?: unknown },
  workflow: Pick<Workflow, 'rolloutPhase'>,
): RolloutPhaseViolation | undefined {
  const lane = typeof action === 'object' && action !== null ? action.lane : undefined;
  const phase = typeof workflow === 'object' && workflow !== null ? workflow.rolloutPhase : undefined;
  if (!isLane(lane) || !isPhase(phase) || laneAllowedInPhase(phase, lane)) return undefined;
  return {
    phase,
    lane,
    message: `the ${lane} lane is not open in rollout phase "${phase}" (it opens in phase "${phaseOpening(lane)}"; "${phase}" allows ${LANES_BY_PHASE[phase].join(', ')})`,
  };
}
