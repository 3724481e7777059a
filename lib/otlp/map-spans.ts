import type { PersonField } from '#lib/events/actor-hashing.ts';
import type { OtlpAttributes, OtlpSpan, OtlpSpanEvent, OtlpValue, RejectedSpan } from '#lib/otlp/spans.ts';

/**
 * Ledger events from OTLP spans (README "Send traces from your agent framework"): OpenTelemetry GenAI attributes (current and
 * deprecated names), OpenInference attributes and the Vercel AI SDK's `ai.*` spans map to the action
 * fields of SPEC "Ingest". Each span is mapped alone — children are exported before their parents and in
 * other requests — so nothing here looks at another span.
 *
 * - eventId `otel:<traceId>:<spanId>` for the span's action and `otel:<traceId>:<spanId>:unit` for the
 *   unit event `agent_ledger.unit.status` asks for: a re-export is a duplicate, never a second count.
 * - One span gives at most one action, so every model call and tool call is costed once. A model call is
 *   the agent step; tool executions and agent invocations are actions too (so tools are costed and every
 *   span can be audited), told apart by `metadata.otel.kind` (see `isAgentStep` in lib/kpi/audit.ts).
 * - A model-call step carries `toolCalls: []`: the tools it asked for run in their own spans, each of
 *   which is its own action with its own tool call.
 * - Beyond the attribute list: OpenInference's `session.id` places a span after
 *   `gen_ai.conversation.id`; `agent_ledger.model.version` overrides the model version (else the response
 *   model); `agent_ledger.tool.endpoint` overrides the endpoint read from `url.full`, `server.address`...
 */

export interface SpanMapping {
  /** Ledger events in the /v1/events shape (plain objects, not yet validated), each with the span it came from. */
  readonly events: readonly { readonly span: OtlpSpan; readonly event: Record<string, unknown> }[];
  /** Agent spans that cannot be placed (no workflow, no unit) or mapped, with the reason. */
  readonly rejected: readonly RejectedSpan[];
  /** Spans that are not agent spans at all (an HTTP client span, a DB span): neither stored nor rejected. */
  readonly ignored: number;
}

/** What `metadata.otel` says of a trace-derived action. */
export type OtelSpanKind = 'model' | 'tool' | 'agent';

/**
 * Attributes that name a person, and the field each is hashed as. `user.id` is also OpenInference's; the
 * `enduser.*` names are OpenTelemetry's; `langfuse.user.id` is what Langfuse's SDKs set. The user ID of an
 * action is the first of `USER_ID_KEYS` present; names and e-mail addresses are only ever redacted.
 */
export const PERSONAL_ATTRIBUTES: Readonly<Record<string, PersonField>> = {
  'user.id': 'userId',
  'enduser.id': 'userId',
  'enduser.pseudo.id': 'userId',
  'langfuse.user.id': 'userId',
  'user.email': 'userId',
  'user.name': 'userId',
  'user.full_name': 'userId',
  'agent_ledger.customer.id': 'customerId',
};
const USER_ID_KEYS = ['user.id', 'enduser.id', 'enduser.pseudo.id', 'langfuse.user.id'] as const;
const CUSTOMER_ID_KEY = 'agent_ledger.customer.id';

const MODEL_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content', 'embeddings']);
/** GenAI operations that are neither a step nor a cost: accepted and not stored. */
const IGNORED_OPERATIONS = new Set(['create_agent']);
/** The Vercel AI SDK's provider-call spans (`ai.operationId`); its `ai.toolCall` spans are tool executions. */
const VERCEL_MODEL_OPERATIONS = new Set([
  'ai.generateText.doGenerate',
  'ai.streamText.doStream',
  'ai.generateObject.doGenerate',
  'ai.streamObject.doStream',
  'ai.embed.doEmbed',
  'ai.embedMany.doEmbed',
]);
/** OpenInference kinds that are no action of their own (a chain, a reranker, a guardrail check...). */
const IGNORED_OPENINFERENCE_KINDS = new Set([
  'CHAIN',
  'RERANKER',
  'GUARDRAIL',
  'EVALUATOR',
  'PROMPT',
  'UNKNOWN',
]);
const UNIT_STATUSES = new Set(['started', 'completed', 'escalated']);
const STATUS_ERROR = 2;

