import {
  type ApprovalRule,
  approversFor,
  type BoundaryRule,
  type Condition,
  type Workflow,
} from '#lib/registry/workflows.ts';

/**
 * The autonomy boundary, checked by machine: which tool calls of an `action` event break a workflow's
 * CANNOT rules, match an approval rule without an `approved` or `edited` approval on the action, or were
 * approved by someone the workflow's `approvers` does not list for the rule's role.
 * Pure and total: whatever an agent logged (parameters may be any JSON, or a JSON-encoded string as
 * many tool-calling APIs send them), it returns a list and never throws. A call counts whatever its
 * `outcome`: attempting a forbidden action is the violation.
 */

/**
 * `cannot`: a CANNOT rule matched; `approval`: an approval rule matched and the action has no approving
 * decision; `approver`: it has one, by an approverId not listed for the rule's role.
 */
export type BoundaryViolationKind = 'cannot' | 'approval' | 'approver';

export interface BoundaryViolation {
  readonly kind: BoundaryViolationKind;
  readonly ruleId: string;
  /** The tool call's name. */
  readonly tool: string;
  /** The tool call's position in the action's `toolCalls`. */
  readonly toolCallIndex: number;
  readonly message: string;
}

/** The parts of an `action` event the check reads; a stored or raw event object fits. */
export interface BoundaryCheckedAction {
  readonly toolCalls?: unknown;
  readonly approval?: unknown;
}

const MISSING: unique symbol = Symbol('missing');
type Resolved = unknown | typeof MISSING;

const MAX_DEPTH = 64;
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;
const NUMERIC_STRING = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const APPROVING_DECISIONS: ReadonlySet<unknown> = new Set(['approved', 'edited']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parameters as an object to walk: a JSON-encoded object string is decoded. */
function normaliseParameters(parameters: unknown): unknown {
  if (typeof parameters !== 'string') return parameters;
  const trimmed = parameters.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return parameters;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return parameters;
  }
}

/** The value at a dot path (`customer.tier`, `items.0.sku`); own properties only. */
function resolve(parameters: unknown, path: string): Resolved {
  let current: unknown = parameters;
  for (const segment of path.split('.')) {
    if (Array.isArray(current)) {
      if (!ARRAY_INDEX.test(segment)) return MISSING;
      const index = Number(segment);
      if (index >= current.length) return MISSING;
      current = current[index];
    } else if (typeof current === 'object' && current !== null) {
      if (!Object.hasOwn(current, segment)) return MISSING;
      current = (current as Record<string, unknown>)[segment];
    } else {
      return MISSING;
    }
  }
  return current === undefined ? MISSING : current;
}

/** A number, or a string that is exactly a decimal number ("600", "12.5", "1e3"); else undefined. */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (!NUMERIC_STRING.test(trimmed)) return undefined;
    const parsed = Number(trimmed);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

/**
 * JSON equality. When either side is a number, both compare numerically (so "600" equals 600);
 * two strings compare as written ("0123" is not "123").
 */
function jsonEquals(a: unknown, b: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  if (typeof a === 'number' || typeof b === 'number') {
    const left = toNumber(a);
    const right = toNumber(b);
    return left !== undefined && right !== undefined && left === right;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEquals(item, b[index], depth + 1));
  }
  const leftKeys = Object.keys(a);
  if (leftKeys.length !== Object.keys(b).length) return false;
  return leftKeys.every(
    (key) =>
      Object.hasOwn(b, key) &&
      jsonEquals((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], depth + 1),
  );
}

function compare(op: unknown, actual: unknown, expected: unknown): boolean {
  switch (op) {
    case '==':
      return jsonEquals(actual, expected);
    case '!=':
      return !jsonEquals(actual, expected);
    case 'in':
      return Array.isArray(expected) && expected.some((candidate) => jsonEquals(actual, candidate));
    case '>':
    case '>=':
    case '<':
    case '<=': {
      const left = toNumber(actual);
      const right = toNumber(expected);
      if (left === undefined || right === undefined) return false;
      if (op === '>') return left > right;
      if (op === '>=') return left >= right;
      if (op === '<') return left < right;
      return left <= right;
    }
    default:
      return false;
  }
}

/**
 * Whether one condition holds for a tool call's parameters. A missing parameter makes every
 * comparison false, `!=` and `in` included, and `exists` false. `exists` ignores `value` and is
 * false for null too; otherwise null is a value (`== null` holds). `>` `>=` `<` `<=` hold only
 * between numbers (a numeric string counts as its number).
 */
export function conditionHolds(condition: Condition, parameters: unknown): boolean {
  if (!isRecord(condition) || typeof condition.path !== 'string') return false;
  const actual = resolve(normaliseParameters(parameters), condition.path);
  if (condition.op === 'exists') return actual !== MISSING && actual !== null;
  if (actual === MISSING) return false;
  return compare(condition.op, actual, condition.value);
}

/** Whether a tool call (`{name, parameters}`) is one the rule is about: same tool, every condition holding. */
export function ruleMatches(rule: BoundaryRule | ApprovalRule, toolCall: unknown): boolean {
  if (!isRecord(toolCall) || !isRecord(rule) || toolCall.name !== rule.tool) return false;
  const conditions: unknown = rule.when;
  if (conditions === undefined) return true;
  if (!Array.isArray(conditions)) return false;
  const parameters = normaliseParameters(toolCall.parameters);
  return conditions.every((condition) => conditionHolds(condition as Condition, parameters));
}

