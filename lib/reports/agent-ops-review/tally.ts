import type { RecordedBoundaryViolation, StoredEvent } from '#lib/ports.ts';
import type { Lane } from '#lib/registry/workflows.ts';
import { byString } from '#lib/reports/common.ts';
import { moreTrustedLane } from '#lib/reviews/lane.ts';

/**
 * What the weekly Agent Ops Review counts from the events the reports job reads in its one pass: the
 * week's failures and boundary and rollout-phase violations per workflow, and the week's shadow-lane units.
 * ./model.ts makes the review of them.
 */

export type FailureKind = 'defect' | 'tool';

export interface FailureCount {
  readonly workflowId: string;
  readonly kind: FailureKind;
  /** `review.verdict` defects: the verdict's category; null when the reviewer gave none. */
  readonly category: string | null;
  /** Failing tool calls: the tool's name and the call's errorCode (null when it gave none). */
  readonly tool: string | null;
  readonly errorCode: string | null;
  readonly count: number;
}

export interface BoundaryRuleCount {
  readonly workflowId: string;
  readonly kind: RecordedBoundaryViolation['kind'];
  readonly ruleId: string;
  readonly tool: string;
  /** Tool calls that broke the rule. */
  readonly count: number;
}

export interface RolloutPhaseCount {
  readonly workflowId: string;
  /** The workflow's phase when the action was ingested. */
  readonly phase: string;
  /** The lane the action ran in, which that phase had not opened. */
  readonly lane: string;
  readonly count: number;
}

/**
 * Tallies one workflow's events that occurred in the week: defect verdicts by category, failing tool
 * calls by tool and error code, the boundary rules actions broke and the actions in a lane their rollout
 * phase had not opened (both as recorded at ingest). Pure.
 */
export class WeekActivity {
  readonly #failures = new Map<string, FailureCount & { count: number }>();
  readonly #boundary = new Map<string, BoundaryRuleCount & { count: number }>();
  readonly #rolloutPhase = new Map<string, RolloutPhaseCount & { count: number }>();

  constructor(readonly workflowId: string) {}

  add(stored: Pick<StoredEvent, 'event' | 'boundaryViolations' | 'rolloutPhaseViolation'>): void {
    const { event } = stored;
    if (event.type === 'review.verdict' && event.verdict === 'defect') {
      this.#countFailure({ kind: 'defect', category: event.category ?? null, tool: null, errorCode: null });
    } else if (event.type === 'action') {
      for (const call of event.toolCalls ?? []) {
        if (call.outcome !== 'failure') continue;
        this.#countFailure({
          kind: 'tool',
          category: null,
          tool: call.name,
          errorCode: call.errorCode ?? null,
        });
      }
      for (const violation of stored.boundaryViolations ?? []) {
        const key = JSON.stringify([violation.kind, violation.ruleId, violation.tool]);
        const entry = this.#boundary.get(key) ?? { workflowId: this.workflowId, ...violation, count: 0 };
        entry.count++;
        this.#boundary.set(key, entry);
      }
      const early = stored.rolloutPhaseViolation;
      if (early) {
        const key = JSON.stringify([early.phase, early.lane]);
        const entry = this.#rolloutPhase.get(key) ?? {
          workflowId: this.workflowId,
          phase: early.phase,
          lane: early.lane,
          count: 0,
        };
        entry.count++;
        this.#rolloutPhase.set(key, entry);
      }
    }
  }

  failures(): FailureCount[] {
    return [...this.#failures.values()].map((entry) => ({ ...entry }));
  }

  boundaryViolations(): BoundaryRuleCount[] {
    return [...this.#boundary.values()].map((entry) => ({ ...entry }));
  }

  rolloutPhaseViolations(): RolloutPhaseCount[] {
    return [...this.#rolloutPhase.values()].map((entry) => ({ ...entry }));
  }

  #countFailure(failure: Omit<FailureCount, 'workflowId' | 'count'>): void {
    const key = JSON.stringify([failure.kind, failure.category, failure.tool, failure.errorCode]);
    const entry = this.#failures.get(key) ?? { workflowId: this.workflowId, ...failure, count: 0 };
    entry.count++;
    this.#failures.set(key, entry);
  }
}

/**
 * Finds one workflow's shadow-lane units completed in the week, from the events the reports job reads in
 * its one pass (the quarter up to the week's end): units completed in the week whose actions all ran in
 * the shadow lane, as far as the pass saw them. The job then reads each candidate's whole history to
 * confirm its lane and find its verdicts, however late they came. Lanes as the review queue judges them
 * (lib/reviews/lane.ts): a mixed unit goes by its most trusted lane, so it is not a shadow unit.
 */
export class ShadowUnitFinder {
  /** Per unit with an action naming a lane: the most trusted lane so far (a constant: small per unit). */
  readonly #lanes = new Map<string, Lane>();
  readonly #completed = new Set<string>();

  constructor(
    readonly workflowId: string,
    private readonly week: { readonly startMs: number; readonly endMs: number },
  ) {}

  add(stored: Pick<StoredEvent, 'event' | 'occurredAtMs'>): void {
    const { event } = stored;
    if (event.type === 'action') {
      const lane = moreTrustedLane(this.#lanes.get(event.unitId), event.lane);
      if (lane !== undefined) this.#lanes.set(event.unitId, lane);
    } else if (
      event.type === 'unit.completed' &&
      stored.occurredAtMs >= this.week.startMs &&
      stored.occurredAtMs < this.week.endMs
    ) {
      this.#completed.add(event.unitId);
    }
  }

  /** The units completed in the week whose actions seen so far all ran in the shadow lane, sorted. */
  candidates(): string[] {
    return [...this.#completed].filter((unitId) => this.#lanes.get(unitId) === 'shadow').sort(byString);
  }
}