type Role = OtelSpanKind | 'retrieval';
type Classification = { readonly role: Role } | { readonly ignored: true } | { readonly problem: string };

class UnmappableSpanError extends Error {}

export function eventsFromSpans(spans: readonly OtlpSpan[]): SpanMapping {
  const events: { span: OtlpSpan; event: Record<string, unknown> }[] = [];
  const rejected: RejectedSpan[] = [];
  let ignored = 0;
  for (const span of spans) {
    const result = eventsFromSpan(span);
    if (result === 'ignored') ignored++;
    else if (typeof result === 'string')
      rejected.push({ traceId: span.traceId, spanId: span.spanId, reason: result });
    else for (const event of result) events.push({ span, event });
  }
  return { events, rejected, ignored };
}

/** The span's events, a reason to reject it, or 'ignored' for a span that is no agent's. */
function eventsFromSpan(span: OtlpSpan): Record<string, unknown>[] | string | 'ignored' {
  const classification = classify(span.attributes);
  const unitStatus = span.attributes['agent_ledger.unit.status'];
  if ('ignored' in classification && unitStatus === undefined) return 'ignored';
  if ('problem' in classification) return classification.problem;
  if (unitStatus !== undefined && !(typeof unitStatus === 'string' && UNIT_STATUSES.has(unitStatus))) {
    return `agent_ledger.unit.status must be started, completed or escalated, not ${JSON.stringify(unitStatus)}`;
  }
  const workflowId =
    stringAttribute(span.attributes, 'agent_ledger.workflow.id') ??
    stringAttribute(span.resource, 'agent_ledger.workflow.id');
  if (workflowId === undefined) return 'no agent_ledger.workflow.id on the span or its resource';
  const unitId =
    stringAttribute(span.attributes, 'agent_ledger.unit.id') ??
    stringAttribute(span.resource, 'agent_ledger.unit.id') ??
    stringAttribute(span.attributes, 'gen_ai.conversation.id') ??
    stringAttribute(span.attributes, 'session.id');
  if (unitId === undefined) {
    return 'no agent_ledger.unit.id on the span or its resource, and no gen_ai.conversation.id or session.id on the span';
  }
  if (span.endTimeUnixNano <= 0n) return 'the span has no end time';
  const base = {
    workflowId,
    unitId,
    occurredAt: rfc3339FromUnixNano(span.endTimeUnixNano),
  };
  const eventId = `otel:${span.traceId}:${span.spanId}`;
  const events: Record<string, unknown>[] = [];
  try {
    if ('role' in classification)
      events.push({ eventId, type: 'action', ...base, ...actionFields(span, classification.role) });
  } catch (error) {
    if (error instanceof UnmappableSpanError) return error.message;
    throw error;
  }
  if (typeof unitStatus === 'string')
    events.push(unitEvent(span, unitStatus, { eventId: `${eventId}:unit`, ...base }));
  return events;
}

