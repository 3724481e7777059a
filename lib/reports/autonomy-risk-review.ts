import { DRIFT_JOB_IDENTITY } from '#lib/drift/job.ts';
import { compareRuns, type RunComparison } from '#lib/evals/compare.ts';
import type { EvalRun } from '#lib/evals/schema.ts';
import type { EvalSetSummary } from '#lib/evals/store.ts';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { isoWeekOf, weekBounds } from '#lib/kpi/weeks.ts';
import type { StoredEvent } from '#lib/ports.ts';
import type { Workflow } from '#lib/registry/workflows.ts';
import { boundaryViolationsOf } from '#lib/reports/agent-ops-review.ts';
import { byString, summariseWorkflow, type WorkflowSummary } from '#lib/reports/common.ts';
import {
  type BoundaryView,
  boundaryView,
  type DrillRow,
  type DrillSummary,
  type KillSwitchState,
  type LaneState,
  laneBadge,
  laneState,
  renderBoundary,
  renderDrills,
  summariseDrills,
} from '#lib/reports/governance.ts';
import {
  badge,
  formatCount,
  formatMs,
  formatRate,
  type Html,
  html,
  note,
  page,
  table,
} from '#lib/reports/html.ts';
import type { PeriodToDate } from '#lib/reports/periods.ts';

/**
 * The monthly Autonomy + Risk Review: each workflow's autonomy boundary and who may flip its kill switch,
 * the switch's state now, eval results, the month's incidents and rollbacks (every recorded flip, with who
 * and why), and the month's drills with their times to effect.
 */

// ---- evals ----

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

// ---- rollbacks ----

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

const DRILL_REASON = /^kill-switch drill\b/;

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
          : DRILL_REASON.test(event.reason)
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

// ---- the model ----

export interface WeekViolations {
  readonly week: string;
  /** null: no KPI record for the week. */
  readonly killSwitchViolations: number | null;
  /** null: no record, or not tracked by it. */
  readonly boundaryViolations: number | null;
  /** Actions in a lane the rollout phase had not opened, counted from the events; null: not counted. */
  readonly rolloutPhaseViolations: number | null;
}

export interface WorkflowRisk extends WorkflowSummary {
  readonly boundary: BoundaryView;
  readonly killSwitch: {
    readonly flagKey: string;
    readonly location: string;
    readonly flippers: string[];
    readonly lane: LaneState;
  };
  readonly evals: EvalSummary;
  /** The month's weeks (those whose Monday is in it, up to the report's week). */
  readonly violationsByWeek: WeekViolations[];
  readonly drills: DrillRow[];
  readonly drillSummary: DrillSummary;
}

export interface AutonomyRiskReview {
  readonly report: 'autonomy-risk-review';
  readonly schemaVersion: 1;
  readonly month: string;
  readonly monthStart: string;
  readonly monthEnd: string;
  /** The figures cover the month up to here: the end of `week`, or the month's end. */
  readonly asOf: string;
  readonly complete: boolean;
  readonly week: string;
  readonly generatedAt: string;
  readonly killSwitch: KillSwitchState;
  readonly workflows: WorkflowRisk[];
  readonly rollbacks: RollbackRow[];
  /** Lanes switched off in the month other than by drills. */
  readonly incidents: number;
}

