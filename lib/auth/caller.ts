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

export class WorkflowNotAllowedError extends Error {
  override name = 'WorkflowNotAllowedError';
  constructor(readonly workflowIds: readonly string[]) {
    super(`this caller may not touch workflow ${workflowIds.map((id) => `'${id}'`).join(', ')}`);
  }
}