function classify(attributes: OtlpAttributes): Classification {
  const operation = attributes['gen_ai.operation.name'];
  if (typeof operation === 'string') {
    if (MODEL_OPERATIONS.has(operation)) return { role: 'model' };
    if (operation === 'execute_tool') return { role: 'tool' };
    if (operation === 'invoke_agent') return { role: 'agent' };
    if (operation === 'retrieval') return { role: 'retrieval' };
    if (IGNORED_OPERATIONS.has(operation)) return { ignored: true };
    return {
      problem: `gen_ai.operation.name '${operation}' is not a model call, tool execution or agent invocation`,
    };
  }
  const kind = attributes['openinference.span.kind'];
  if (typeof kind === 'string') {
    const upper = kind.toUpperCase();
    if (upper === 'LLM' || upper === 'EMBEDDING') return { role: 'model' };
    if (upper === 'TOOL') return { role: 'tool' };
    if (upper === 'AGENT') return { role: 'agent' };
    if (upper === 'RETRIEVER') return { role: 'retrieval' };
    if (IGNORED_OPENINFERENCE_KINDS.has(upper)) return { ignored: true };
    return { problem: `openinference.span.kind '${kind}' is not LLM, EMBEDDING, TOOL, AGENT or RETRIEVER` };
  }
  const vercel = attributes['ai.operationId'];
  if (typeof vercel === 'string') {
    if (VERCEL_MODEL_OPERATIONS.has(vercel)) return { role: 'model' };
    if (vercel === 'ai.toolCall') return { role: 'tool' };
  }
  const genAiKeys = Object.keys(attributes).filter((key) => key.startsWith('gen_ai.'));
  if (genAiKeys.length === 0) return { ignored: true };
  // GenAI attributes without an operation name (older instrumentations): what they describe decides.
  if (genAiKeys.some((key) => key.startsWith('gen_ai.usage.') || key.endsWith('.model')))
    return { role: 'model' };
  if (attributes['gen_ai.tool.name'] !== undefined) return { role: 'tool' };
  if (genAiKeys.some((key) => key.startsWith('gen_ai.agent.'))) return { role: 'agent' };
  return {
    problem: 'a span with gen_ai.* attributes but no gen_ai.operation.name, model, usage, tool or agent',
  };
}

function actionFields(span: OtlpSpan, role: Role): Record<string, unknown> {
  const a = span.attributes;
  const fields: Record<string, unknown> = {};
  const agent = agentOf(a);
  if (agent) fields.agent = agent;
  const lane = first(a, ['agent_ledger.lane']) ?? first(span.resource, ['agent_ledger.lane']);
  if (lane !== undefined) fields.lane = lane;
  // The span's own: a flag on the resource would be read once per process, not before each action.
  const flag = flagOf(a);
  if (flag) fields.flag = flag;
  const actor = actorOf(span);
  if (actor) fields.actor = actor;
  if (role === 'model') Object.assign(fields, modelCallFields(span));
  if (role === 'tool') fields.toolCalls = [toolCallOf(span)];
  const retrieval = retrievalOf(a);
  if (retrieval) fields.retrieval = retrieval;
  const durationMs = durationMsOf(span);
  if (durationMs !== undefined) fields.durationMs = durationMs;
  const otel: Record<string, unknown> = { traceId: span.traceId, spanId: span.spanId };
  if (span.parentSpanId !== undefined) otel.parentSpanId = span.parentSpanId;
  otel.kind = role === 'retrieval' ? 'tool' : role;
  otel.scope = { ...span.scope };
  const metadata: Record<string, unknown> = { otel };
  const evaluations = spanEventsNamed(span, (name) => name === 'gen_ai.evaluation.result');
  if (evaluations.length > 0) metadata.evaluations = evaluations;
  const guardrails = spanEventsNamed(span, (name) => name.toLowerCase().includes('guardrail'));
  if (guardrails.length > 0) metadata.guardrails = guardrails;
  fields.metadata = metadata;
  return fields;
}

function modelCallFields(span: OtlpSpan): Record<string, unknown> {
  const a = span.attributes;
  const fields: Record<string, unknown> = {};
  const model: Record<string, unknown> = {};
  const provider = first(a, ['gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system']);
  const responseModel = first(a, ['gen_ai.response.model', 'llm.response.model_name']);
  const name =
    responseModel ??
    first(a, ['gen_ai.request.model', 'llm.model_name', 'llm.request.model_name', 'embedding.model_name']);
  // The response model is the snapshot that answered (gpt-4o-2024-08-06): the version a replay needs.
  const version = first(a, ['agent_ledger.model.version']) ?? responseModel;
  if (provider !== undefined) model.provider = String(provider);
  if (name !== undefined) model.name = String(name);
  if (version !== undefined) model.version = String(version);
  if (Object.keys(model).length > 0) fields.model = model;
  const usage = usageOf(a);
  if (usage) fields.usage = usage;
  const templateId = first(a, ['gen_ai.prompt.name', 'prompt.id']);
  const templateVersion = first(a, ['gen_ai.prompt.version', 'llm.prompt_template.version']);
  if (templateId !== undefined || templateVersion !== undefined) {
    const prompt: Record<string, unknown> = {};
    if (templateId !== undefined) prompt.templateId = String(templateId);
    if (templateVersion !== undefined) prompt.templateVersion = scalar(templateVersion);
    fields.prompt = prompt;
  }
  fields.toolCalls = [];
  const text = outputTextOf(span);
  if (text !== undefined) fields.output = { text };
  return fields;
}

