import type { LedgerEvent } from '#lib/events/schema.ts';

type ActionEvent = Extract<LedgerEvent, { type: 'action' }>;

/** The fields an action needs to be replayable (SPEC "KPIs", auditCoverage), each counted when missing. */
export const AUDIT_FIELDS = [
  'prompt.templateVersion',
  'model.name',
  'model.version',
  'retrieval',
  'toolCalls',
  'toolCalls[].endpoint',
  'toolCalls[].parameters',
  'toolCalls[].outcome',
  'output',
  'flag',
  'approval',
] as const;
export type AuditField = (typeof AUDIT_FIELDS)[number];

/** The replay fields this action lacks; none means it is replayable. */
export function missingAuditFields(action: ActionEvent): AuditField[] {
  const missing: AuditField[] = [];
  // An empty string or null says as little as an absent field, so it counts as missing everywhere.
  if (isBlank(action.prompt?.templateVersion)) missing.push('prompt.templateVersion');
  if (!action.model?.name) missing.push('model.name');
  if (!action.model?.version) missing.push('model.version');
  if (action.retrieval === undefined) missing.push('retrieval');
  if (action.toolCalls === undefined) missing.push('toolCalls');
  const calls = action.toolCalls ?? [];
  if (calls.some((call) => !call.endpoint)) missing.push('toolCalls[].endpoint');
  if (calls.some((call) => call.parameters === undefined || call.parameters === null)) {
    missing.push('toolCalls[].parameters');
  }
  if (calls.some((call) => call.outcome === undefined)) missing.push('toolCalls[].outcome');
  const output = action.output;
  if (
    !output ||
    !(output.text !== undefined || (output.ref !== undefined && output.contentHash !== undefined))
  ) {
    missing.push('output');
  }
  if (!action.flag) missing.push('flag');
  if (action.lane === 'hitl' && !action.approval) missing.push('approval');
  return missing;
}

function isBlank(value: string | number | undefined | null): boolean {
  return value === undefined || value === null || value === '';
}
