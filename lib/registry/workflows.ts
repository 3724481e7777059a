import { readFileSync } from 'node:fs';
// zod/mini, as the ingest schemas: every function reads the registry, ingest on its cold start (issue 12).
import * as z from 'zod/mini';
import { messageOf } from '#lib/errors.ts';
import { formatIssues, parseWithIssues, toJsonPath } from '#lib/validation/zod-issues.ts';

/**
 * The workflow registry: which workflows the ledger accepts events for, how long it keeps them, and
 * how each one is governed (owner, selection scores, rollout phase, autonomy boundary). It is
 * versioned configuration: every object is strict, so a misspelt key is an error rather than a
 * silently ignored setting, and `WorkflowRegistry.parse` names every problem by its path.
 * The shipped registry is `config/workflow-registry.json`; it is deployed to AppConfig as a freeform
 * profile (the CDK in the cloud, the local stack into the stand-in) and read from there at run time.
 */

export const RETENTION_MONTHS = [12, 18, 24] as const;
export type RetentionMonths = (typeof RETENTION_MONTHS)[number];
export const DEFAULT_RETENTION_MONTHS: RetentionMonths = 24;

export const WORKFLOW_ID_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;

/**
 * The five criteria a workflow is selected on, each scored 1–5 where 5 is the better candidate
 * (for `errorCost`: mistakes are cheap and easy to undo; for `volume`: well over 200 units a month).
 */
export const SELECTION_CRITERIA = {
  clearUnitOfValue: 'clear unit of value',
  volume: 'volume (≥ 200 units/month)',
  errorCost: 'error cost',
  writtenPolicy: 'written policy',
  easeOfInstrumenting: 'ease of instrumenting',
} as const;
export type SelectionCriterion = keyof typeof SELECTION_CRITERIA;
/** A score below this on any criterion is reported by `WorkflowRegistry.warnings()`. */
export const MIN_COMFORTABLE_SCORE = 3;
/** More workflows than this in their first cycle at once is reported by `warnings()`. */
export const MAX_FIRST_CYCLE_WORKFLOWS = 2;

/** baseline (humans only, measured) → hitl (agent proposes, a human approves) → evals → autonomous. */
export const ROLLOUT_PHASES = ['baseline', 'hitl', 'evals', 'autonomous'] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

/** The lanes an `action` runs in (SPEC "Ingest"), from least to most trusted with customers. */
export const LANES = ['shadow', 'hitl', 'autonomous'] as const;
export type Lane = (typeof LANES)[number];

/**
 * The lanes each rollout phase opens. In baseline humans do the work and the agent may only run in the
 * shadow lane (its output is not shipped); hitl and evals add the human-approved lane; only the
 * autonomous phase opens the autonomous lane (which the kill switch can still close).
 */
export const LANES_BY_PHASE: Readonly<Record<RolloutPhase, readonly Lane[]>> = {
  baseline: ['shadow'],
  hitl: ['shadow', 'hitl'],
  evals: ['shadow', 'hitl'],
  autonomous: ['shadow', 'hitl', 'autonomous'],
};

export function laneAllowedInPhase(phase: RolloutPhase, lane: Lane): boolean {
  return LANES_BY_PHASE[phase].includes(lane);
}

/** The most trusted lane a phase opens: the lane an agent uses when nothing else closes it. */
export function widestLaneOf(phase: RolloutPhase): Lane {
  return LANES_BY_PHASE[phase].at(-1) as Lane;
}

/** The first phase that opens a lane. */
export function phaseOpening(lane: Lane): RolloutPhase {
  return ROLLOUT_PHASES.find((phase) => laneAllowedInPhase(phase, lane)) as RolloutPhase;
}

export const CONDITION_OPERATORS = ['>', '>=', '<', '<=', '==', '!=', 'in', 'exists'] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];
const ORDERING_OPERATORS: readonly ConditionOperator[] = ['>', '>=', '<', '<='];

/** A dot path into a tool call's `parameters`: `amount`, `customer.tier`, `items.0.sku`. */
export const PARAMETER_PATH_PATTERN = /^[^.]+(?:\.[^.]+)*$/;
export const RULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

const text = (max: number) =>
  z
    .string()
    .check(
      z.trim(),
      z.minLength(1, 'must not be empty'),
      z.maxLength(max, `must be at most ${max} characters`),
    );

/** A schema-level message for a present but wrong value; a missing one falls through to "is required". */
const unlessMissing = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? undefined : message;

const score = z
  .number({ error: unlessMissing('must be a whole number from 1 to 5') })
  .check(
    z.int('must be a whole number from 1 to 5'),
    z.gte(1, 'must be a whole number from 1 to 5'),
    z.lte(5, 'must be a whole number from 1 to 5'),
  );

