import * as z from 'zod';

/**
 * A no-blame postmortem (seed §8), written against one incident: what happened, the impact, the fix and
 * the follow-up actions with their owners. There is deliberately no field for who was at fault.
 */

export const MAX_SECTION_LENGTH = 10_000;
export const MAX_FOLLOW_UP_PART_LENGTH = 300;

const section = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `${what} is empty: write it`)
    .max(MAX_SECTION_LENGTH, `${what} must be at most ${MAX_SECTION_LENGTH} characters`);

const followUpSchema = z.strictObject({
  action: z.string().trim().min(1, 'needs an action').max(MAX_FOLLOW_UP_PART_LENGTH),
  owner: z.string().trim().min(1, 'needs an owner').max(MAX_FOLLOW_UP_PART_LENGTH),
});

/** What the author writes (the CLI's Markdown or the console's form): no author, no time. */
export const postmortemContentSchema = z.strictObject({
  whatHappened: section('"What happened"'),
  impact: section('"Impact"'),
  fix: section('"The fix"'),
  followUps: z
    .array(followUpSchema)
    .min(1, '"Follow-up actions" lists none: name at least one, with its owner'),
});

export type PostmortemContent = z.infer<typeof postmortemContentSchema>;
export type FollowUp = PostmortemContent['followUps'][number];

export interface Postmortem extends PostmortemContent {
  readonly incidentId: string;
  readonly writtenBy: string;
  readonly writtenAt: string;
  /** 1 for the first write; each rewrite replaces the document and counts up. */
  readonly version: number;
}

export interface PostmortemStore {
  getPostmortem(incidentId: string): Promise<Postmortem | undefined>;
  /** Writes `content` as the incident's postmortem, replacing any earlier version; returns what it stored. */
  putPostmortem(
    incidentId: string,
    content: PostmortemContent,
    by: { writtenBy: string; writtenAt: string },
  ): Promise<Postmortem>;
}

/** A postmortem the author must correct: the message names the section or the line. */
export class InvalidPostmortemError extends Error {
  override name = 'InvalidPostmortemError';
}

/** Validated content, or InvalidPostmortemError naming the first problem. */
export function checkPostmortemContent(content: unknown): PostmortemContent {
  const parsed = postmortemContentSchema.safeParse(content);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where =
    issue?.path[0] === 'followUps' && typeof issue.path[1] === 'number'
      ? `follow-up ${issue.path[1] + 1} `
      : '';
  throw new InvalidPostmortemError(`${where}${issue?.message ?? 'invalid postmortem'}`);
}

/** The Markdown sections, in the order a postmortem file has them. */
export const POSTMORTEM_SECTIONS = [
  { heading: 'What happened', field: 'whatHappened' },
  { heading: 'Impact', field: 'impact' },
  { heading: 'The fix', field: 'fix' },
  { heading: 'Follow-up actions', field: 'followUps' },
] as const;

export const POSTMORTEM_MARKDOWN_HELP = `A postmortem file is Markdown with these four sections (an optional "# title" line first):
  ## What happened
  ## Impact
  ## The fix
  ## Follow-up actions
    - <action> — <owner>        one line per action (an em dash, or " -- ", between action and owner)`;

/** `action — owner` (or `action -- owner`): one follow-up action with its owner. */
export function parseFollowUpLine(line: string): FollowUp | undefined {
  const match = /^(.+?)\s+(?:—|--)\s+(.+)$/.exec(line.trim());
  if (!match) return undefined;
  return { action: (match[1] as string).trim(), owner: (match[2] as string).trim() };
}

/** A postmortem's Markdown (POSTMORTEM_MARKDOWN_HELP), strictly: any stray heading or line is an error. */
export function parsePostmortemMarkdown(markdown: string): PostmortemContent {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const bodies = new Map<string, string[]>();
  let current: string | undefined;
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    const lineNo = i + 1;
    const heading = /^##\s+(.+?)\s*#*$/.exec(line);
    if (heading) {
      const name = (heading[1] as string).trim();
      const known = POSTMORTEM_SECTIONS.find((s) => s.heading.toLowerCase() === name.toLowerCase());
      if (!known)
        throw new InvalidPostmortemError(
          `line ${lineNo}: unknown section "## ${name}"; the sections are ${POSTMORTEM_SECTIONS.map((s) => `"## ${s.heading}"`).join(', ')}`,
        );
      if (bodies.has(known.field))
        throw new InvalidPostmortemError(`line ${lineNo}: section "## ${known.heading}" appears twice`);
      bodies.set(known.field, []);
      current = known.field;
      return;
    }
    if (current === undefined) {
      if (line.trim() === '' || /^#\s/.test(line)) return;
      throw new InvalidPostmortemError(
        `line ${lineNo}: text before the first section; start with "## What happened"`,
      );
    }
    if (current === 'followUps') {
      if (line.trim() === '') return;
      const item = /^\s*[-*]\s+(.*)$/.exec(line);
      const followUp = item ? parseFollowUpLine(item[1] as string) : undefined;
      if (!followUp)
        throw new InvalidPostmortemError(
          `line ${lineNo}: "${line.trim()}" is not a follow-up action; write "- <action> — <owner>"`,
        );
      (bodies.get(current) as string[]).push(JSON.stringify(followUp));
      return;
    }
    (bodies.get(current) as string[]).push(line);
  });
  for (const { heading, field } of POSTMORTEM_SECTIONS) {
    if (!bodies.has(field)) throw new InvalidPostmortemError(`the section "## ${heading}" is missing`);
  }
  const text = (field: string) => (bodies.get(field) ?? []).join('\n').trim();
  return checkPostmortemContent({
    whatHappened: text('whatHappened'),
    impact: text('impact'),
    fix: text('fix'),
    followUps: (bodies.get('followUps') ?? []).map((json) => JSON.parse(json) as FollowUp),
  });
}

/**
 * The console form's fields as content: follow-ups one per line, `action — owner` (a leading `- ` is
 * allowed); a bad line is named by its number.
 */
export function postmortemFromForm(form: {
  whatHappened: string;
  impact: string;
  fix: string;
  followUps: string;
}): PostmortemContent {
  const followUps = form.followUps
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line, i) => ({ line: line.trim().replace(/^[-*]\s+/, ''), n: i + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, n }) => {
      const followUp = parseFollowUpLine(line);
      if (!followUp)
        throw new InvalidPostmortemError(
          `"Follow-up actions" line ${n}: "${line}" is not "<action> — <owner>"`,
        );
      return followUp;
    });
  return checkPostmortemContent({ ...form, followUps });
}
