import { LANES, type Lane } from '#lib/registry/workflows.ts';

/**
 * The lane of a unit, for review: the most trusted lane any of its actions ran in (autonomous, then hitl,
 * then shadow). A unit is `shadow` only when every action that named a lane ran in the shadow lane, so
 * none of its output reached a customer: the onboarding reviews (SPEC "Shadow-lane outputs can be reviewed
 * the same way"). A mixed unit is judged by the output that shipped, so one autonomous action makes it
 * `autonomous`, and a shadow draft followed by a human-approved action makes it `hitl`. null when no
 * action named a lane.
 */
export class UnitLane {
  #rank = -1;

  add(lane: unknown): this {
    const rank = (LANES as readonly unknown[]).indexOf(lane);
    if (rank > this.#rank) this.#rank = rank;
    return this;
  }

  get lane(): Lane | null {
    return this.#rank < 0 ? null : (LANES[this.#rank] as Lane);
  }
}

/** The more trusted of a unit's lane so far and an action's lane (which may be missing or unknown). */
export function moreTrustedLane(current: Lane | undefined, lane: unknown): Lane | undefined {
  if (!isLane(lane)) return current;
  return current === undefined || LANES.indexOf(lane) > LANES.indexOf(current) ? lane : current;
}

export function unitLane(lanes: Iterable<unknown>): Lane | null {
  const unit = new UnitLane();
  for (const lane of lanes) unit.add(lane);
  return unit.lane;
}

export function isLane(value: unknown): value is Lane {
  return (LANES as readonly unknown[]).includes(value);
}