const conditionSchema = z
  .strictObject({
    path: z
      .string()
      .check(
        z.maxLength(256, 'must be at most 256 characters'),
        z.regex(
          PARAMETER_PATH_PATTERN,
          'must be a dot path into the tool call\'s parameters, like "amount" or "customer.tier"',
        ),
      ),
    op: z.enum(CONDITION_OPERATORS, {
      error: unlessMissing(`must be one of ${CONDITION_OPERATORS.join(' ')}`),
    }),
    value: z.optional(z.json()),
  })
  .check(
    z.superRefine((condition, ctx) => {
      const { op, value } = condition;
      if (op === 'exists') {
        if (value !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['value'],
            message: 'is not used with op "exists" (it only asks whether the parameter is there): remove it',
          });
        }
      } else if (op === 'in') {
        if (!Array.isArray(value)) {
          ctx.addIssue({ code: 'custom', path: ['value'], message: 'op "in" needs an array of values' });
        }
      } else if (ORDERING_OPERATORS.includes(op)) {
        if (typeof value !== 'number') {
          ctx.addIssue({ code: 'custom', path: ['value'], message: `op "${op}" needs a number` });
        }
      } else if (value === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['value'],
          message: `op "${op}" needs a value to compare with`,
        });
      }
    }),
  );
export type Condition = z.infer<typeof conditionSchema>;

const ruleFields = {
  id: z
    .string()
    .check(
      z.regex(
        RULE_ID_PATTERN,
        'must be 1–128 characters of [A-Za-z0-9._:-], starting with a letter or digit',
      ),
    ),
  description: text(500),
  /** The tool call's `name`, matched exactly. */
  tool: text(256),
  /** Every condition must hold for the rule to match; none means every call of the tool matches. */
  when: z.optional(z.array(conditionSchema)),
};

/** A CANNOT rule: a tool call it matches is a boundary violation. */
const boundaryRuleSchema = z.strictObject(ruleFields);
export type BoundaryRule = z.infer<typeof boundaryRuleSchema>;

/** A tool call it matches needs an `approved` or `edited` approval on the action. */
const approvalRuleSchema = z.strictObject({
  ...ruleFields,
  /** The role that must approve. */
  approver: text(256),
});
export type ApprovalRule = z.infer<typeof approvalRuleSchema>;

const autonomyBoundarySchema = z
  .strictObject({
    /** What the agent may do, in plain language (for people; not checked by machine). */
    can: z.array(text(500)),
    /**
     * The tools CAN allows, by their tool calls' `name` (machine-checked, unlike `can`). A call of a tool
     * named neither here nor by a CANNOT or approval rule is flagged `unlisted-tool` at ingest.
     */
    canTools: z.optional(z.array(text(256))),
    cannot: z.array(boundaryRuleSchema),
    approvals: z.array(approvalRuleSchema),
    killSwitch: z.strictObject({
      /** Where the switch is, e.g. the AppConfig flag and the CLI command that flips it. */
      location: text(500),
      /** The people or roles who may flip it. */
      flippers: z
        .array(text(256))
        .check(z.minLength(1, 'must name at least one person or role who may flip it')),
    }),
  })
  .check(
    z.superRefine((boundary, ctx) => {
      const seen = new Map<string, string>();
      for (const list of ['cannot', 'approvals'] as const) {
        for (const [index, rule] of boundary[list].entries()) {
          const first = seen.get(rule.id);
          if (first !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [list, index, 'id'],
              message: `duplicate rule id "${rule.id}" (first used at ${first}): rule ids must be unique within a workflow`,
            });
          } else {
            seen.set(rule.id, `${list}.${index}`);
          }
        }
      }
    }),
  );
export type AutonomyBoundary = z.infer<typeof autonomyBoundarySchema>;

/**
 * Who may approve for each approval role: role name (as approval rules name it in `approver`) → the
 * approverIds that hold it, exactly as agents send them in an action's `approval.approverId` (stored as
 * sent, not hashed: they are staff IDs, not customer data). Strings of 1–256 characters, each listed once.
 */