const INPUT_TOKEN_KEYS = [
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.prompt_tokens',
  'llm.token_count.prompt',
];
const OUTPUT_TOKEN_KEYS = [
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.completion_tokens',
  'llm.token_count.completion',
];
const CACHED_TOKEN_KEYS = [
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.cache_read_input_tokens',
  'llm.token_count.prompt_details.cache_read',
];

/** Both conventions count cached tokens inside the input figure; the ledger's `inputTokens` excludes them. */
function usageOf(a: OtlpAttributes): Record<string, number> | undefined {
  const input = tokenCount(a, INPUT_TOKEN_KEYS);
  const output = tokenCount(a, OUTPUT_TOKEN_KEYS);
  const cached = tokenCount(a, CACHED_TOKEN_KEYS);
  if (input === undefined && output === undefined && cached === undefined) return undefined;
  const inputWithCached = input ?? 0;
  if (cached !== undefined && cached > inputWithCached) {
    throw new UnmappableSpanError(
      `${cached} cached input tokens exceed the span's ${inputWithCached} input tokens, which include them`,
    );
  }
  const usage: Record<string, number> = {
    inputTokens: inputWithCached - (cached ?? 0),
    outputTokens: output ?? 0,
  };
  if (cached !== undefined) usage.cachedInputTokens = cached;
  return usage;
}

function tokenCount(a: OtlpAttributes, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const value = a[key];
    if (value === undefined || value === null) continue;
    const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
      throw new UnmappableSpanError(`${key} must be a non-negative integer, not ${JSON.stringify(value)}`);
    }
    return number;
  }
  return undefined;
}

function toolCallOf(span: OtlpSpan): Record<string, unknown> {
  const a = span.attributes;
  const name = first(a, ['gen_ai.tool.name', 'tool.name', 'ai.toolCall.name']);
  if (typeof name !== 'string' || name === '') {
    throw new UnmappableSpanError('a tool execution without gen_ai.tool.name or tool.name');
  }
  const call: Record<string, unknown> = { name };
  const endpoint = endpointOf(a);
  if (endpoint !== undefined) call.endpoint = endpoint;
  const parameters = first(a, [
    'gen_ai.tool.call.arguments',
    'ai.toolCall.args',
    'tool.parameters',
    'input.value',
  ]);
  if (parameters !== undefined && parameters !== null) call.parameters = jsonOrAsIs(parameters);
  if (span.status.code === STATUS_ERROR) {
    call.outcome = 'failure';
    const errorCode = first(a, ['error.type']);
    if (errorCode !== undefined) call.errorCode = String(errorCode);
  } else {
    call.outcome = 'success';
  }
  const durationMs = durationMsOf(span);
  if (durationMs !== undefined) call.durationMs = durationMs;
  return call;
}

/** Where a tool call went: an explicit endpoint, a URL, a server address, an RPC method, an MCP server. */
function endpointOf(a: OtlpAttributes): string | undefined {
  const explicit = first(a, ['agent_ledger.tool.endpoint', 'url.full', 'http.url']);
  if (typeof explicit === 'string' && explicit !== '') return explicit;
  const address = first(a, ['server.address']);
  if (typeof address === 'string' && address !== '') {
    const port = first(a, ['server.port']);
    return port === undefined ? address : `${address}:${String(port)}`;
  }
  const service = first(a, ['rpc.service']);
  if (typeof service === 'string' && service !== '') {
    const method = first(a, ['rpc.method']);
    return method === undefined ? service : `${service}/${String(method)}`;
  }
  const mcpMethod = first(a, ['mcp.method.name']);
  const mcpSession = first(a, ['mcp.session.id']);
  if (typeof mcpMethod === 'string' && typeof mcpSession === 'string')
    return `mcp:${mcpSession}:${mcpMethod}`;
  return undefined;
}

