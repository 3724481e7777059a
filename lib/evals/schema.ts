// The namespace import lets the bundler leave out zod's locales and JSON Schema code.
import * as z from 'zod';
import { parseRfc3339 } from '#lib/events/timestamps.ts';
import { WORKFLOW_ID_PATTERN } from '#lib/registry/workflows.ts';
import { type PathIssue, parseWithIssues, toJsonPath } from '#lib/validation/zod-issues.ts';

/**
 * Evals: an eval set per workflow (100–300 cases, each a historical unit and the outcome it should
 * have), and eval runs (who ran it, with which prompt and model, and a pass or fail per case).
 *
 * A set or a run is stored as one DynamoDB item, so its JSON is capped well under the 400 KB item limit
 * (which also counts keys and attribute names). Typical content is far smaller: 300 cases with 200-character
 * outcomes are about 90 KB; the cap only stops pathological files before DynamoDB would.
 */

export const MIN_EVAL_CASES = 100;
export const MAX_EVAL_CASES = 300;
export const MAX_EVAL_JSON_BYTES = 350_000;
export const MAX_OUTCOME_CHARS = 1000;
export const MAX_NOTES_CHARS = 1000;

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const SET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const text = (max: number) =>
  z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const optionalText = (max: number) => z.string().max(max, `must be at most ${max} characters`).optional();
const identifier = z.string().regex(ID_PATTERN, 'must be 1–128 characters of [A-Za-z0-9._:-]');

export const evalWorkflowIdSchema = z
  .string()
  .regex(WORKFLOW_ID_PATTERN, 'must match ^[a-z][a-z0-9-]{1,62}$');
export const evalSetNameSchema = z
  .string()
  .regex(SET_NAME_PATTERN, 'must be 1–64 characters of [A-Za-z0-9._-], starting with a letter or digit');

export const evalCaseSchema = z.strictObject({
  caseId: identifier,
  /** The historical unit of value (ticket, pull request) the case replays, as in the events' `unitId`. */
  unitId: text(256),
  expectedOutcome: text(MAX_OUTCOME_CHARS),
  notes: optionalText(MAX_NOTES_CHARS),
});
export type EvalCase = z.infer<typeof evalCaseSchema>;

/** Reports each repeated ID at the later occurrence, naming where it first appeared. */
function uniqueIds(arrayName: string, what: string) {
  return (items: readonly unknown[], ctx: z.core.$RefinementCtx<unknown[]>) => {
    const firstAt = new Map<string, number>();
    for (const [index, item] of items.entries()) {
      const caseId = (item as { caseId?: unknown } | null)?.caseId;
      if (typeof caseId !== 'string') continue;
      const first = firstAt.get(caseId);
      if (first === undefined) firstAt.set(caseId, index);
      else
        ctx.addIssue({
          code: 'custom',
          path: [index, 'caseId'],
          message: `${what} "${caseId}" (first at ${toJsonPath([arrayName, first, 'caseId'])})`,
        });
    }
  };
}

/**
 * Count and uniqueness are checked even when some element is malformed (zod skips refinements after a type
 * error by default), so one answer names every problem; they need only an array.
 */
const whenArray = { when: (payload: { value: unknown }) => Array.isArray(payload.value) };

const casesSchema = z
  .array(evalCaseSchema)
  .superRefine((cases, ctx) => {
    if (cases.length < MIN_EVAL_CASES || cases.length > MAX_EVAL_CASES) {
      ctx.addIssue({
        code: 'custom',
        message: `has ${cases.length} cases; an eval set has ${MIN_EVAL_CASES}–${MAX_EVAL_CASES}`,
      });
    }
  }, whenArray)
  .superRefine(uniqueIds('cases', 'duplicate caseId'), whenArray);

/** What `evals register` reads: the version is assigned by the ledger, never by the file. */
export const evalSetInputSchema = z.strictObject({
  workflowId: evalWorkflowIdSchema,
  name: evalSetNameSchema,
  description: optionalText(1000),
  cases: casesSchema,
});
export type EvalSetInput = z.infer<typeof evalSetInputSchema>;

/** A registered version of a set, as stored. */
export const evalSetSchema = evalSetInputSchema.extend({
  /** 1 for the first registration; each registration that changes the set adds one. */
  version: z.number().int().min(1),
  registeredAt: z.string(),
  registeredBy: z.string(),
});
export type EvalSet = z.infer<typeof evalSetSchema>;

export const evalResultSchema = z.strictObject({
  caseId: identifier,
  pass: z.boolean(),
  actualOutcome: optionalText(MAX_OUTCOME_CHARS),
  notes: optionalText(MAX_NOTES_CHARS),
});
export type EvalResult = z.infer<typeof evalResultSchema>;

