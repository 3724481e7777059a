import type { Workflow } from '#lib/registry/workflows.ts';

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
