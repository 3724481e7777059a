import type { ValidationIssue } from '#lib/events/validate.ts';

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
