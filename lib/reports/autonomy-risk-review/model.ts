import type { Postmortem } from '#lib/incidents/postmortem.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { isoWeekOf, weekBounds } from '#lib/kpi/weeks.ts';
import type { StoredEvent } from '#lib/ports.ts';
import type { Workflow } from '#lib/registry/workflows.ts';
import {
  type IncidentPostmortems,
  incidentPostmortems,
} from '#lib/reports/autonomy-risk-review/incidents.ts';
import {
  type EvalSummary,
  type GateOverrideRow,
  gateOverrideRows,
  type RollbackRow,
  rollbackRows,
  summariseEvals,
} from '#lib/reports/autonomy-risk-review/tally.ts';
import {
  boundaryViolationsOf,
  type PeriodHeader,
  periodHeader,
  summariseWorkflow,
  type WorkflowSummary,
} from '#lib/reports/common.ts';
import {
  type BoundaryView,
  boundaryView,
  type DrillHistory,
  type DrillRow,
  drillHistory,
  type KillSwitchControl,
  type KillSwitchState,
  killSwitchControl,
} from '#lib/reports/governance/model.ts';
import type { PeriodToDate } from '#lib/reports/periods.ts';

/**
 * The monthly Autonomy + Risk Review: each workflow's autonomy boundary and who may flip its kill switch,
 * the switch's state now, eval results, the month's incidents and rollbacks (every recorded flip, with who
 * and why), and the month's drills with their times to effect. The model, from the tallies of ./tally.ts;
 * rendered by ./render.ts.
 */

export interface WeekViolations {
  readonly week: string;
  /** null: no KPI record for the week. */
  readonly killSwitchViolations: number | null;
  /** null: no record, or not tracked by it. */
  readonly boundaryViolations: number | null;
  /** Actions in a lane the rollout phase had not opened, counted from the events; null: not counted. */
  readonly rolloutPhaseViolations: number | null;
}

/** `drills`: the month's, newest first. */
export interface WorkflowRisk extends WorkflowSummary, DrillHistory {
  readonly boundary: BoundaryView;
  readonly killSwitch: { readonly flagKey: string } & KillSwitchControl;
  readonly evals: EvalSummary;
  /** The month's weeks (those whose Monday is in it, up to the report's week). */
  readonly violationsByWeek: WeekViolations[];
}

export interface AutonomyRiskReview extends PeriodHeader<'month'> {
  readonly report: 'autonomy-risk-review';
  readonly schemaVersion: 1;
  readonly killSwitch: KillSwitchState;
  readonly workflows: WorkflowRisk[];
  readonly rollbacks: RollbackRow[];
  /** Lanes switched off in the month other than by drills. */
  readonly incidents: number;
  // --- Incidents and postmortems (issue 10 item 3) ---
  /** The month's incidents with their postmortems, overdue ones flagged. */
  readonly incidentPostmortems: IncidentPostmortems;
  /** Rollout gates overridden in the month (`registry deploy --override`), oldest first. */
  readonly gateOverrides: GateOverrideRow[];
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
  // --- Incidents and postmortems (issue 10 item 3) ---
  /** The postmortems of the month's incidents, by incident ID; absent: no postmortem store connected. */
  readonly postmortems?: ReadonlyMap<string, Postmortem>;
  /** The month's `rollout-gates` unit `rollback` events (overrides) of every workflow; none when absent. */
  readonly gateOverrides?: readonly StoredEvent[];
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
    return {
      ...summariseWorkflow(workflow),
      boundary: boundaryView(workflow),
      killSwitch: { flagKey: workflow.workflowId, ...killSwitchControl(workflow, input.killSwitch) },
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
      ...drillHistory(input.drills.get(workflow.workflowId) ?? []),
    };
  });
  return {
    report: 'autonomy-risk-review',
    schemaVersion: 1,
    ...periodHeader('month', input.month, input.week, input.generatedAt),
    killSwitch: input.killSwitch,
    workflows,
    rollbacks,
    incidents: rollbacks.filter((row) => row.incident).length,
    incidentPostmortems: incidentPostmortems(
      input.rollbacks,
      input.postmortems,
      Date.parse(input.generatedAt),
    ),
    gateOverrides: gateOverrideRows(input.gateOverrides ?? []),
  };
}
