import { parseWorkflowScope } from '#lib/auth/caller.ts';
import type { TokenRecord } from '#lib/auth/tokens.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';

/**
 * People in the console, and what each may do (SPEC "Console"). Roles are per workflow: a `viewer` reads,
 * a `reviewer` judges the sample, an `operator` flips the kill switch and runs drills. Any role on a
 * workflow lets its holder read that workflow; judging and flipping need their own role. Every request
 * is checked on the server with these functions; the pages only leave out what a person may not use.
 */
export const ROLES = ['viewer', 'reviewer', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** Which workflows a role covers: `'*'` every registered one, else a set (empty: the role is not held). */
export type WorkflowScope = ReadonlySet<string> | '*';

export interface Person {
  /** Stable and unique: `token:<tokenId>` or `oidc:<subject>`. */
  readonly id: string;
  /** Who they are, as verdicts and flips record them: a token's label, a user's name or email. */
  readonly name: string;
  readonly roles: Readonly<Record<Role, WorkflowScope>>;
}

const NO_WORKFLOWS: WorkflowScope = new Set<string>();

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** `viewer,reviewer` → the roles, or the words that are not roles. */
export function parseRoles(text: string): { roles: Role[] } | { unknown: string[] } {
  const words = text
    .split(',')
    .map((word) => word.trim())
    .filter((word) => word.length > 0);
  const unknown = words.filter((word) => !isRole(word));
  if (unknown.length > 0) return { unknown };
  return { roles: ROLES.filter((role) => words.includes(role)) };
}

/**
 * The person a token stands for: its label is their name, its roles apply to its workflows. A token
 * without roles (or without a label to record them by) is an agent service's: it cannot sign in.
 */
export function personFromToken(record: TokenRecord): Person | undefined {
  const parsed = parseRoles(record.roles ?? '');
  if (!('roles' in parsed) || parsed.roles.length === 0 || !record.label) return undefined;
  const workflows = parseWorkflowScope(record.workflows);
  return {
    id: `token:${record.tokenId}`,
    name: record.label,
    roles: {
      viewer: parsed.roles.includes('viewer') ? workflows : NO_WORKFLOWS,
      reviewer: parsed.roles.includes('reviewer') ? workflows : NO_WORKFLOWS,
      operator: parsed.roles.includes('operator') ? workflows : NO_WORKFLOWS,
    },
  };
}

/**
 * The person a user pool's ID token stands for. Groups name roles: `operator` holds the role on every
 * workflow, `operator:support-triage` on that workflow only; other groups are ignored. Without a role
 * group the user has nothing to see, and is not signed in.
 */
export function personFromGroups(claims: {
  subject: string;
  name: string;
  groups: readonly string[];
}): Person | undefined {
  const scopes: Record<Role, Set<string> | '*'> = {
    viewer: new Set(),
    reviewer: new Set(),
    operator: new Set(),
  };
  for (const group of claims.groups) {
    const [role, workflowId, extra] = group.split(':');
    if (role === undefined || !isRole(role) || extra !== undefined) continue;
    if (workflowId === undefined || workflowId === '*') scopes[role] = '*';
    else {
      const scope = scopes[role];
      if (scope !== '*' && workflowId.length > 0) scope.add(workflowId);
    }
  }
  if (ROLES.every((role) => scopes[role] !== '*' && (scopes[role] as Set<string>).size === 0))
    return undefined;
  return { id: `oidc:${claims.subject}`, name: claims.name, roles: scopes };
}

/** The Cognito group that gives `role` on `workflowId` (or on every workflow, without one). */
export function roleGroup(role: Role, workflowId?: string): string {
  return workflowId === undefined ? role : `${role}:${workflowId}`;
}

function covers(scope: WorkflowScope, workflowId: string): boolean {
  return scope === '*' || scope.has(workflowId);
}

export function hasRole(person: Person, role: Role, workflowId: string): boolean {
  return covers(person.roles[role], workflowId);
}

/** Any role on a workflow lets its holder read it. */
export function mayView(person: Person, workflowId: string): boolean {
  return ROLES.some((role) => hasRole(person, role, workflowId));
}

export function mayReview(person: Person, workflowId: string): boolean {
  return hasRole(person, 'reviewer', workflowId);
}

/**
 * Flipping and drilling a workflow's lane take the operator role on it; the master flag, which stops
 * every autonomous lane, takes the operator role on every workflow.
 */
export function mayOperate(person: Person, flag: string): boolean {
  if (flag === MASTER_FLAG) return person.roles.operator === '*';
  return hasRole(person, 'operator', flag);
}

/** The roles a person holds on a workflow, in ROLES order. */
export function rolesOn(person: Person, workflowId: string): Role[] {
  return ROLES.filter((role) => hasRole(person, role, workflowId));
}
