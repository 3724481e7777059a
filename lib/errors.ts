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

/**
 * The workflow registry cannot be read (AppConfig unreachable, nothing deployed, or a deployed version
 * that does not validate, with no good version read before). Nothing was stored; a retry is safe.
 */
export class RegistryUnavailableError extends Error {
  override name = 'RegistryUnavailableError';
}