function show(value: unknown): string {
  let shown: string | undefined;
  try {
    shown = JSON.stringify(value);
  } catch {
    shown = undefined;
  }
  if (shown === undefined) return typeof value;
  return shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
}

/** A config value for a message: strings as written, anything else as JSON. */
function label(value: unknown): string {
  return typeof value === 'string' ? value : show(value);
}

function describe(conditions: unknown, parameters: unknown): string {
  if (!Array.isArray(conditions) || conditions.length === 0) return '';
  const parts = conditions.filter(isRecord).map((condition) => {
    const path = label(condition.path);
    if (condition.op === 'exists') return `${path} exists`;
    const actual = resolve(parameters, path);
    const seen = actual === MISSING ? '' : ` (${path} = ${show(actual)})`;
    return `${path} ${label(condition.op)} ${show(condition.value)}${seen}`;
  });
  return ` when ${parts.join(' and ')}`;
}

/** The approverIds listed for a role; undefined when none are (any approver is accepted), or the config is odd. */
function listedApprovers(workflow: unknown, role: unknown): readonly unknown[] | undefined {
  if (!isRecord(workflow) || typeof role !== 'string' || !isRecord(workflow.approvers)) return undefined;
  const listed: unknown = approversFor(workflow as Pick<Workflow, 'approvers'>, role);
  return Array.isArray(listed) ? listed : undefined;
}

function listOf<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

/** Every boundary violation in one action: CANNOT rules first, then missing approvals, per tool call. */
export function boundaryViolations(
  action: BoundaryCheckedAction,
  workflow: Pick<Workflow, 'autonomyBoundary' | 'approvers'>,
): BoundaryViolation[] {
  const boundary: unknown = isRecord(workflow) ? workflow.autonomyBoundary : undefined;
  if (!isRecord(action) || !isRecord(boundary)) return [];
  const toolCalls = listOf<unknown>(action.toolCalls);
  const cannot = listOf<BoundaryRule>(boundary.cannot);
  const approvals = listOf<ApprovalRule>(boundary.approvals);
  const approval = isRecord(action.approval) ? action.approval : undefined;
  const approved = approval !== undefined && APPROVING_DECISIONS.has(approval.decision);

  const violations: BoundaryViolation[] = [];
  for (const [toolCallIndex, toolCall] of toolCalls.entries()) {
    if (!isRecord(toolCall) || typeof toolCall.name !== 'string') continue;
    const tool = toolCall.name;
    const parameters = normaliseParameters(toolCall.parameters);
    const call = `tool call ${toolCallIndex} "${tool}"`;
    for (const rule of cannot) {
      if (!ruleMatches(rule, toolCall)) continue;
      violations.push({
        kind: 'cannot',
        ruleId: label(rule.id),
        tool,
        toolCallIndex,
        message: `${call} breaks CANNOT rule "${label(rule.id)}"${describe(rule.when, parameters)}: ${label(rule.description)}`,
      });
    }
    for (const rule of approvals) {
      if (!ruleMatches(rule, toolCall)) continue;
      if (approved) {
        const listed = listedApprovers(workflow, rule.approver);
        if (listed === undefined || listed.includes(approval.approverId as string)) continue;
        violations.push({
          kind: 'approver',
          ruleId: label(rule.id),
          tool,
          toolCallIndex,
          message: `${call} needs approval by ${label(rule.approver)} under rule "${label(rule.id)}"${describe(rule.when, parameters)}, but it was ${show(approval.decision)} by ${show(approval.approverId)}, who is not listed for role ${show(rule.approver)} in the workflow's approvers: ${label(rule.description)}`,
        });
        continue;
      }
      const why =
        approval === undefined
          ? 'the action has no approval'
          : `the approval by ${show(approval.approverId)} was ${show(approval.decision)}, yet the call was made`;
      violations.push({
        kind: 'approval',
        ruleId: label(rule.id),
        tool,
        toolCallIndex,
        message: `${call} needs approval by ${label(rule.approver)} under rule "${label(rule.id)}"${describe(rule.when, parameters)}, but ${why}: ${label(rule.description)}`,
      });
    }
  }
  return violations;
}

// --- unlisted-tool (issue 10 §5: policy before automation) ---

/**
 * The tools an action called that its workflow's boundary neither allows (`canTools`) nor speaks of in a
 * CANNOT or approval rule: policy nobody wrote yet. A rule with `when` conditions still lists its tool
 * (its policy is written, even if this call did not match). Distinct names, in call order.
 *
 * A workflow with no boundary written flags every tool: the point is that unwritten policy becomes
 * visible, and no policy at all is the most unwritten. Pure and total, like `boundaryViolations`.
 */
export function unlistedTools(
  action: BoundaryCheckedAction,
  workflow: Pick<Workflow, 'autonomyBoundary'>,
): string[] {
  if (!isRecord(action)) return [];
  const boundary: unknown = isRecord(workflow) ? workflow.autonomyBoundary : undefined;
  const listed = new Set<unknown>();
  if (isRecord(boundary)) {
    for (const tool of listOf<unknown>(boundary.canTools)) listed.add(tool);
    for (const rule of listOf<unknown>(boundary.cannot)) if (isRecord(rule)) listed.add(rule.tool);
    for (const rule of listOf<unknown>(boundary.approvals)) if (isRecord(rule)) listed.add(rule.tool);
  }
  const unlisted = new Set<string>();
  for (const toolCall of listOf<unknown>(action.toolCalls)) {
    if (!isRecord(toolCall) || typeof toolCall.name !== 'string') continue;
    if (!listed.has(toolCall.name)) unlisted.add(toolCall.name);
  }
  return [...unlisted];
}