function agentOf(a: OtlpAttributes): Record<string, string> | undefined {
  const id = first(a, ['gen_ai.agent.id', 'gen_ai.agent.name', 'agent.name']);
  if (id === undefined || id === null || id === '') return undefined;
  const agent: Record<string, string> = { id: String(id) };
  const version = first(a, ['gen_ai.agent.version']);
  if (version !== undefined && version !== null) agent.version = String(version);
  return agent;
}

function flagOf(a: OtlpAttributes): Record<string, unknown> | undefined {
  const version = a['agent_ledger.flag.version'];
  const checkedAt = a['agent_ledger.flag.checked_at'];
  if (version === undefined && checkedAt === undefined) return undefined;
  // Passed on as sent: a half flag fails validation with the field's name, which tells the agent more.
  const flag: Record<string, unknown> = {};
  if (version !== undefined) flag.version = version;
  if (checkedAt !== undefined) flag.checkedAt = checkedAt;
  return flag;
}

/** The user and customer an action was for (raw here: the ingest use case hashes them). */
function actorOf(span: OtlpSpan): Record<string, string> | undefined {
  const pick = (keys: readonly string[]) => {
    const value = first(span.attributes, keys) ?? first(span.resource, keys);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const userId = pick(USER_ID_KEYS);
  const customerId = pick([CUSTOMER_ID_KEY]);
  if (userId === undefined && customerId === undefined) return undefined;
  const actor: Record<string, string> = {};
  if (userId !== undefined) actor.userId = userId;
  if (customerId !== undefined) actor.customerId = customerId;
  return actor;
}

/** `[]` is never made up here: a span that says nothing of retrieval leaves the field out. */
function retrievalOf(a: OtlpAttributes): Record<string, string>[] | undefined {
  const items: Record<string, string>[] = [];
  const dataSource = a['gen_ai.data_source.id'];
  if (dataSource !== undefined && dataSource !== null && dataSource !== '') {
    items.push({ kind: 'data_source', id: String(dataSource) });
  }
  const documents = a['gen_ai.retrieval.documents'] ?? a['retrieval.documents'];
  if (documents !== undefined) {
    const list = jsonOrAsIs(documents);
    for (const document of Array.isArray(list) ? list : [list]) {
      const item = documentOf(document);
      if (item) items.push(item);
    }
  }
  // OpenInference flattens lists: retrieval.documents.0.document.id, retrieval.documents.0.document.score...
  const flattened = new Map<number, Record<string, unknown>>();
  for (const [key, value] of Object.entries(a)) {
    const match = /^retrieval\.documents\.(\d+)\.document\.(.+)$/.exec(key);
    if (!match) continue;
    const index = Number(match[1]);
    const entry = flattened.get(index) ?? {};
    entry[match[2] as string] = value;
    flattened.set(index, entry);
  }
  for (const index of [...flattened.keys()].sort((x, y) => x - y)) {
    const item = documentOf(flattened.get(index));
    if (item) items.push(item);
  }
  return items.length > 0 || documents !== undefined ? items : undefined;
}

function documentOf(document: unknown): Record<string, string> | undefined {
  if (typeof document === 'string' || typeof document === 'number')
    return { kind: 'document', id: String(document) };
  if (!isRecord(document)) return undefined;
  const inner = isRecord(document.document) ? document.document : document;
  const id = inner.id ?? inner['document.id'];
  if (id === undefined || id === null || id === '') return undefined;
  const item: Record<string, string> = { kind: 'document', id: String(id) };
  const metadata = jsonOrAsIs(inner.metadata ?? inner['document.metadata']);
  const uri =
    inner.uri ??
    inner.url ??
    (isRecord(metadata) ? (metadata.uri ?? metadata.url ?? metadata.source) : undefined);
  if (typeof uri === 'string' && uri !== '') item.uri = uri;
  return item;
}

/** Output text, present only when the agent opted in to send message content. */
function outputTextOf(span: OtlpSpan): string | undefined {
  const a = span.attributes;
  const fromMessages = messagesText(a['gen_ai.output.messages']);
  if (fromMessages !== undefined) return fromMessages;
  const flattened = flattenedMessagesText(a, 'llm.output_messages');
  if (flattened !== undefined) return flattened;
  const value = first(a, ['output.value', 'ai.response.text', 'gen_ai.completion']);
  if (typeof value === 'string') return value;
  for (const event of span.events) {
    if (event.name === 'gen_ai.choice' || event.name === 'gen_ai.content.completion') {
      const text =
        messageText(
          jsonOrAsIs(
            event.attributes.message ?? event.attributes['gen_ai.completion'] ?? event.attributes.content,
          ),
        ) ?? undefined;
      if (text !== undefined) return text;
    }
  }
  return undefined;
}

/** GenAI `gen_ai.output.messages`: `[{role, parts: [{type: 'text', content}], finish_reason}]`. */
function messagesText(value: OtlpValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  const messages = jsonOrAsIs(value);
  const texts = (Array.isArray(messages) ? messages : [messages])
    .map(messageText)
    .filter((t) => t !== undefined);
  return texts.length > 0 ? texts.join('\n') : undefined;
}

function messageText(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) {
    const texts = message.map(messageText).filter((t) => t !== undefined);
    return texts.length > 0 ? texts.join('\n') : undefined;
  }
  if (!isRecord(message)) return undefined;
  if (Array.isArray(message.parts)) {
    const texts = message.parts
      .filter((part) => isRecord(part) && (part.type === undefined || part.type === 'text'))
      .map((part) => (part as Record<string, unknown>).content)
      .filter((content): content is string => typeof content === 'string');
    return texts.length > 0 ? texts.join('\n') : undefined;
  }
  if (typeof message.text === 'string') return message.text;
  if (message.content !== undefined) return messageText(message.content);
  if (message.message !== undefined) return messageText(message.message);
  return undefined;
}

