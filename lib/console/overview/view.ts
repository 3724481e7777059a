import type { AutonomyState } from '#lib/kill-switch/autonomy.ts';
import type { KpiStore } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { lastCompleteWeek, shiftWeek, weekBounds } from '#lib/kpi/weeks.ts';
import type { EventIndex, ViolationKind } from '#lib/ports.ts';
import type { RegistrySource, RolloutPhase } from '#lib/registry/workflows.ts';
import {
  type CostPerUnitWeek,
  type GovernanceReports,
  type ReportsReader,
  readCostPerUnitListing,
  readGovernanceReports,
} from './reports.ts';

/** How many weeks the page charts: the last complete week and the eleven before it. */
export const DASHBOARD_WEEKS = 12;

export interface DashboardDependencies {
  readonly registry: RegistrySource;
  readonly kpis: Pick<KpiStore, 'getRecord'>;
  /** The autonomy state as `GET /autonomy` reports it (the same flag reader, flip history and phase gate). */
  readonly autonomy: (workflowId: string, rolloutPhase: RolloutPhase) => Promise<AutonomyState>;
  /**
   * How many actions of the week ran in a lane the workflow's rollout phase had not opened (the events'
   * recorded violations: the KPI record does not count them). Without it the page does not show them.
   */
  readonly rolloutPhaseViolations?: (workflowId: string, week: string) => Promise<number>;
  readonly reports: ReportsReader;
  readonly clock: () => Date;
  /** A store that has not answered by then is reported on the page instead of holding it up. */
  readonly timeoutMs: number;
}

/** Either what was read, or why it could not be. */
export type Loaded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

export interface WeekKpis {
  readonly week: string;
  readonly record: KpiRecord | undefined;
}

export interface WorkflowView {
  readonly workflowId: string;
  readonly unitOfValue: string;
  readonly owner: string;
  readonly rolloutPhase: RolloutPhase;
  readonly autonomy: Loaded<AutonomyState>;
  /** Rollout-phase violations in the page's week; null when the page has no way to count them. */
  readonly rolloutPhaseViolations: Loaded<number> | null;
  /** The last DASHBOARD_WEEKS weeks, oldest first; a week without a record is a gap. */
  readonly weeks: Loaded<WeekKpis[]>;
}

export interface DashboardView {
  readonly generatedAt: string;
  /** The last complete ISO week, whose KPIs the page leads with. */
  readonly week: string;
  readonly weekStart: string;
  readonly weekEnd: string;
  readonly workflows: WorkflowView[];
  readonly governance: Loaded<GovernanceReports>;
  readonly costPerUnit: Loaded<{ weeks: CostPerUnitWeek[]; totalWeeks: number; truncated: boolean }>;
}

/**
 * Everything the page shows, read in parallel. It never throws: a store that fails or is slow shows as an
 * error in its own part of the page, and the rest still renders.
 */
export async function loadDashboard(
  deps: DashboardDependencies,
  /** The workflows the person may see (the rest are neither read nor shown); every one when absent. */
  shows: (workflowId: string) => boolean = () => true,
): Promise<DashboardView> {
  const now = deps.clock();
  const week = lastCompleteWeek(now.getTime());
  const weeks = Array.from({ length: DASHBOARD_WEEKS }, (_, i) => shiftWeek(week, i - (DASHBOARD_WEEKS - 1)));
  const registry = await deps.registry.current();
  const bounded = <T>(what: string, work: () => Promise<T>) => settle(what, work, deps.timeoutMs);

  const [workflows, governance, costPerUnit] = await Promise.all([
    Promise.all(
      registry
        .all()
        .filter((workflow) => shows(workflow.workflowId))
        .map(async (workflow): Promise<WorkflowView> => {
          const countViolations = deps.rolloutPhaseViolations;
          const [autonomy, kpiWeeks, rolloutPhaseViolations] = await Promise.all([
            bounded('the kill-switch flags', () => deps.autonomy(workflow.workflowId, workflow.rolloutPhase)),
            bounded('the KPI store', () =>
              Promise.all(
                weeks.map(async (w) => ({
                  week: w,
                  record: await deps.kpis.getRecord(workflow.workflowId, w),
                })),
              ),
            ),
            countViolations
              ? bounded('the event index (rollout-phase violations)', () =>
                  countViolations(workflow.workflowId, week),
                )
              : null,
          ]);
          return {
            workflowId: workflow.workflowId,
            unitOfValue: workflow.unitOfValue,
            owner: workflow.owner,
            rolloutPhase: workflow.rolloutPhase,
            autonomy,
            weeks: kpiWeeks,
            rolloutPhaseViolations,
          };
        }),
    ),
    bounded('the reports bucket (governance reports)', () => readGovernanceReports(deps.reports)),
    bounded('the reports bucket (cost-per-unit reports)', () =>
      readCostPerUnitListing(deps.reports, DASHBOARD_WEEKS),
    ),
  ]);

  const { startMs, endMs } = weekBounds(week);
  return {
    generatedAt: now.toISOString(),
    week,
    weekStart: new Date(startMs).toISOString(),
    weekEnd: new Date(endMs).toISOString(),
    workflows,
    governance,
    costPerUnit,
  };
}

async function settle<T>(what: string, work: () => Promise<T>, timeoutMs: number): Promise<Loaded<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return { ok: true, value: await Promise.race([work(), timeout]) };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { ok: false, error: `could not read ${what}: ${message}` };
  } finally {
    clearTimeout(timer);
  }
}
/** The week's actions marked with a violation of one kind (a filtered read of the time index). */
export async function countViolations(
  index: EventIndex,
  workflowId: string,
  week: string,
  kind: ViolationKind,
): Promise<number> {
  const { startMs, endMs } = weekBounds(week);
  let count = 0;
  const marked = index.events({
    workflowId,
    fromMs: startMs,
    toMs: endMs,
    onlyViolations: kind,
    nowSeconds: Math.floor(Date.now() / 1000),
  });
  for await (const _ of marked) count++;
  return count;
}