export interface AutonomyRiskReviewInput {
  readonly month: PeriodToDate;
  readonly week: string;
  readonly generatedAt: string;
  readonly workflows: readonly Workflow[];
  readonly killSwitch: KillSwitchState;
  /** KPI records of the month's weeks (others are ignored). */
  readonly records: readonly KpiRecord[];
  /** The month's `kill-switch` unit `rollback` events of every workflow. */
  readonly rollbacks: readonly StoredEvent[];
  /** Drills of the month, per workflow, any order. */
  readonly drills: ReadonlyMap<string, readonly DrillRow[]>;
  /** Eval results per workflow. */
  readonly evals: ReadonlyMap<string, EvalSummary>;
  /**
   * Rollout-phase violations per workflow and week (from the events: the KPI record does not count them);
   * a week missing from a workflow's map had none. Without it, the weeks say "not counted".
   */
  readonly rolloutPhaseViolations?: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** The weeks whose Monday falls in the month, up to and including `week`. */
export function weeksOfMonth(month: PeriodToDate, week: string): string[] {
  const weeks: string[] = [];
  let startMs = weekBounds(week).startMs;
  while (startMs >= month.startMs) {
    weeks.unshift(isoWeekOf(startMs));
    startMs -= 7 * 86_400_000;
  }
  return weeks;
}

export function buildAutonomyRiskReview(input: AutonomyRiskReviewInput): AutonomyRiskReview {
  const weeks = weeksOfMonth(input.month, input.week);
  const records = new Map(input.records.map((record) => [`${record.workflowId}|${record.week}`, record]));
  const rollbacks = rollbackRows(input.rollbacks);
  const workflows = input.workflows.map((workflow): WorkflowRisk => {
    const drills = [...(input.drills.get(workflow.workflowId) ?? [])].sort((a, b) =>
      byString(b.startedAt, a.startedAt),
    );
    return {
      ...summariseWorkflow(workflow),
      boundary: boundaryView(workflow),
      killSwitch: {
        flagKey: workflow.workflowId,
        location: workflow.autonomyBoundary.killSwitch.location,
        flippers: [...workflow.autonomyBoundary.killSwitch.flippers],
        lane: laneState(input.killSwitch, workflow.workflowId, workflow.rolloutPhase),
      },
      evals: input.evals.get(workflow.workflowId) ?? summariseEvals(undefined, input.month),
      violationsByWeek: weeks.map((week) => {
        const record = records.get(`${workflow.workflowId}|${week}`);
        const counted = input.rolloutPhaseViolations?.get(workflow.workflowId);
        return {
          week,
          killSwitchViolations: record ? record.killSwitchViolations : null,
          boundaryViolations: record ? (boundaryViolationsOf(record) ?? null) : null,
          rolloutPhaseViolations: input.rolloutPhaseViolations ? (counted?.get(week) ?? 0) : null,
        };
      }),
      drills,
      drillSummary: summariseDrills(drills),
    };
  });
  return {
    report: 'autonomy-risk-review',
    schemaVersion: 1,
    month: input.month.name,
    monthStart: new Date(input.month.startMs).toISOString(),
    monthEnd: new Date(input.month.endMs).toISOString(),
    asOf: new Date(input.month.asOfMs).toISOString(),
    complete: input.month.complete,
    week: input.week,
    generatedAt: input.generatedAt,
    killSwitch: input.killSwitch,
    workflows,
    rollbacks,
    incidents: rollbacks.filter((row) => row.incident).length,
  };
}

// ---- the HTML ----

const pp = (delta: number | null) =>
  delta === null ? '—' : `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${Math.abs(delta * 100).toFixed(1)} pp`;

function renderEvals(evals: EvalSummary): Html {
  if (evals.status !== 'recorded') return note(evals.message);
  return table(
    [
      'Eval set',
      'Cases (latest version)',
      'Runs this month',
      'Latest run',
      'Pass rate',
      'Change',
      'Newly failing',
      'What changed',
    ],
    evals.sets.map((set) => {
      const latest = set.latest;
      if (!latest)
        return [
          set.name,
          `${set.caseCount} (v${set.latestVersion})`,
          set.runsInMonth,
          'never run',
          '—',
          '—',
          '—',
          '—',
        ];
      const changed = [
        latest.promptChanged && `prompt ${latest.previous?.promptVersion} → ${latest.current.promptVersion}`,
        latest.modelChanged && `model ${latest.previous?.modelVersion} → ${latest.current.modelVersion}`,
        latest.setVersionChanged &&
          `set v${latest.previous?.evalSetVersion} → v${latest.current.evalSetVersion}`,
      ].filter((text): text is string => typeof text === 'string');
      return [
        set.name,
        `${set.caseCount} (v${set.latestVersion})`,
        set.runsInMonth,
        html`<code>${latest.current.runId}</code> ${latest.current.ranAt} by ${latest.current.ranBy}`,
        `${formatRate(latest.passRate)} (${latest.current.passed}/${latest.current.total})`,
        latest.delta === null
          ? 'first run'
          : html`<span class="${latest.delta < 0 ? 'worse' : latest.delta > 0 ? 'better' : ''}">${pp(latest.delta)}</span>`,
        latest.newlyFailing.length === 0
          ? '0'
          : `${latest.newlyFailing.length}: ${latest.newlyFailing.slice(0, 10).join(', ')}${latest.newlyFailing.length > 10 ? ', …' : ''}`,
        changed.length === 0 ? '—' : changed.join('; '),
      ];
    }),
    [2],
  );
}

function workflowSection(workflow: WorkflowRisk, model: AutonomyRiskReview): Html {
  const { lane } = workflow.killSwitch;
  return html`<section>
<h2>${workflow.workflowId} <span class="muted">· owner: ${workflow.owner} · phase: ${workflow.rolloutPhase}</span></h2>
<h3>Kill switch ${laneBadge(lane)}</h3>
${table(
  ['Now (read at report time)', 'Where', 'Who may flip it'],
  [
    [
      lane.summary,
      workflow.killSwitch.location,
      html`<ul>${workflow.killSwitch.flippers.map((flipper) => html`<li>${flipper}</li>`)}</ul>`,
    ],
  ],
)}
${renderBoundary(workflow.boundary)}
<h3>Violations by week</h3>
${table(
  ['Week', 'Kill-switch violations', 'Boundary violations', 'Rollout-phase violations'],
  workflow.violationsByWeek.map((row) => [
    row.week,
    row.killSwitchViolations === null ? 'no KPI record' : violationCell(row.killSwitchViolations),
    row.killSwitchViolations === null
      ? '—'
      : row.boundaryViolations === null
        ? 'not tracked'
        : violationCell(row.boundaryViolations),
    row.rolloutPhaseViolations === null ? 'not counted' : violationCell(row.rolloutPhaseViolations),
  ]),
  [1, 2, 3],
)}
<p class="muted">Rollout-phase violations: actions in a lane the workflow's rollout phase (now ${workflow.rolloutPhase}) had not opened, counted from the week's events.</p>
<h3>Eval results</h3>
${renderEvals(workflow.evals)}
<h3>Drills this month</h3>
${
  workflow.drillSummary.count > 0 &&
  html`<p>${workflow.drillSummary.count} drill(s), ${workflow.drillSummary.passed} passed, ${workflow.drillSummary.failed} failed; time to effect off: median ${formatMs(workflow.drillSummary.medianOffEffectMs)}, worst ${formatMs(workflow.drillSummary.maxOffEffectMs)}; back on: median ${formatMs(workflow.drillSummary.medianOnEffectMs)}.</p>`
}
${renderDrills(workflow.drills, `No drill in ${model.month}: run one with agent-ledger drill ${workflow.workflowId}.`)}
</section>`;
}

function violationCell(count: number): Html | string {
  return count > 0 ? badge(String(count), 'bad') : '0';
}

const CAUSE_LABEL: Record<RollbackCause, string> = {
  drift: 'drift pause',
  drill: 'drill',
  operator: 'operator',
};

function duration(seconds: number | null): string {
  if (seconds === null) return 'still off';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function renderAutonomyRiskReview(model: AutonomyRiskReview): string {
  const state = model.killSwitch;
  const rollbacks =
    model.rollbacks.length === 0
      ? note(`No kill-switch flips were recorded in ${model.month}.`)
      : table(
          ['When', 'Workflows', 'Change', 'Cause', 'Who', 'Why', 'Off for'],
          model.rollbacks.map((row) => [
            row.occurredAt,
            row.scope === 'all-workflows'
              ? html`all (master flag): ${row.workflowIds.join(', ')}`
              : row.workflowIds.join(', '),
            row.direction === 'off'
              ? badge('switched off', row.incident ? 'bad' : 'neutral')
              : row.direction === 'on'
                ? badge('switched on', 'good')
                : `${row.from ?? '?'} → ${row.to ?? '?'}`,
            CAUSE_LABEL[row.cause],
            row.initiatedBy,
            row.reason,
            row.direction === 'off' ? duration(row.offForSeconds) : '',
          ]),
        );
  const body = html`${note(
    html`${model.month}: ${model.monthStart} to ${model.monthEnd} (UTC). ${
      model.complete
        ? 'The month is complete.'
        : html`Month to date: events up to ${model.asOf} (written by the run for ${model.week}).`
    } The kill-switch state is as AppConfig served it at ${state.readAt}.`,
  )}
${!state.readable && note(`The kill-switch flags could not be read: ${state.error}. Agents fail closed to HITL while this lasts.`, 'bad')}
${state.master && !state.master.enabled && note(`The master flag is OFF: every autonomous lane is stopped (${state.master.reason ?? 'no reason recorded'}).`, 'bad')}
<section>
<h2>Summary</h2>
${table(
  ['Workflow', 'Phase', 'Autonomous lane now', 'Who may flip it', 'Eval results', 'Drills this month'],
  model.workflows.map((workflow) => [
    workflow.workflowId,
    workflow.rolloutPhase,
    html`${laneBadge(workflow.killSwitch.lane)} ${workflow.killSwitch.lane.summary}`,
    workflow.killSwitch.flippers.join('; '),
    workflow.evals.status === 'recorded'
      ? workflow.evals.sets
          .map((set) =>
            set.latest ? `${set.name} ${formatRate(set.latest.passRate)}` : `${set.name}: never run`,
          )
          .join('; ')
      : workflow.evals.message,
    workflow.drillSummary.count === 0
      ? badge('none', 'warn')
      : `${workflow.drillSummary.passed}/${workflow.drillSummary.count} passed, off in ${formatMs(workflow.drillSummary.medianOffEffectMs)} (median)`,
  ]),
)}
</section>
<section>
<h2>Incidents and rollbacks</h2>
<p>${formatCount(model.incidents)} incident(s): lanes switched off other than by a drill. Every flip is listed, from the ledger's <code>rollback</code> events (unit <code>kill-switch</code>).</p>
${rollbacks}
</section>
${model.workflows.map((workflow) => workflowSection(workflow, model))}`;
  return page({
    title: `Autonomy + Risk Review — ${model.month}`,
    subtitle: 'Monthly review of autonomy boundaries, kill-switch control, evals, incidents and drills',
    generatedAt: model.generatedAt,
    body,
  });
}
