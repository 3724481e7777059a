/**
 * The `AWS.AppConfig.FeatureFlags` document, checked the way AppConfig checks a hosted version of a
 * feature-flag profile (its published JSON schema "Type reference for AWS.AppConfig.FeatureFlags", plus
 * the attribute constraints a flag declares), and the flat map AppConfigData serves in its place.
 */
import { messageOf } from '#lib/errors.ts';

export interface Problem {
  /** A JSON pointer to what is wrong, e.g. `/values/checkout/enabled`. */
  readonly location: string;
  readonly reason: string;
}

type Json = Record<string, unknown>;

const KEY = /^[a-z][a-zA-Z\d_-]{0,63}$/;
const CUSTOMER_NAME = /^[^\n]{1,64}$/;
const MAX_STRING = 1024;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every problem with the document (empty when AppConfig would accept it). */
export function featureFlagProblems(content: Buffer): Problem[] {
  let document: unknown;
  try {
    document = JSON.parse(content.toString('utf8'));
  } catch (error) {
    return [{ location: '/', reason: `not valid JSON (${messageOf(error)})` }];
  }
  const problems: Problem[] = [];
  const problem = (location: string, reason: string) => problems.push({ location, reason });
  if (!isObject(document)) {
    problem('/', 'must be a JSON object with "version", "flags" and "values"');
    return problems;
  }
  onlyKeys(document, '', ['version', 'flags', 'values'], problem);
  if (document.version !== '1') problem('/version', 'must be the string "1"');

  // AppConfig's schema lets "flags" and "values" be absent (an empty flag set), never anything but objects.
  const flags = document.flags ?? {};
  const values = document.values ?? {};
  if (!isObject(flags)) problem('/flags', 'must be an object of flag definitions keyed by flag key');
  if (!isObject(values)) problem('/values', 'must be an object of flag values keyed by flag key');
  if (!isObject(flags) || !isObject(values)) return problems;

  for (const [key, flag] of Object.entries(flags)) checkFlag(key, flag, problem);
  for (const [key, value] of Object.entries(values)) {
    const at = `/values/${key}`;
    const flag = flags[key];
    if (!isObject(flag)) {
      problem(at, `"${key}" has a value but no definition under "flags"`);
      continue;
    }
    checkValue(at, value, isObject(flag.attributes) ? flag.attributes : {}, problem);
  }
  return problems;
}

function checkFlag(key: string, flag: unknown, problem: (location: string, reason: string) => void): void {
  const at = `/flags/${key}`;
  if (!KEY.test(key)) problem(at, `flag key must match ${KEY.source}`);
  if (!isObject(flag)) {
    problem(at, 'must be an object (name, description, attributes)');
    return;
  }
  onlyKeys(
    flag,
    at,
    ['name', 'description', '_createdAt', '_updatedAt', '_deprecation', 'attributes'],
    problem,
  );
  if (flag.name !== undefined && !(typeof flag.name === 'string' && CUSTOMER_NAME.test(flag.name)))
    problem(`${at}/name`, 'must be a string of 1 to 64 characters on one line');
  if (flag.description !== undefined && !isShortString(flag.description))
    problem(`${at}/description`, `must be a string of at most ${MAX_STRING} characters`);
  if (flag.attributes === undefined) return;
  if (!isObject(flag.attributes)) {
    problem(`${at}/attributes`, 'must be an object of attribute definitions');
    return;
  }
  const names = Object.keys(flag.attributes);
  if (names.length > 25) problem(`${at}/attributes`, 'a flag may declare at most 25 attributes');
  for (const name of names) {
    const where = `${at}/attributes/${name}`;
    const attribute = flag.attributes[name];
    if (!KEY.test(name)) problem(where, `attribute name must match ${KEY.source}`);
    if (!isObject(attribute)) {
      problem(where, 'must be an object (description, constraints)');
      continue;
    }
    onlyKeys(attribute, where, ['description', 'constraints'], problem);
    if (attribute.constraints !== undefined)
      checkConstraints(`${where}/constraints`, attribute.constraints, problem);
  }
}

/** The keys each constraint type allows; AppConfig rejects any other (e.g. `maxLength`). */
const CONSTRAINT_KEYS: Record<string, readonly string[]> = {
  string: ['type', 'required', 'pattern', 'enum'],
  number: ['type', 'required', 'minimum', 'maximum'],
  array: ['type', 'required', 'elements'],
  boolean: ['type', 'required'],
};

function checkConstraints(
  at: string,
  constraints: unknown,
  problem: (location: string, reason: string) => void,
) {
  if (!isObject(constraints)) {
    problem(at, 'must be an object with a "type"');
    return;
  }
  const allowed = typeof constraints.type === 'string' ? CONSTRAINT_KEYS[constraints.type] : undefined;
  if (!allowed) {
    problem(`${at}/type`, 'must be one of "string", "number", "array", "boolean"');
    return;
  }
  onlyKeys(constraints, at, allowed, problem);
  if (constraints.required !== undefined && typeof constraints.required !== 'boolean')
    problem(`${at}/required`, 'must be a boolean');
  if (constraints.pattern !== undefined && constraints.enum !== undefined)
    problem(at, '"pattern" and "enum" cannot both be set');
  if (constraints.pattern !== undefined) {
    if (!isShortString(constraints.pattern)) problem(`${at}/pattern`, 'must be a string');
    else if (!compiles(constraints.pattern)) problem(`${at}/pattern`, 'is not a valid regular expression');
  }
  if (constraints.enum !== undefined && !Array.isArray(constraints.enum))
    problem(`${at}/enum`, 'must be an array');
  for (const bound of ['minimum', 'maximum'] as const) {
    if (constraints[bound] !== undefined && !Number.isInteger(constraints[bound]))
      problem(`${at}/${bound}`, 'must be an integer');
  }
  if (constraints.elements !== undefined) {
    const elements = constraints.elements;
    if (!isObject(elements) || (elements.type !== 'string' && elements.type !== 'number'))
      problem(`${at}/elements`, 'must be string or number constraints');
    else checkConstraints(`${at}/elements`, elements, problem);
  }
}