const approversSchema = z
  .record(
    z.string(),
    z
      .array(
        z
          .string({ error: unlessMissing('must be an approverId string (1–256 characters)') })
          .check(
            z.minLength(1, 'must be an approverId of 1–256 characters'),
            z.maxLength(256, 'must be an approverId of 1–256 characters'),
          ),
        { error: unlessMissing('must be a list of approverIds') },
      )
      .check(z.minLength(1, 'must list at least one approverId (leave the role out to accept any approver)')),
    { error: unlessMissing('must be an object of role name → list of approverIds') },
  )
  .check(
    z.superRefine((approvers, ctx) => {
      for (const [role, ids] of Object.entries(approvers)) {
        if (role.trim() === '' || role.length > 256) {
          ctx.addIssue({
            code: 'custom',
            path: role === '' ? [] : [role],
            message: `role name ${JSON.stringify(role.slice(0, 40))}${role.length > 40 ? '…' : ''} must be 1–256 characters, not blank`,
          });
        } else if (role.trim() !== role) {
          ctx.addIssue({
            code: 'custom',
            path: [role],
            message: `role name "${role}" starts or ends with white space: approval rules name roles without it`,
          });
        }
        const seen = new Set<string>();
        for (const [index, id] of ids.entries()) {
          if (seen.has(id)) {
            ctx.addIssue({
              code: 'custom',
              path: [role, index],
              message: `approverId "${id}" is listed twice`,
            });
          }
          seen.add(id);
        }
      }
    }),
  );
export type Approvers = z.infer<typeof approversSchema>;

const workflowSchema = z.strictObject({
  workflowId: z.string().check(z.regex(WORKFLOW_ID_PATTERN, 'workflowId must match ^[a-z][a-z0-9-]{1,62}$')),
  unitOfValue: z.string().check(z.minLength(1)),
  /** The person or team accountable for the workflow. */
  owner: text(256),
  selectionScores: z.strictObject({
    clearUnitOfValue: score,
    volume: score,
    errorCost: score,
    writtenPolicy: score,
    easeOfInstrumenting: score,
  }),
  /** In its first operating cycle; more than two at once is reported by `warnings()`. */
  firstCycle: z._default(z.boolean(), false),
  rolloutPhase: z.enum(ROLLOUT_PHASES, {
    error: unlessMissing(`must be one of ${ROLLOUT_PHASES.join(', ')}`),
  }),
  retentionMonths: z._default(
    z.union([z.literal(12), z.literal(18), z.literal(24)]),
    DEFAULT_RETENTION_MONTHS,
  ),
  /** Drift pauses the lane only when both weeks have at least this many reviewed units (SPEC "Drift"). */
  minReviewed: z._default(z.number().check(z.int(), z.gte(1)), 20),
  /** The share of completed units sampled for human review (SPEC: 5–10%). */
  reviewSampleRate: z._default(
    z.number().check(z.gte(0.05, 'must be at least 5%'), z.lte(0.1, 'must be at most 10%')),
    0.05,
  ),
  /**
   * The share of an eval run's cases that must pass (0–1) before the workflow may move to phase
   * autonomous (rollout gates, `lib/registry/rollout-gates.ts`).
   */
  evalThreshold: z._default(
    z
      .number({ error: unlessMissing('must be a number from 0 to 1') })
      .check(z.gte(0, 'must be a number from 0 to 1'), z.lte(1, 'must be a number from 0 to 1')),
    0.9,
  ),
  autonomyBoundary: autonomyBoundarySchema,
  /**
   * Optional: who holds each approval role. An approval by someone not listed for its rule's role is a
   * boundary violation; a rule whose role has no list accepts any approver (and `warnings()` says so).
   */
  approvers: z.optional(approversSchema),
});
export type Workflow = z.infer<typeof workflowSchema>;
/** A workflow as written in configuration (fields with defaults may be left out). */
export type WorkflowInput = z.input<typeof workflowSchema>;
export type SelectionScores = Workflow['selectionScores'];

export const registrySchema = z.array(workflowSchema);

/** Checked on the raw input, so a duplicate is reported even when some workflow has other problems. */
function duplicateIds(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const [index, item] of raw.entries()) {
    const workflowId: unknown = typeof item === 'object' && item !== null ? item.workflowId : undefined;
    if (typeof workflowId !== 'string') continue;
    if (seen.has(workflowId)) problems.push(`${toJsonPath([index, 'workflowId'])}: duplicate workflowId`);
    seen.add(workflowId);
  }
  return problems;
}

export class InvalidRegistryError extends Error {
  override name = 'InvalidRegistryError';
  /** Each problem as `<JSON path>: message`, e.g. `$[0].owner: is required`. */
  readonly problems: readonly string[];

  constructor(message: string, problems: readonly string[] = []) {
    super(message);
    this.problems = problems;
  }
}

function problemsOf(raw: unknown): { workflows: Workflow[] } | { problems: string[] } {
  const parsed = parseWithIssues(registrySchema, raw);
  const problems = parsed.success ? [] : formatIssues(parsed.issues);
  problems.push(...duplicateIds(raw));
  if (parsed.success && problems.length === 0) return { workflows: parsed.data };
  return { problems };
}

