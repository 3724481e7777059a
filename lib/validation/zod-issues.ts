import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// The messages below reword zod's English defaults ("Invalid input: expected string, received number").
// zod sets them as it builds its first schema; zod/mini, which the ingest schemas use, does not.
z.config(en());

/**
 * One way to tell a person what is wrong with what they sent, for every schema the ledger checks (ingest
 * events, eval sets and runs, kill-switch flips, the workflow registry, price tables, the AppConfig
 * stand-in's requests; zod and zod/mini schemas alike): each problem named by its JSON path
 * (`$.events[3].toolCalls[0].outcome`) in plain words ("is required", "must be a string, not a number",
 * "unknown field tool_calls").
 */
export interface PathIssue {
  readonly path: string;
  readonly message: string;
}

export type PathSegment = string | number;

export interface IssueOptions {
  /** Where the parsed value sits in the whole document (`['events', 3]` for one event of a batch). */
  readonly base?: readonly PathSegment[];
  /** What to add after "unknown field x" at a path: where such data belongs instead. */
  readonly unknownFieldAdvice?: (path: readonly PathSegment[], keys: readonly string[]) => string | undefined;
}

/** `['events', 3, 'toolCalls', 0, 'outcome']` → `$.events[3].toolCalls[0].outcome`. */
export function toJsonPath(path: readonly PathSegment[]): string {
  return path.reduce<string>((acc, segment) => {
    if (typeof segment === 'number') return `${acc}[${segment}]`;
    return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)
      ? `${acc}.${segment}`
      : `${acc}[${JSON.stringify(segment)}]`;
  }, '$');
}

export type ParseResult<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly issues: PathIssue[] };

/**
 * Parses `raw` with `schema`; on failure, every problem with its full path and a plain message. A
 * message a schema sets for a wrong value stands; a missing value is always "is required".
 */
export function parseWithIssues<T extends z.core.$ZodType>(
  schema: T,
  raw: unknown,
  options: IssueOptions = {},
): ParseResult<z.output<T>> {
  const parsed = z.safeParse(schema, raw, { error: requiredMessage });
  if (parsed.success) return { success: true, data: parsed.data };
  return {
    success: false,
    issues: parsed.error.issues.map((issue) => {
      const path = issuePath(issue, options.base);
      return { path: toJsonPath(path), message: issueMessage(issue, path, options) };
    }),
  };
}

/** An issue's path in the whole document. */
export function issuePath(issue: z.core.$ZodIssue, base: readonly PathSegment[] = []): PathSegment[] {
  return [...base, ...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment))];
}

/** `path: message` lines, for a CLI or a one-line error. */
export function formatIssues(issues: readonly PathIssue[]): string[] {
  return issues.map((issue) => `${issue.path}: ${issue.message}`);
}

const REQUIRED = 'is required';

/** The parse-level message for a value that is not there (schema-level messages for wrong values win). */
function requiredMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.input !== undefined) return undefined;
  if (issue.code === 'invalid_type') return REQUIRED;
  if (issue.code === 'invalid_value')
    return `${REQUIRED} (one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')})`;
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return `${REQUIRED} (one of ${issue.options.map((v) => JSON.stringify(v)).join(', ')})`;
  }
  return undefined;
}

function issueMessage(issue: z.core.$ZodIssue, path: readonly PathSegment[], options: IssueOptions): string {
  // A schema's own message stands; only zod's defaults ("Invalid input: expected string, …") are reworded.
  if (!isZodDefault(issue)) return issue.message;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const fields = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
      const advice = options.unknownFieldAdvice?.(path, issue.keys);
      return advice ? `${fields}; ${advice}` : fields;
    }
    case 'invalid_type': {
      const received = /received (\w+)/.exec(issue.message)?.[1];
      return `must be ${withArticle(issue.expected)}${received ? `, not ${withArticle(received)}` : ''}`;
    }
    case 'invalid_union':
      // A discriminated union whose discriminator matches no member: name the members.
      return 'options' in issue && Array.isArray(issue.options)
        ? `must be one of ${issue.options.join(', ')}`
        : issue.message;
    default:
      return issue.message;
  }
}

function isZodDefault(issue: z.core.$ZodIssue): boolean {
  return /^(Invalid |Unrecognized key)/.test(issue.message);
}

function withArticle(typeName: string): string {
  return /^[aeiou]/.test(typeName) ? `an ${typeName}` : `a ${typeName}`;
}
