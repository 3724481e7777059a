import { describe, expect, it } from 'vitest';
import {
  mayOperate,
  mayReview,
  mayView,
  type Person,
  parseRoles,
  personFromGroups,
  personFromToken,
  ROLES,
  type Role,
  roleGroup,
  rolesOn,
  type WorkflowScope,
} from '#lib/auth/people.ts';
import { issueToken, type TokenRecord } from '#lib/auth/tokens.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';

const NOW = new Date('2026-12-01T12:00:00Z');

function tokenRecord(input: { workflows: string; roles?: string; label?: string }): TokenRecord {
  return issueToken({ ...input, now: NOW }).record;
}

/** A person holding each given role on the given scope, and no other role. */
function person(roles: Partial<Record<Role, WorkflowScope>>): Person {
  const none: WorkflowScope = new Set<string>();
  return {
    id: 'test:someone',
    name: 'someone',
    roles: {
      viewer: roles.viewer ?? none,
      reviewer: roles.reviewer ?? none,
      operator: roles.operator ?? none,
    },
  };
}

const only = (...workflowIds: string[]): WorkflowScope => new Set(workflowIds);

describe('parseRoles', () => {
  it('reads a comma-separated list into ROLES order, each once, ignoring blanks', () => {
    expect(parseRoles('operator, viewer,,operator')).toEqual({ roles: ['viewer', 'operator'] });
    expect(parseRoles('reviewer')).toEqual({ roles: ['reviewer'] });
  });

  it('names the words that are not roles', () => {
    expect(parseRoles('viewer,admin,Owner')).toEqual({ unknown: ['admin', 'Owner'] });
  });

  it('reads an empty list as no roles', () => {
    expect(parseRoles('')).toEqual({ roles: [] });
    expect(parseRoles(' , ')).toEqual({ roles: [] });
  });
});

describe('personFromToken', () => {
  it("is undefined for an agent service's token, which has no roles", () => {
    expect(personFromToken(tokenRecord({ workflows: '*', label: 'triage-bot' }))).toBeUndefined();
  });

  it('is undefined for a token with roles but no label to record the person by', () => {
    expect(personFromToken(tokenRecord({ workflows: '*', roles: 'reviewer' }))).toBeUndefined();
  });

  it('is undefined when the stored roles hold a word that is not a role', () => {
    const record = tokenRecord({ workflows: '*', roles: 'reviewer,admin', label: 'reviewer-a' });
    expect(personFromToken(record)).toBeUndefined();
  });

  it("gives the token's roles on every workflow for scope '*'", () => {
    // Prepare
    const record = tokenRecord({ workflows: '*', roles: 'operator', label: 'oncall-b' });

    // Act
    const signedIn = personFromToken(record);

    // Assess
    expect(signedIn).toMatchObject({ id: `token:${record.tokenId}`, name: 'oncall-b' });
    expect(signedIn?.roles.operator).toBe('*');
    expect(signedIn?.roles.viewer).toEqual(new Set());
    expect(signedIn?.roles.reviewer).toEqual(new Set());
  });

  it("gives the token's roles on its listed workflows only", () => {
    // Prepare
    const record = tokenRecord({
      workflows: 'support-triage,code-review',
      roles: 'viewer,reviewer',
      label: 'reviewer-a',
    });

    // Act
    const signedIn = personFromToken(record) as Person;

    // Assess
    expect(signedIn.name).toBe('reviewer-a');
    expect(signedIn.roles.viewer).toEqual(only('support-triage', 'code-review'));
    expect(signedIn.roles.reviewer).toEqual(only('support-triage', 'code-review'));
    expect(signedIn.roles.operator).toEqual(new Set());
    expect(rolesOn(signedIn, 'support-triage')).toEqual(['viewer', 'reviewer']);
    expect(rolesOn(signedIn, 'invoice-matching')).toEqual([]);
  });
});

