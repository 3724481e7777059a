import * as z from 'zod';
import { FLAG_ATTRIBUTES, MASTER_FLAG } from '#lib/kill-switch/names.ts';

/**
 * The AppConfig feature-flag document (`AWS.AppConfig.FeatureFlags`, version 1) as stored in a hosted
 * configuration version, and the flat form AppConfigData serves to readers.
 */
export interface FlagValue {
  readonly enabled: boolean;
  readonly reason?: string;
  readonly changedBy?: string;
  readonly changedAt?: string;
}

export interface FeatureFlagDocument {
  readonly version: '1';
  readonly flags: Record<
    string,
    { name: string; description?: string; attributes?: Record<string, unknown> }
  >;
  readonly values: Record<string, FlagValue>;
}

/** What AppConfigData returns for a feature-flag profile: `{ "<flag>": { "enabled": …, …attributes } }`. */
export type FlagValues = Record<string, FlagValue>;

const stringAttribute = { constraints: { type: 'string' } };

/** The initial document: every workflow's autonomous lane and the master flag allowed. */
export function initialFlagDocument(workflowIds: readonly string[], at: string): FeatureFlagDocument {
  const flags: FeatureFlagDocument['flags'] = {};
  const values: Record<string, FlagValue> = {};
  for (const key of [MASTER_FLAG, ...workflowIds]) {
    flags[key] = {
      name: key === MASTER_FLAG ? 'All autonomous lanes' : `${key} autonomous lane`,
      description:
        key === MASTER_FLAG
          ? 'Off stops every autonomous lane at once, whatever the workflow flags say.'
          : `On: the ${key} agent may act without a human. Off: it must route to a human (HITL).`,
      attributes: Object.fromEntries(FLAG_ATTRIBUTES.map((name) => [name, stringAttribute])),
    };
    values[key] = { enabled: true, reason: 'initial', changedBy: 'agent-ledger', changedAt: at };
  }
  return { version: '1', flags, values };
}

const flagValueSchema = z.looseObject({
  enabled: z.boolean(),
  reason: z.string().optional(),
  changedBy: z.string().optional(),
  changedAt: z.string().optional(),
});

export class UnreadableFlagsError extends Error {
  override name = 'UnreadableFlagsError';
}

/** The flat values AppConfigData served; anything else is unreadable (and the switch fails closed). */
export function parseFlagValues(content: string): FlagValues {
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch {
    throw new UnreadableFlagsError('the flag configuration is not JSON');
  }
  const parsed = z.record(z.string(), flagValueSchema).safeParse(raw);
  if (!parsed.success)
    throw new UnreadableFlagsError('the flag configuration is not a feature-flag value map');
  return parsed.data;
}

/** The full document stored in a hosted configuration version. */
export function parseFlagDocument(content: string): FeatureFlagDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch {
    throw new UnreadableFlagsError('the flag document is not JSON');
  }
  const parsed = z
    .looseObject({
      version: z.literal('1'),
      flags: z.record(z.string(), z.looseObject({ name: z.string() })),
      values: z.record(z.string(), flagValueSchema),
    })
    .safeParse(raw);
  if (!parsed.success)
    throw new UnreadableFlagsError('the flag document is not an AppConfig feature-flag document');
  return parsed.data as FeatureFlagDocument;
}

/** AppConfigData's view of a document: each flag's value, `enabled: false` for a flag with no value. */
export function flagValuesOf(document: FeatureFlagDocument): FlagValues {
  return Object.fromEntries(
    Object.keys(document.flags).map((key) => [key, document.values[key] ?? { enabled: false }]),
  );
}

/** A copy of the document with one flag set, stamped with why, who and when. */
export function withFlag(
  document: FeatureFlagDocument,
  key: string,
  change: { enabled: boolean; reason: string; changedBy: string; changedAt: string },
): FeatureFlagDocument {
  if (!document.flags[key]) throw new UnreadableFlagsError(`the flag document has no flag '${key}'`);
  return { ...document, values: { ...document.values, [key]: { ...change } } };
}

/**
 * Brings a document in line with the registry without touching any flag it already has: new workflows
 * (and the master flag) are added with their lane allowed; existing values, paused lanes included, stay.
 * This is how both homes provision the kill switch, so a redeploy can never turn a paused lane back on.
 */
export function withRegisteredFlags(
  document: FeatureFlagDocument | undefined,
  workflowIds: readonly string[],
  at: string,
): { document: FeatureFlagDocument; added: string[] } {
  const complete = initialFlagDocument(workflowIds, at);
  if (!document) return { document: complete, added: Object.keys(complete.flags) };
  const added = Object.keys(complete.flags).filter((key) => !document.flags[key]);
  if (added.length === 0) return { document, added };
  return {
    document: {
      ...document,
      flags: { ...document.flags, ...pick(complete.flags, added) },
      values: {
        ...document.values,
        ...Object.fromEntries(
          Object.entries(pick(complete.values, added)).map(([key, value]) => [
            key,
            { ...value, reason: 'registered' },
          ]),
        ),
      },
    },
    added,
  };
}

function pick<T>(record: Record<string, T>, keys: readonly string[]): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => keys.includes(key)));
}
