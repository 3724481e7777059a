import type { KpiRecord } from '#lib/kpi/record.ts';
import type { Workflow } from '#lib/registry/workflows.ts';
import type { PeriodToDate } from '#lib/reports/periods.ts';

/** What the report models share: how they name a workflow, the period they cover, and small arithmetic. */

/** What every report says about a workflow to name it: from the registry, as configured. */
export interface WorkflowSummary {
  readonly workflowId: string;
  readonly unitOfValue: string;
  readonly owner: string;
  readonly rolloutPhase: string;
}

export function summariseWorkflow(workflow: Workflow): WorkflowSummary {
  return {
    workflowId: workflow.workflowId,
    unitOfValue: workflow.unitOfValue,
    owner: workflow.owner,
    rolloutPhase: workflow.rolloutPhase,
  };
}

export type PeriodKind = 'month' | 'quarter';

/**
 * How a monthly or quarterly report opens: the period (`month`, `monthStart`, `monthEnd`, or the same for
 * `quarter`), how far its figures reach, and the run that wrote it.
 */
export type PeriodHeader<K extends PeriodKind> = { readonly [P in K | `${K}Start` | `${K}End`]: string } & {
  /** The figures cover the period up to here: the end of `week`, or the period's end. */
  readonly asOf: string;
  readonly complete: boolean;
  /** The week whose run wrote it. */
  readonly week: string;
  readonly generatedAt: string;
};

export function periodHeader<K extends PeriodKind>(
  kind: K,
  period: PeriodToDate,
  week: string,
  generatedAt: string,
): PeriodHeader<K> {
  return {
    [kind]: period.name,
    [`${kind}Start`]: new Date(period.startMs).toISOString(),
    [`${kind}End`]: new Date(period.endMs).toISOString(),
    asOf: new Date(period.asOfMs).toISOString(),
    complete: period.complete,
    week,
    generatedAt,
  } as PeriodHeader<K>;
}

/** A record computed before boundary checks existed has no count (null): undefined, shown as "not tracked". */
export function boundaryViolationsOf(record: KpiRecord): number | undefined {
  return record.boundaryViolations ?? undefined;
}

export const round6 = (value: number) => Math.round(value * 1e6) / 1e6;

/** The middle value (mean of the two middle ones for an even count); undefined for none. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Total order on strings for sorting that does not depend on the locale. */
export const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
