import { DRIFT_JOB_IDENTITY } from '#lib/drift/job.ts';
import { compareRuns, type RunComparison } from '#lib/evals/compare.ts';
import type { EvalRun } from '#lib/evals/schema.ts';
import type { EvalSetSummary } from '#lib/evals/store.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import { isDrillFlipReason } from '#lib/kill-switch/run-drill.ts';
import type { StoredEvent } from '#lib/ports.ts';
import { GATE_OVERRIDE_KIND, ROLLOUT_GATES_UNIT } from '#lib/registry/rollout-gates.ts';
import { byString } from '#lib/reports/common.ts';

/**
 * What the monthly Autonomy + Risk Review counts from what the job read: each workflow's eval results
 * from its sets and runs, and one row per kill-switch flip from the ledger's `rollback` events.
 */

export interface EvalSetResult {
  readonly name: string;
  readonly latestVersion: number;
  readonly caseCount: number;
  /** Runs whose ranAt falls in the month (up to the report's as-of). */
  readonly runsInMonth: number;
  /** The latest run up to the as-of, compared with the one before it; null when the set was never run. */
  readonly latest: RunComparison | null;
}

export type EvalSummary =
  | { readonly status: 'not-connected'; readonly message: string }
  | { readonly status: 'none'; readonly message: string }
  | { readonly status: 'recorded'; readonly sets: EvalSetResult[] };

export const NO_EVAL_RUNS = 'no eval runs recorded';

/**
 * One workflow's eval results from its sets and their runs (newest first, as the store lists them):
 * `undefined` sets means no eval store is connected.
 */
export function summariseEvals(
  sets: readonly { set: EvalSetSummary; runs: readonly EvalRun[] }[] | undefined,
  month: { startMs: number; asOfMs: number },
): EvalSummary {
  if (sets === undefined)
    return { status: 'not-connected', message: `${NO_EVAL_RUNS} (no eval store connected)` };
  const results = sets.map(({ set, runs }): EvalSetResult => {
    const upToAsOf = runs.filter(
      (run) => (parseRfc3339(run.ranAt) ?? Number.POSITIVE_INFINITY) < month.asOfMs,
    );
    const [latest, previous] = upToAsOf;
    return {
      name: set.name,
      latestVersion: set.latestVersion,
      caseCount: set.caseCount,
      runsInMonth: upToAsOf.filter((run) => (parseRfc3339(run.ranAt) ?? 0) >= month.startMs).length,
      latest: latest ? compareRuns(latest, previous) : null,
    };
  });
  if (results.every((result) => result.latest === null)) {
    return {
      status: 'none',
      message:
        results.length === 0
          ? `${NO_EVAL_RUNS}: no eval set is registered`
          : `${NO_EVAL_RUNS}: ${results.length} set(s) registered, none run yet`,
    };
  }
  return { status: 'recorded', sets: results.sort((a, b) => byString(a.name, b.name)) };
}

export type RollbackCause = 'drift' | 'drill' | 'operator';

export interface RollbackRow {
  readonly eventId: string;
  readonly occurredAt: string;
  /** The workflows whose lane it changed: every workflow for the master flag. */
  readonly workflowIds: string[];
  readonly flag: string | null;
  readonly scope: 'workflow' | 'all-workflows';
  readonly from: string | null;
  readonly to: string | null;
  /** `off`: automation disabled; `on`: re-enabled. */
  readonly direction: 'off' | 'on' | 'other';
  readonly initiatedBy: string;
  readonly reason: string;
  readonly cause: RollbackCause;
  /** A lane switched off for real (not by a drill). */
  readonly incident: boolean;
  /** For `off`: when the same flag came back on within the period; null while still off at the as-of. */
  readonly restoredAt: string | null;
  readonly offForSeconds: number | null;
}

const stateText = (value: string | boolean | undefined): string | null =>
  value === undefined ? null : value === true ? 'enabled' : value === false ? 'disabled' : value;

/**
 * The `rollback` events of the `kill-switch` unit, one row per flip: a master-flag flip, recorded in every
 * workflow's ledger under one eventId, is one row naming them all. Oldest first, with each switch-off paired
 * with the next switch-on of the same flag.
 */
