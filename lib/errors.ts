import type { ValidationIssue } from '#lib/events/validate.ts';

/**
 * The domain's errors: what a use case throws when it cannot answer. Each is mapped to its HTTP status in
 * one table of the handler layer (`functions/commons/http.ts`), and nowhere else.
 */

/** The request breaks the contract; `issues` say where. Nothing of it was stored. */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
  constructor(
    message: string,
    readonly issues: readonly ValidationIssue[] = [],
  ) {
    super(message);
  }
}

export class UnknownWorkflowError extends Error {
  override name = 'UnknownWorkflowError';
  constructor(readonly workflowId: string) {
    super(`workflow '${workflowId}' is not registered`);
  }
}

/** The caller is known, but not registered for these workflows. */
export class WorkflowNotAllowedError extends Error {
  override name = 'WorkflowNotAllowedError';
  constructor(readonly workflowIds: readonly string[]) {
    super(`this caller may not touch workflow ${workflowIds.map((id) => `'${id}'`).join(', ')}`);
  }
}

/** The KPI job has not computed this workflow's week (yet). */
export class KpisNotComputedError extends Error {
  override name = 'KpisNotComputedError';
  constructor(workflowId: string, week: string) {
    super(
      `no KPIs for ${workflowId} in ${week} yet: the KPI job computes each week after it ends (locally: agent-ledger jobs kpi --week ${week})`,
    );
  }
}

/** No incident of the workflows one may see has this ID. */
export class UnknownIncidentError extends Error {
  override name = 'UnknownIncidentError';
  constructor(readonly incidentId: string) {
    super(`no incident ${incidentId}: list them with agent-ledger incidents list`);
  }
}

/**
 * The workflow registry cannot be read (AppConfig unreachable, nothing deployed, or a deployed version
 * that does not validate, with no good version read before). Nothing was stored; a retry is safe.
 */
export class RegistryUnavailableError extends Error {
  override name = 'RegistryUnavailableError';
}

/** The message of anything thrown: an Error's (or an error-like object's) message, else the value as text. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (
    typeof error === 'object' &&
    error !== null &&
    'message' in error &&
    typeof error.message === 'string'
  ) {
    return error.message;
  }
  return String(error);
}
