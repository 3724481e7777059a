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

/** The replay fields of a tool call, the only ones a tool or agent span's action is counted for. */
export const TOOL_CALL_AUDIT_FIELDS: readonly AuditField[] = [
  'toolCalls[].endpoint',
  'toolCalls[].parameters',
  'toolCalls[].outcome',
];

/**
 * Whether an action is an agent step, the unit of audit coverage. Traces split one step into spans: the
 * model call is the step, and the tool executions and agent invocations around it are actions of their own
 * (`metadata.otel.kind` `tool` or `agent`, lib/otlp/map-spans.ts) so that their tools are costed. Those
 * are not steps: counting them would make a traced step weigh three and penalize it per span. They count
 * neither in `actions` nor in `replayableActions`; only their tool calls' missing endpoint, parameters or
 * outcome are added to `missingFields`, so a tool call without an endpoint still shows. Every action sent
 * without `metadata.otel.kind` (all of /v1/events) is a step, exactly as before.
 */
export function isAgentStep(action: ActionEvent): boolean {
  const otel = action.metadata?.otel;
  if (typeof otel !== 'object' || otel === null) return true;
  const kind = (otel as { kind?: unknown }).kind;
  return kind !== 'tool' && kind !== 'agent';
}

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
