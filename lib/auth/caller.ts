import { UnknownWorkflowError, WorkflowNotAllowedError } from '#lib/errors.ts';
import type { Workflow, WorkflowRegistry } from '#lib/registry/workflows.ts';

/** Who is calling, and which workflows it may touch (`'*'`: every registered workflow). */
export interface Caller {
  readonly principal: string;
  readonly workflows: ReadonlySet<string> | '*';
}

export function mayAccess(caller: Caller, workflowId: string): boolean {
  return caller.workflows === '*' || caller.workflows.has(workflowId);
}

/** `'*'` or a comma-separated list, as the authorizer context and the CLI carry it. */
export function parseWorkflowScope(scope: string): ReadonlySet<string> | '*' {
  if (scope.trim() === '*') return '*';
  return new Set(
    scope
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id.length > 0),
  );
}

export function formatWorkflowScope(workflows: ReadonlySet<string> | '*'): string {
  return workflows === '*' ? '*' : [...workflows].sort().join(',');
}

/**
 * The registered workflow a request names, once the caller may touch it: an unknown workflow is reported
 * before a forbidden one (404, then 403).
 */
export function workflowForCaller(caller: Caller, workflowId: string, registry: WorkflowRegistry): Workflow {
  const workflow = registry.get(workflowId);
  if (!workflow) throw new UnknownWorkflowError(workflowId);
  if (!mayAccess(caller, workflowId)) throw new WorkflowNotAllowedError([workflowId]);
  return workflow;
}