function registryWarnings(workflows: readonly Workflow[]): string[] {
  const warnings: string[] = [];
  const firstCycle = workflows
    .filter((workflow) => workflow.firstCycle)
    .map((workflow) => workflow.workflowId);
  if (firstCycle.length > MAX_FIRST_CYCLE_WORKFLOWS) {
    warnings.push(
      `${firstCycle.length} workflows are in their first cycle (${firstCycle.join(', ')}): run at most ${MAX_FIRST_CYCLE_WORKFLOWS} at once, so each gets its baseline, reviews and weekly KPIs before the next starts`,
    );
  }
  for (const workflow of workflows) {
    warnings.push(...approverWarnings(workflow));
    for (const [criterion, label] of Object.entries(SELECTION_CRITERIA)) {
      const value = workflow.selectionScores[criterion as SelectionCriterion];
      if (value < MIN_COMFORTABLE_SCORE) {
        warnings.push(
          `workflow "${workflow.workflowId}" scores ${value} of 5 on ${label} (selectionScores.${criterion}), below ${MIN_COMFORTABLE_SCORE}: a weak candidate for an agent on that criterion`,
        );
      }
    }
  }
  return warnings;
}

/** The approverIds listed for a role; undefined when the workflow lists none for it (any approver is accepted). */
export function approversFor(
  workflow: Pick<Workflow, 'approvers'>,
  role: string,
): readonly string[] | undefined {
  const approvers = workflow.approvers;
  return approvers && Object.hasOwn(approvers, role) ? approvers[role] : undefined;
}

function approverWarnings(workflow: Workflow): string[] {
  const warnings: string[] = [];
  const named = new Set<string>();
  for (const rule of workflow.autonomyBoundary.approvals) {
    named.add(rule.approver);
    if (approversFor(workflow, rule.approver) === undefined) {
      warnings.push(
        `workflow "${workflow.workflowId}": any approver is accepted for rule "${rule.id}": its role "${rule.approver}" has no list in approvers (add approvers["${rule.approver}"] to check who approves)`,
      );
    }
  }
  for (const role of Object.keys(workflow.approvers ?? {})) {
    if (!named.has(role)) {
      warnings.push(
        `workflow "${workflow.workflowId}": approvers["${role}"] is not the approver of any approval rule (a misspelt role?)`,
      );
    }
  }
  return warnings;
}

/**
 * Where handlers get the registry from on each invocation: AppConfig in the cloud and locally (polled and
 * cached), or a fixed registry, which is its own source.
 */
export interface RegistrySource {
  current(): Promise<WorkflowRegistry>;
}

export class WorkflowRegistry implements RegistrySource {
  readonly #byId: Map<string, Workflow>;
  readonly #warnings: readonly string[];

  constructor(workflows: readonly Workflow[]) {
    this.#byId = new Map(workflows.map((workflow) => [workflow.workflowId, workflow]));
    this.#warnings = registryWarnings(workflows);
  }

  /** Validates raw configuration; throws with every problem named by its path. */
  static parse(raw: unknown): WorkflowRegistry {
    const result = problemsOf(raw);
    if ('problems' in result) {
      throw new InvalidRegistryError(
        `workflow registry is invalid: ${result.problems.join('; ')}`,
        result.problems,
      );
    }
    return new WorkflowRegistry(result.workflows);
  }

  async current(): Promise<WorkflowRegistry> {
    return this;
  }

  get(workflowId: string): Workflow | undefined {
    return this.#byId.get(workflowId);
  }

  all(): Workflow[] {
    return [...this.#byId.values()];
  }

  ids(): string[] {
    return [...this.#byId.keys()];
  }

  /**
   * What is valid but worth a second look: more than two workflows in their first cycle, selection
   * scores below 3, approval rules that accept any approver (their role has no list in `approvers`), and
   * approver lists no rule uses. Empty when there is nothing to say.
   */
  warnings(): string[] {
    return [...this.#warnings];
  }
}

/**
 * Parses a registry document (a JSON array of workflows) from `source`, which names where it came from
 * (a file, an AppConfig version) in every error.
 */
export function parseRegistryContent(content: string, source: string): WorkflowRegistry {
  let raw: unknown;
  try {
    raw = JSON.parse(content.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new InvalidRegistryError(`${source} is not valid JSON: ${messageOf(error)}`);
  }
  const result = problemsOf(raw);
  if ('problems' in result) {
    throw new InvalidRegistryError(`${source} is invalid: ${result.problems.join('; ')}`, result.problems);
  }
  return new WorkflowRegistry(result.workflows);
}

/** A registry file's text; a file that cannot be read is an InvalidRegistryError naming it. */
export function readRegistryFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : messageOf(error);
    throw new InvalidRegistryError(`cannot read workflow registry file ${path}: ${why}`);
  }
}

/** Reads a registry from a JSON file (an array of workflows); every error names the file. */
export function loadRegistryFile(path: string): WorkflowRegistry {
  return parseRegistryContent(readRegistryFile(path), `workflow registry file ${path}`);
}