export function rollbackRows(events: readonly StoredEvent[]): RollbackRow[] {
  const byEventId = new Map<string, { stored: StoredEvent; workflowIds: Set<string> }>();
  for (const stored of events) {
    if (stored.event.type !== 'rollback') continue;
    const entry = byEventId.get(stored.event.eventId) ?? { stored, workflowIds: new Set<string>() };
    entry.workflowIds.add(stored.event.workflowId);
    byEventId.set(stored.event.eventId, entry);
  }
  const rows = [...byEventId.values()]
    .sort(
      (a, b) =>
        a.stored.occurredAtMs - b.stored.occurredAtMs ||
        byString(a.stored.event.eventId, b.stored.event.eventId),
    )
    .map(({ stored, workflowIds }) => {
      const event = stored.event as Extract<StoredEvent['event'], { type: 'rollback' }>;
      const metadata = event.metadata ?? {};
      const flag = typeof metadata.flag === 'string' ? metadata.flag : null;
      const from = stateText(event.from);
      const to = stateText(event.to);
      const direction = to === 'disabled' ? 'off' : to === 'enabled' ? 'on' : 'other';
      const cause: RollbackCause =
        event.initiatedBy === DRIFT_JOB_IDENTITY
          ? 'drift'
          : isDrillFlipReason(event.reason)
            ? 'drill'
            : 'operator';
      return {
        atMs: stored.occurredAtMs,
        key: flag ?? event.workflowId,
        row: {
          eventId: event.eventId,
          occurredAt: event.occurredAt,
          workflowIds: [...workflowIds].sort(byString),
          flag,
          scope: metadata.scope === 'all-workflows' ? ('all-workflows' as const) : ('workflow' as const),
          from,
          to,
          direction: direction as RollbackRow['direction'],
          initiatedBy: event.initiatedBy,
          reason: event.reason,
          cause,
          incident: direction === 'off' && cause !== 'drill',
          restoredAt: null as string | null,
          offForSeconds: null as number | null,
        },
      };
    });
  rows.forEach((entry, i) => {
    if (entry.row.direction !== 'off') return;
    const back = rows.slice(i + 1).find((later) => later.key === entry.key && later.row.direction === 'on');
    if (!back) return;
    entry.row.restoredAt = back.row.occurredAt;
    entry.row.offForSeconds = Math.round((back.atMs - entry.atMs) / 1000);
  });
  return rows.map((entry) => entry.row);
}

// ── Rollout gate overrides ───────────────────────────────────────────────────────────────────────────

/** One rollout-gate override: a phase move deployed although conditions were unmet (`--override`). */
export interface GateOverrideRow {
  readonly eventId: string;
  readonly occurredAt: string;
  readonly workflowId: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly initiatedBy: string;
  readonly reason: string;
  /** The conditions overridden, as the gates worded them. */
  readonly unmet: string[];
}

/** The `rollback` events of the `rollout-gates` unit that record an override, oldest first. */
export function gateOverrideRows(events: readonly StoredEvent[]): GateOverrideRow[] {
  return events
    .filter(
      (stored) =>
        stored.event.type === 'rollback' &&
        stored.event.unitId === ROLLOUT_GATES_UNIT &&
        stored.event.metadata?.kind === GATE_OVERRIDE_KIND,
    )
    .sort((a, b) => a.occurredAtMs - b.occurredAtMs || byString(a.event.eventId, b.event.eventId))
    .map((stored) => {
      const event = stored.event as Extract<StoredEvent['event'], { type: 'rollback' }>;
      const unmet = event.metadata?.unmet;
      return {
        eventId: event.eventId,
        occurredAt: event.occurredAt,
        workflowId: event.workflowId,
        from: stateText(event.from),
        to: stateText(event.to),
        initiatedBy: event.initiatedBy,
        reason: event.reason,
        unmet: Array.isArray(unmet) ? unmet.filter((item): item is string => typeof item === 'string') : [],
      };
    });
}