/** OpenInference: `llm.output_messages.0.message.content` or `…message.contents.0.message_content.text`. */
function flattenedMessagesText(a: OtlpAttributes, prefix: string): string | undefined {
  const parts: { key: string; text: string }[] = [];
  const pattern = new RegExp(
    `^${prefix.replaceAll('.', '\\.')}\\.(\\d+)\\.message\\.(?:content|contents\\.(\\d+)\\.message_content\\.text)$`,
  );
  for (const [key, value] of Object.entries(a)) {
    const match = pattern.exec(key);
    if (match && typeof value === 'string') {
      parts.push({ key: `${match[1]?.padStart(6, '0')}.${(match[2] ?? '').padStart(6, '0')}`, text: value });
    }
  }
  if (parts.length === 0) return undefined;
  return parts
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    .map((part) => part.text)
    .join('\n');
}

/** Evaluation results and guardrail outcomes a span carries as events, with nothing personal in them. */
function spanEventsNamed(span: OtlpSpan, test: (name: string) => boolean): Record<string, unknown>[] {
  return span.events
    .filter((event) => test(event.name))
    .map((event: OtlpSpanEvent) => {
      const attributes = Object.fromEntries(
        Object.entries(event.attributes).filter(([key]) => personalField(key) === undefined),
      );
      return { name: event.name, at: rfc3339FromUnixNano(event.timeUnixNano), attributes };
    });
}