export const evalRunSchema = z.strictObject({
  runId: identifier,
  workflowId: evalWorkflowIdSchema,
  /** The set's name; with `evalSetVersion`, which registered version the run was scored against. */
  evalSet: evalSetNameSchema,
  evalSetVersion: z.number().int('must be an integer').min(1, 'must be ≥ 1'),
  /** Who or what ran it: a person, or a CI job. */
  ranBy: text(256),
  ranAt: z
    .string()
    .refine((value) => parseRfc3339(value) !== undefined, 'must be an RFC 3339 timestamp with offset'),
  /** The prompt template version, as the events' `prompt.templateVersion` names it. */
  promptVersion: text(256),
  /** `<provider>/<name>/<version>` (as the events' `model`), or any string that names the model. */
  modelVersion: text(256),
  /**
   * Optional: the tool names the agent had in the run. When given, an action calling a tool outside it
   * makes an eval due (lib/evals/due.ts); runs recorded without it are judged on prompt, model and age.
   */
  tools: z.array(text(256)).max(500, 'must list at most 500 tools').optional(),
  results: z
    .array(evalResultSchema)
    .min(1, 'must have a result per case of the set')
    .max(MAX_EVAL_CASES, `must have at most ${MAX_EVAL_CASES} results (one per case)`)
    .superRefine(uniqueIds('results', 'second result for case'), whenArray),
});
export type EvalRun = z.infer<typeof evalRunSchema>;

/** One problem with a file: where in it (a JSON path such as `$.cases[3].caseId`) and what is wrong. */
export type EvalIssue = PathIssue;

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: EvalIssue[] };

export function parseEvalSetInput(raw: unknown): Parsed<EvalSetInput> {
  return parseWith(evalSetInputSchema, raw, 'set');
}

export function parseEvalRun(raw: unknown): Parsed<EvalRun> {
  return parseWith(evalRunSchema, raw, 'run');
}

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, what: 'set' | 'run'): Parsed<T> {
  const parsed = parseWithIssues(schema, raw, { unknownFieldAdvice: versionAdvice });
  if (!parsed.success) return { ok: false, issues: parsed.issues };
  const bytes = Buffer.byteLength(JSON.stringify(parsed.data));
  if (bytes > MAX_EVAL_JSON_BYTES) {
    return {
      ok: false,
      issues: [
        {
          path: '$',
          message: `the ${what} is ${bytes} bytes as JSON; at most ${MAX_EVAL_JSON_BYTES} fit one stored item: shorten outcomes or notes (reference long texts instead)`,
        },
      ],
    };
  }
  return { ok: true, value: parsed.data };
}

/** A set's `version` is not the writer's to choose. */
function versionAdvice(path: readonly (string | number)[], keys: readonly string[]): string | undefined {
  return path.length === 0 && keys.includes('version')
    ? 'the version is assigned on register (it goes up by one each time the set changes)'
    : undefined;
}

/** How many IDs an issue lists before summarising the rest. */
const LISTED_IDS = 5;

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, LISTED_IDS).join(', ');
  return ids.length > LISTED_IDS ? `${shown} and ${ids.length - LISTED_IDS} more` : shown;
}

/**
 * Checks a run against the set version it names: every result's case is in the set, and every case of the
 * set has exactly one result. Empty when the run fits the set.
 */
export function checkRunAgainstSet(run: EvalRun, set: EvalSet): EvalIssue[] {
  const issues: EvalIssue[] = [];
  const label = `eval set ${set.workflowId}/${set.name} v${set.version}`;
  if (run.workflowId !== set.workflowId) {
    issues.push({
      path: '$.workflowId',
      message: `is ${run.workflowId}, but ${label} belongs to ${set.workflowId}`,
    });
  }
  if (run.evalSet !== set.name || run.evalSetVersion !== set.version) {
    issues.push({
      path: '$.evalSet',
      message: `names ${run.evalSet} v${run.evalSetVersion}, but was checked against ${label}`,
    });
  }
  const caseIds = new Set(set.cases.map((c) => c.caseId));
  const resultCount = new Map<string, number>();
  const unknown: string[] = [];
  for (const [index, result] of run.results.entries()) {
    resultCount.set(result.caseId, (resultCount.get(result.caseId) ?? 0) + 1);
    if (!caseIds.has(result.caseId))
      unknown.push(`${result.caseId} (${toJsonPath(['results', index, 'caseId'])})`);
  }
  if (unknown.length > 0) {
    issues.push({
      path: '$.results',
      message: `${unknown.length} result${unknown.length > 1 ? 's name cases' : ' names a case'} not in ${label}: ${listIds(unknown)}`,
    });
  }
  const repeated = [...resultCount].filter(([, count]) => count > 1).map(([caseId]) => caseId);
  if (repeated.length > 0) {
    issues.push({
      path: '$.results',
      message: `${repeated.length} case${repeated.length > 1 ? 's have' : ' has'} more than one result: ${listIds(repeated)}`,
    });
  }
  const missing = set.cases.map((c) => c.caseId).filter((caseId) => !resultCount.has(caseId));
  if (missing.length > 0) {
    issues.push({
      path: '$.results',
      message: `${missing.length} case${missing.length > 1 ? 's' : ''} of ${label} ${missing.length > 1 ? 'have' : 'has'} no result: ${listIds(missing)}`,
    });
  }
  return issues;
}

/** Whether two inputs describe the same set (re-registering an unchanged set makes no new version). */
export function sameSetContent(a: EvalSetInput, b: EvalSetInput): boolean {
  const content = (set: EvalSetInput) =>
    JSON.stringify({
      workflowId: set.workflowId,
      name: set.name,
      description: set.description ?? null,
      cases: set.cases.map((c) => [c.caseId, c.unitId, c.expectedOutcome, c.notes ?? null]),
    });
  return content(a) === content(b);
}
