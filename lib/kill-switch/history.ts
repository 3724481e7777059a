import { KILL_SWITCH_UNIT } from '#lib/kill-switch/flips.ts';
import type { EventIndex } from '#lib/ports.ts';

interface Transition {
  readonly atMs: number;
  readonly master: boolean;
  readonly enabled: boolean;
  readonly reason: string;
  readonly occurredAt: string;
}

/** Why and when a lane was last switched, as the ledger recorded it. */
export interface LastFlip {
  readonly reason: string;
  readonly changedAt: string;
}

/**
 * Whether a workflow's autonomous lane was allowed at an instant, from the flips the ledger recorded
 * (the `kill-switch` unit's `rollback` events). Before any recorded flip a lane is allowed, as the
 * initial flag document says. One instance per request: each workflow's history is read once.
 */
export class LedgerLaneHistory {
  readonly #transitions = new Map<string, Promise<Transition[]>>();

  constructor(
    private readonly index: EventIndex,
    private readonly nowSeconds: number,
  ) {}

  async wasAutonomyAllowed(workflowId: string, atMs: number): Promise<boolean> {
    let own = true;
    let master = true;
    for (const transition of await this.#transitionsOf(workflowId)) {
      if (transition.atMs > atMs) break;
      if (transition.master) master = transition.enabled;
      else own = transition.enabled;
    }
    return own && master;
  }

  /**
   * Why the workflow's own flag, or the master flag, is off: its latest recorded flip when that turned
   * it off. When the latest recorded flip turned it on, the ledger has not caught up with the flip that
   * is being served yet (the recorder runs after the deployment), and an older pause's reason would be
   * wrong: undefined.
   */
  async lastFlip(workflowId: string, scope: 'workflow' | 'master'): Promise<LastFlip | undefined> {
    const last = (await this.#transitionsOf(workflowId))
      .filter((t) => t.master === (scope === 'master'))
      .at(-1);
    return last && !last.enabled ? { reason: last.reason, changedAt: last.occurredAt } : undefined;
  }

  #transitionsOf(workflowId: string): Promise<Transition[]> {
    let transitions = this.#transitions.get(workflowId);
    if (!transitions) {
      transitions = this.#load(workflowId);
      this.#transitions.set(workflowId, transitions);
    }
    return transitions;
  }

  async #load(workflowId: string): Promise<Transition[]> {
    const transitions: Transition[] = [];
    const flips = this.index.events({
      workflowId,
      unitId: KILL_SWITCH_UNIT,
      type: 'rollback',
      nowSeconds: this.nowSeconds,
    });
    for await (const stored of flips) {
      const { event } = stored;
      // Only a flag's flips are transitions (a rollback may record another kind of change).
      if (event.to !== 'enabled' && event.to !== 'disabled') continue;
      transitions.push({
        atMs: stored.occurredAtMs,
        master: event.metadata?.scope === 'all-workflows',
        enabled: event.to === 'enabled',
        reason: event.reason,
        occurredAt: event.occurredAt,
      });
    }
    return transitions;
  }
}