function unitEvent(span: OtlpSpan, status: string, base: Record<string, unknown>): Record<string, unknown> {
  const otel: Record<string, unknown> = { traceId: span.traceId, spanId: span.spanId };
  if (span.parentSpanId !== undefined) otel.parentSpanId = span.parentSpanId;
  otel.scope = { ...span.scope };
  const { eventId, ...place } = base;
  const event: Record<string, unknown> = { eventId, type: `unit.${status}`, ...place };
  const actor = actorOf(span);
  if (actor) event.actor = actor;
  if (status === 'completed') {
    const outcome = first(span.attributes, ['agent_ledger.unit.outcome']);
    if (outcome !== undefined && outcome !== null) event.outcome = String(outcome);
  }
  if (status === 'escalated') {
    const reason = first(span.attributes, ['agent_ledger.unit.escalation_reason']);
    event.reason =
      typeof reason === 'string' && reason !== ''
        ? reason
        : span.status.message
          ? span.status.message
          : `escalated by span '${span.name}' (no agent_ledger.unit.escalation_reason given)`;
  }
  event.metadata = { otel };
  return event;
}

/**
 * A copy with every personal attribute (span, resource, span events) replaced by the hasher's digest, so
 * the archive never holds a raw value. Nested key-value lists are searched by their dotted path too, and a
 * personal name at the end of a longer path (`langfuse.user.id`, `app.user.email`) counts as well.
 */
export function redactSpan(span: OtlpSpan, hash: (field: PersonField, rawValue: string) => string): OtlpSpan {
  return {
    ...span,
    attributes: redactAttributes(span.attributes, '', hash),
    resource: redactAttributes(span.resource, '', hash),
    events: span.events.map((event) => ({
      ...event,
      attributes: redactAttributes(event.attributes, '', hash),
    })),
  };
}

function redactAttributes(
  attributes: OtlpAttributes,
  prefix: string,
  hash: (field: PersonField, rawValue: string) => string,
): OtlpAttributes {
  const result: Record<string, OtlpValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    const path = `${prefix}${key}`;
    const field = personalField(path);
    result[key] =
      field !== undefined ? redactValue(value, field, hash) : redactNested(value, `${path}.`, hash);
  }
  return result;
}

/** The person a dotted attribute path names: `user.id`, or `user.id` nested anywhere (`ctx.user.id`). */
function personalField(path: string): PersonField | undefined {
  for (let at = 0; at !== -1; at = path.indexOf('.', at + 1)) {
    const field = PERSONAL_ATTRIBUTES[at === 0 ? path : path.slice(at + 1)];
    if (field !== undefined) return field;
  }
  return undefined;
}

function redactNested(
  value: OtlpValue,
  prefix: string,
  hash: (field: PersonField, rawValue: string) => string,
): OtlpValue {
  if (Array.isArray(value)) return value.map((item) => redactNested(item, prefix, hash));
  if (isAttributes(value)) return redactAttributes(value, prefix, hash);
  return value;
}

function redactValue(
  value: OtlpValue,
  field: PersonField,
  hash: (field: PersonField, rawValue: string) => string,
): OtlpValue {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, field, hash));
  if (isAttributes(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, redactValue(item, field, hash)]),
    );
  }
  return hash(field, String(value));
}

/** RFC 3339 in UTC with all nine digits of the span's nanoseconds (lib/events/timestamps.ts reads them). */
export function rfc3339FromUnixNano(unixNano: bigint): string {
  const millis = unixNano / 1_000_000n;
  const nanos = unixNano % 1_000_000_000n;
  const iso = new Date(Number(millis)).toISOString(); // …T12:34:56.789Z
  return `${iso.slice(0, 19)}.${nanos.toString().padStart(9, '0')}Z`;
}

function durationMsOf(span: OtlpSpan): number | undefined {
  if (span.startTimeUnixNano <= 0n || span.endTimeUnixNano < span.startTimeUnixNano) return undefined;
  const nanos = span.endTimeUnixNano - span.startTimeUnixNano;
  return Number((nanos + 500_000n) / 1_000_000n);
}

function first(a: OtlpAttributes, keys: readonly string[]): OtlpValue | undefined {
  for (const key of keys) {
    const value = a[key];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

function stringAttribute(a: OtlpAttributes, key: string): string | undefined {
  const value = a[key];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function scalar(value: OtlpValue): string | number {
  return typeof value === 'number' ? value : String(value);
}

/** A JSON string parsed; anything else (or text that is not JSON) as it is. */
function jsonOrAsIs(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAttributes(value: OtlpValue): value is OtlpAttributes {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