describe('personFromGroups', () => {
  const claims = (...groups: string[]) => ({ subject: 'sub-1', name: 'Ada', groups });

  it('gives a bare role group on every workflow', () => {
    const signedIn = personFromGroups(claims('operator'));
    expect(signedIn).toMatchObject({ id: 'oidc:sub-1', name: 'Ada' });
    expect(signedIn?.roles.operator).toBe('*');
    expect(signedIn?.roles.reviewer).toEqual(new Set());
  });

  it('gives a role:workflow group on that workflow only', () => {
    const signedIn = personFromGroups(claims('reviewer:support-triage')) as Person;
    expect(signedIn.roles.reviewer).toEqual(only('support-triage'));
    expect(mayReview(signedIn, 'support-triage')).toBe(true);
    expect(mayReview(signedIn, 'code-review')).toBe(false);
  });

  it('gathers the workflows of several groups of one role, and a bare group wins', () => {
    expect(personFromGroups(claims('viewer:support-triage', 'viewer:code-review'))?.roles.viewer).toEqual(
      only('support-triage', 'code-review'),
    );
    expect(personFromGroups(claims('viewer:support-triage', 'viewer'))?.roles.viewer).toBe('*');
    expect(personFromGroups(claims('viewer', 'viewer:support-triage'))?.roles.viewer).toBe('*');
  });

  it('ignores groups that are not role groups', () => {
    const signedIn = personFromGroups(
      claims('admins', 'reviewer:support-triage:extra', 'a:b:c', 'reviewer:', 'operator:code-review'),
    ) as Person;
    expect(signedIn.roles).toEqual({
      viewer: new Set(),
      reviewer: new Set(),
      operator: only('code-review'),
    });
  });

  it('is undefined without a role group', () => {
    expect(personFromGroups(claims())).toBeUndefined();
    expect(personFromGroups(claims('admins', 'a:b:c', 'Operator', 'viewer:'))).toBeUndefined();
  });
});

describe('mayView', () => {
  it.each(ROLES)('lets a %s read their workflows, and no other', (role) => {
    const holder = person({ [role]: only('support-triage') });
    expect(mayView(holder, 'support-triage')).toBe(true);
    expect(mayView(holder, 'code-review')).toBe(false);
  });

  it('lets a role on every workflow read any', () => {
    expect(mayView(person({ reviewer: '*' }), 'invoice-matching')).toBe(true);
  });

  it('lets nobody without a role read', () => {
    expect(mayView(person({}), 'support-triage')).toBe(false);
  });
});

describe('mayReview', () => {
  it('does not let a viewer judge', () => {
    expect(mayReview(person({ viewer: '*' }), 'support-triage')).toBe(false);
  });

  it('lets a reviewer judge their workflows only', () => {
    const reviewer = person({ reviewer: only('support-triage') });
    expect(mayReview(reviewer, 'support-triage')).toBe(true);
    expect(mayReview(reviewer, 'code-review')).toBe(false);
  });

  it('does not let an operator without the reviewer role judge', () => {
    expect(mayReview(person({ viewer: '*', operator: '*' }), 'support-triage')).toBe(false);
  });
});

describe('mayOperate', () => {
  it('does not let a reviewer flip', () => {
    const reviewer = person({ viewer: '*', reviewer: '*' });
    expect(mayOperate(reviewer, 'support-triage')).toBe(false);
    expect(mayOperate(reviewer, MASTER_FLAG)).toBe(false);
  });

  it('lets an operator on one workflow flip it, but neither another nor the master flag', () => {
    const operator = person({ operator: only('support-triage') });
    expect(mayOperate(operator, 'support-triage')).toBe(true);
    expect(mayOperate(operator, 'code-review')).toBe(false);
    expect(mayOperate(operator, MASTER_FLAG)).toBe(false);
  });

  it('does not let an operator on a list of workflows flip the master flag', () => {
    const operator = person({ operator: only('support-triage', 'code-review') });
    expect(mayOperate(operator, MASTER_FLAG)).toBe(false);
  });

  it("lets an operator on '*' flip any workflow and the master flag", () => {
    const operator = person({ operator: '*' });
    expect(mayOperate(operator, 'code-review')).toBe(true);
    expect(mayOperate(operator, MASTER_FLAG)).toBe(true);
  });
});

describe('rolesOn', () => {
  it('lists the roles held on a workflow in ROLES order', () => {
    const holder = person({ operator: '*', viewer: only('code-review'), reviewer: only('support-triage') });
    expect(rolesOn(holder, 'code-review')).toEqual(['viewer', 'operator']);
    expect(rolesOn(holder, 'support-triage')).toEqual(['reviewer', 'operator']);
    expect(rolesOn(person({}), 'code-review')).toEqual([]);
  });
});

describe('roleGroup', () => {
  it('names the group for a role on one workflow, or on all of them', () => {
    expect(roleGroup('reviewer', 'support-triage')).toBe('reviewer:support-triage');
    expect(roleGroup('operator')).toBe('operator');
  });

  it('names groups that personFromGroups reads back', () => {
    const signedIn = personFromGroups({
      subject: 's',
      name: 'n',
      groups: [roleGroup('reviewer', 'support-triage'), roleGroup('viewer')],
    }) as Person;
    expect(signedIn.roles.reviewer).toEqual(only('support-triage'));
    expect(signedIn.roles.viewer).toBe('*');
  });
});