function checkValue(
  at: string,
  value: unknown,
  attributes: Json,
  problem: (location: string, reason: string) => void,
): void {
  if (!isObject(value)) {
    problem(at, 'must be an object with a boolean "enabled"');
    return;
  }
  if (typeof value.enabled !== 'boolean') problem(`${at}/enabled`, 'must be true or false');
  if (value._variants !== undefined && !Array.isArray(value._variants))
    problem(`${at}/_variants`, 'must be an array');
  for (const [name, attributeValue] of Object.entries(value)) {
    if (['enabled', '_createdAt', '_updatedAt', '_variants'].includes(name)) continue;
    const where = `${at}/${name}`;
    if (!KEY.test(name)) {
      problem(where, `is not allowed (attribute names must match ${KEY.source})`);
      continue;
    }
    if (!isAttributeValue(attributeValue)) {
      problem(
        where,
        `must be a string (at most ${MAX_STRING} characters), a number, a boolean, or an array of strings or of numbers`,
      );
      continue;
    }
    const definition = attributes[name];
    if (isObject(definition) && isObject(definition.constraints))
      checkAgainst(where, attributeValue, definition.constraints, problem);
  }
  // A required attribute only matters when the flag is on: AppConfigData serves attributes of enabled flags only.
  if (value.enabled === true) {
    for (const [name, definition] of Object.entries(attributes)) {
      if (
        isObject(definition) &&
        isObject(definition.constraints) &&
        definition.constraints.required === true
      )
        if (value[name] === undefined)
          problem(`${at}/${name}`, "is required by the flag's attribute constraints");
    }
  }
}

/** A value against its declared constraints: the reason AppConfig has constraints at all. */
function checkAgainst(
  at: string,
  value: unknown,
  constraints: Json,
  problem: (location: string, reason: string) => void,
): void {
  const type = constraints.type;
  const actual = Array.isArray(value) ? 'array' : typeof value;
  if (actual !== type) {
    problem(at, `must be a ${String(type)} (the attribute's constraints say so), got ${actual}`);
    return;
  }
  if (typeof value === 'string') {
    if (
      typeof constraints.pattern === 'string' &&
      compiles(constraints.pattern) &&
      !new RegExp(constraints.pattern).test(value)
    )
      problem(at, `does not match the pattern ${constraints.pattern}`);
    if (Array.isArray(constraints.enum) && !constraints.enum.includes(value))
      problem(at, `must be one of ${JSON.stringify(constraints.enum)}`);
  }
  if (typeof value === 'number') {
    if (typeof constraints.minimum === 'number' && value < constraints.minimum)
      problem(at, `must be at least ${constraints.minimum}`);
    if (typeof constraints.maximum === 'number' && value > constraints.maximum)
      problem(at, `must be at most ${constraints.maximum}`);
  }
  if (Array.isArray(value) && isObject(constraints.elements)) {
    value.forEach((element, index) => {
      checkAgainst(`${at}/${index}`, element, constraints.elements as Json, problem);
    });
  }
}

/**
 * What AppConfigData serves for a feature-flag profile: the definitions are dropped, every flag maps to
 * `{ enabled }`, and only an enabled flag carries its attribute values (AppConfig's documented "simplified
 * JSON"). A flag without a value is served disabled. Call only on a document that passed the check.
 */
export function servedFlagValues(content: Buffer): Record<string, Record<string, unknown>> {
  const document = JSON.parse(content.toString('utf8')) as { flags?: Json; values?: Json };
  const served: Record<string, Record<string, unknown>> = {};
  for (const key of Object.keys(document.flags ?? {})) {
    const value = document.values?.[key];
    if (!isObject(value) || value.enabled !== true) {
      served[key] = { enabled: false };
      continue;
    }
    const attributes = Object.entries(value).filter(([name]) => name !== 'enabled' && !name.startsWith('_'));
    served[key] = { enabled: true, ...Object.fromEntries(attributes) };
  }
  return served;
}

function onlyKeys(
  object: Json,
  at: string,
  allowed: readonly string[],
  problem: (location: string, reason: string) => void,
): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key))
      problem(`${at}/${key}`, `is not allowed here (allowed: ${allowed.join(', ')})`);
  }
}

function isShortString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_STRING;
}

function isAttributeValue(value: unknown): boolean {
  if (typeof value === 'string') return value.length <= MAX_STRING;
  if (typeof value === 'number' || typeof value === 'boolean') return true;
  if (!Array.isArray(value)) return false;
  return value.every(isShortString) || value.every((element) => typeof element === 'number');
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
