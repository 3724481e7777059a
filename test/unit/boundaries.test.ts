import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BoundaryViolation, boundaryViolations, conditionHolds } from '#lib/boundaries/check.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import type { Condition, Workflow } from '#lib/registry/workflows.ts';

const supportTriage = defaultRegistry.get('support-triage') as Workflow;
const codeReview = defaultRegistry.get('code-review') as Workflow;

const call = (name: string, parameters?: unknown) => ({
  name,
  endpoint: 'https://tools.internal',
  parameters,
  outcome: 'success',
});
/** An approval by `approverId`; lead-7 is a support lead and alice a code owner in the shipped registry. */
const approvalBy = (approverId: unknown, decision: 'approved' | 'edited' | 'rejected') => ({
  approverId,
  decision,
  decidedAt: '2026-11-24T11:00:00Z',
});
const approval = (decision: 'approved' | 'edited' | 'rejected') => approvalBy('lead-7', decision);
const ids = (violations: BoundaryViolation[]) =>
  violations.map((v) => `${v.kind}:${v.ruleId}@${v.toolCallIndex}`);

describe('conditionHolds', () => {
  const holds = (path: string, op: Condition['op'], value: unknown, parameters: unknown) =>
    conditionHolds({ path, op, value } as Condition, parameters);

  it.each([
    ['>', 500, 600, true],
    ['>', 500, 500, false],
    ['>=', 500, 500, true],
    ['>=', 500, 499.99, false],
    ['<', 10, 9, true],
    ['<', 10, 10, false],
    ['<=', 10, 10, true],
    ['<=', 10, 11, false],
  ] as const)('compares numbers with %s (%s vs %s)', (op, value, actual, expected) => {
    expect(holds('amount', op, value, { amount: actual })).toBe(expected);
  });

  it('compares a numeric string as its number, and any other string not at all', () => {
    expect(holds('amount', '>', 500, { amount: '600' })).toBe(true);
    expect(holds('amount', '>', 500, { amount: ' 600.50 ' })).toBe(true);
    expect(holds('amount', '>', 500, { amount: '6e2' })).toBe(true);
    expect(holds('amount', '<', 500, { amount: '400' })).toBe(true);
    for (const amount of ['600 USD', '$600', '0x300', '', 'Infinity', 'NaN', true, [600], { v: 600 }, null]) {
      expect(holds('amount', '>', 500, { amount })).toBe(false);
      expect(holds('amount', '<', 500, { amount })).toBe(false);
    }
    expect(holds('amount', '==', 600, { amount: '600.0' })).toBe(true);
    expect(holds('amount', '!=', 600, { amount: '600' })).toBe(false);
  });

  it('compares strings, booleans, null, arrays and objects as JSON with == and !=', () => {
    expect(holds('branch', '==', 'main', { branch: 'main' })).toBe(true);
    expect(holds('branch', '==', 'main', { branch: 'Main' })).toBe(false);
    expect(holds('branch', '!=', 'main', { branch: 'dev' })).toBe(true);
    expect(holds('branch', '!=', 'main', { branch: 'main' })).toBe(false);
    // Two strings compare as written, never as numbers.
    expect(holds('zip', '==', '02134', { zip: '2134' })).toBe(false);
    expect(holds('force', '==', true, { force: true })).toBe(true);
    expect(holds('force', '==', true, { force: 'true' })).toBe(false);
    expect(holds('note', '==', null, { note: null })).toBe(true);
    expect(holds('tags', '==', ['a', 'b'], { tags: ['a', 'b'] })).toBe(true);
    expect(holds('tags', '==', ['a', 'b'], { tags: ['b', 'a'] })).toBe(false);
    expect(holds('to', '==', { a: 1, b: [2] }, { to: { b: [2], a: 1 } })).toBe(true);
    expect(holds('to', '==', { a: 1 }, { to: { a: 1, b: 2 } })).toBe(false);
  });

  it('takes an array for "in", and is false for anything else', () => {
    expect(holds('field', 'in', ['email', 'payment_method'], { field: 'email' })).toBe(true);
    expect(holds('field', 'in', ['email', 'payment_method'], { field: 'name' })).toBe(false);
    expect(holds('code', 'in', [1, 2, 3], { code: '2' })).toBe(true);
    expect(holds('field', 'in', [], { field: 'email' })).toBe(false);
    expect(holds('field', 'in', 'email', { field: 'email' })).toBe(false);
  });

  it('follows dot paths into nested objects and arrays, own properties only', () => {
    const parameters = { customer: { tier: 'enterprise', seats: [{ n: 3 }] }, items: ['x', 'y'] };
    expect(holds('customer.tier', '==', 'enterprise', parameters)).toBe(true);
    expect(holds('customer.seats.0.n', '>', 2, parameters)).toBe(true);
    expect(holds('items.1', '==', 'y', parameters)).toBe(true);
    expect(holds('items.2', 'exists', undefined, parameters)).toBe(false);
    expect(holds('items.01', 'exists', undefined, parameters)).toBe(false);
    expect(holds('items.length', '>', 0, parameters)).toBe(false);
    expect(holds('customer.tier.length', '>', 0, parameters)).toBe(false);
    expect(holds('customer.toString', 'exists', undefined, parameters)).toBe(false);
    expect(holds('__proto__', 'exists', undefined, parameters)).toBe(false);
    expect(holds('constructor', '!=', 1, parameters)).toBe(false);
  });

  it('makes every comparison false for a missing parameter, and "exists" false too', () => {
    for (const parameters of [{}, { other: 1 }, undefined, null, 'text', 42, []]) {
      for (const op of ['>', '>=', '<', '<=', '==', '!=', 'in'] as const) {
        const value = op === 'in' ? [1] : op === '==' || op === '!=' ? 1 : 0;
        expect(holds('amount', op, value, parameters)).toBe(false);
      }
      expect(holds('amount', 'exists', undefined, parameters)).toBe(false);
    }
    expect(holds('amount', 'exists', undefined, { amount: 0 })).toBe(true);
    expect(holds('amount', 'exists', undefined, { amount: false })).toBe(true);
    // null is a value for == != in, no number for ordering, and not there for "exists".
    expect(holds('amount', '==', null, { amount: null })).toBe(true);
    expect(holds('amount', '!=', 1, { amount: null })).toBe(true);
    expect(holds('amount', 'in', [null], { amount: null })).toBe(true);
    expect(holds('amount', '>=', 0, { amount: null })).toBe(false);
    expect(holds('amount', 'exists', undefined, { amount: null })).toBe(false);
  });

  it('ignores the value of "exists"', () => {
    expect(holds('force', 'exists', false, { force: true })).toBe(true);
  });

  it('reads parameters sent as a JSON-encoded string, as many tool-calling APIs do', () => {
    expect(holds('amount', '>', 500, '{"amount": 600}')).toBe(true);
    expect(holds('amount', '>', 500, '{"amount": 6')).toBe(false);
  });

  it('is false for an unknown operator', () => {
    expect(holds('amount', '~' as Condition['op'], 1, { amount: 1 })).toBe(false);
  });
});

describe('boundaryViolations', () => {
  it('finds nothing in an action within the boundary', () => {
    const action = {
      toolCalls: [
        call('crm.lookupCustomer', { id: 1 }),
        call('refund', { amount: 40 }),
        call('post_reply', { customer: { tier: 'pro' } }),
      ],
    };
    expect(boundaryViolations(action, supportTriage)).toEqual([]);
  });

  it('flags a tool call that breaks a CANNOT rule, with the rule, the call and what was seen', () => {
    const violations = boundaryViolations(
      { toolCalls: [call('refund', { amount: 650 })], approval: approval('approved') },
      supportTriage,
    );
    expect(violations).toEqual([
      {
        kind: 'cannot',
        ruleId: 'refund-over-500',
        tool: 'refund',
        toolCallIndex: 0,
        message:
          'tool call 0 "refund" breaks CANNOT rule "refund-over-500" when amount > 500 (amount = 650): Refunds above $500 go to the billing team; the agent never issues them',
      },
    ]);
  });

  it('flags a CANNOT rule with no conditions on every call of its tool, whatever the outcome', () => {
    const action = { toolCalls: [{ ...call('close_account', { id: 'c-1' }), outcome: 'failure' }] };
    expect(ids(boundaryViolations(action, supportTriage))).toEqual(['cannot:close-account@0']);
    expect(ids(boundaryViolations({ toolCalls: [{ name: 'close_account' }] }, supportTriage))).toEqual([
      'cannot:close-account@0',
    ]);
  });

  it('flags a missing approval, naming the approver role', () => {
    const [violation] = boundaryViolations({ toolCalls: [call('refund', { amount: 250 })] }, supportTriage);
    expect(violation).toEqual({
      kind: 'approval',
      ruleId: 'refund-over-100',
      tool: 'refund',
      toolCallIndex: 0,
      message:
        'tool call 0 "refund" needs approval by support-lead under rule "refund-over-100" when amount > 100 (amount = 250), but the action has no approval: Refunds above $100 need a support lead’s approval',
    });
  });

  it('accepts an approved or edited approval, and flags a rejected one whose call was still made', () => {
    const toolCalls = [call('refund', { amount: 250 })];
    expect(boundaryViolations({ toolCalls, approval: approval('approved') }, supportTriage)).toEqual([]);
    expect(boundaryViolations({ toolCalls, approval: approval('edited') }, supportTriage)).toEqual([]);
    const rejected = boundaryViolations({ toolCalls, approval: approval('rejected') }, supportTriage);
    expect(ids(rejected)).toEqual(['approval:refund-over-100@0']);
    expect(rejected[0]?.message).toContain(
      'but the approval by "lead-7" was "rejected", yet the call was made',
    );
    // An approval without a usable decision approves nothing.
    for (const odd of [{ approverId: 'x' }, { decision: 'APPROVED' }, 'approved', null, []]) {
      expect(ids(boundaryViolations({ toolCalls, approval: odd }, supportTriage))).toEqual([
        'approval:refund-over-100@0',
      ]);
    }
  });

  it('checks nested paths in approval rules', () => {
    const reply = (tier: string) => ({ toolCalls: [call('post_reply', { customer: { tier } })] });
    expect(ids(boundaryViolations(reply('enterprise'), supportTriage))).toEqual([
      'approval:enterprise-reply@0',
    ]);
    expect(boundaryViolations(reply('free'), supportTriage)).toEqual([]);
  });

  it('checks every tool call of the action, in order, and every rule each one matches', () => {
    const action = {
      toolCalls: [
        call('crm.lookupCustomer', { id: 9 }),
        call('refund', { amount: '900' }),
        call('update_customer', { field: 'payment_method' }),
        call('refund', { amount: 120 }),
        call('close_account'),
      ],
    };
    expect(ids(boundaryViolations(action, supportTriage))).toEqual([
      'cannot:refund-over-500@1',
      'approval:refund-over-100@1',
      'cannot:change-login-or-payment@2',
      'approval:refund-over-100@3',
      'cannot:close-account@4',
    ]);
    // An approval on the action covers its approval rules, never its CANNOT rules.
    expect(ids(boundaryViolations({ ...action, approval: approval('edited') }, supportTriage))).toEqual([
      'cannot:refund-over-500@1',
      'cannot:change-login-or-payment@2',
      'cannot:close-account@4',
    ]);
  });

  it('requires every condition of a rule to hold', () => {
    const workflow = {
      autonomyBoundary: {
        ...supportTriage.autonomyBoundary,
        cannot: [
          {
            id: 'big-foreign-refund',
            description: 'd',
            tool: 'refund',
            when: [
              { path: 'amount', op: '>=', value: 50 },
              { path: 'currency', op: '!=', value: 'USD' },
            ] satisfies Condition[],
          },
        ],
        approvals: [],
      },
    };
    const refund = (parameters: unknown) =>
      ids(boundaryViolations({ toolCalls: [call('refund', parameters)] }, workflow));
    expect(refund({ amount: 50, currency: 'EUR' })).toEqual(['cannot:big-foreign-refund@0']);
    expect(refund({ amount: 50, currency: 'USD' })).toEqual([]);
    expect(refund({ amount: 49, currency: 'EUR' })).toEqual([]);
    expect(refund({ amount: 50 })).toEqual([]);
  });

  it('checks the code-review boundary: merges into main need a code owner, failing checks are forbidden', () => {
    const merge = (parameters: unknown, extra: Record<string, unknown> = {}) =>
      ids(boundaryViolations({ toolCalls: [call('merge', parameters)], ...extra }, codeReview));
    expect(merge({ target_branch: 'main', checks: { status: 'success' } })).toEqual([
      'approval:merge-to-main@0',
    ]);
    const byCodeOwner = { approval: approvalBy('alice', 'approved') };
    expect(merge({ target_branch: 'main', checks: { status: 'success' } }, byCodeOwner)).toEqual([]);
    expect(merge({ target_branch: 'main', checks: { status: 'failure' } }, byCodeOwner)).toEqual([
      'cannot:merge-failing-checks@0',
    ]);
    // A support lead is no code owner.
    expect(
      merge({ target_branch: 'main', checks: { status: 'success' } }, { approval: approval('approved') }),
    ).toEqual(['approver:merge-to-main@0']);
    expect(merge({ target_branch: 'release', checks: { status: 'success' } })).toEqual([
      'cannot:release-branches@0',
    ]);
    expect(merge({ target_branch: 'feature/x', checks: { status: 'success' }, changed_files: 51 })).toEqual([
      'approval:large-change@0',
    ]);
    expect(ids(boundaryViolations({ toolCalls: [call('push', { force: true })] }, codeReview))).toEqual([
      'cannot:force-push@0',
    ]);
    expect(boundaryViolations({ toolCalls: [call('push', { force: false })] }, codeReview)).toEqual([]);
  });

  it('reads JSON-encoded parameters', () => {
    const action = { toolCalls: [call('refund', '{"amount": 501}')], approval: approval('approved') };
    expect(ids(boundaryViolations(action, supportTriage))).toEqual(['cannot:refund-over-500@0']);
  });

  it('skips what is not a tool call, and an action with none', () => {
    const odd = [
      null,
      1,
      'refund',
      [],
      { parameters: { amount: 900 } },
      { name: 7, parameters: { amount: 900 } },
    ];
    expect(boundaryViolations({ toolCalls: odd }, supportTriage)).toEqual([]);
    for (const toolCalls of [undefined, null, {}, 'refund', 3]) {
      expect(boundaryViolations({ toolCalls }, supportTriage)).toEqual([]);
    }
    expect(boundaryViolations(null as never, supportTriage)).toEqual([]);
    expect(boundaryViolations({ toolCalls: [call('refund', { amount: 900 })] }, {} as never)).toEqual([]);
  });

  it('never throws, whatever the parameters and the approval', () => {
    const tool = fc.constantFrom(
      'refund',
      'close_account',
      'update_customer',
      'post_reply',
      'merge',
      'push',
      'x',
    );
    const parameters = fc.oneof(
      fc.jsonValue(),
      fc.anything({
        withNullPrototype: true,
        withBigInt: true,
        withSparseArray: true,
        withBoxedValues: true,
      }),
      fc.json(),
      fc.record({
        amount: fc.oneof(fc.double(), fc.string(), fc.integer().map(String), fc.jsonValue()),
        field: fc.oneof(fc.constantFrom('email', 'payment_method'), fc.jsonValue()),
        customer: fc.oneof(fc.record({ tier: fc.jsonValue() }), fc.jsonValue()),
        target_branch: fc.jsonValue(),
        checks: fc.jsonValue(),
      }),
    );
    const toolCall = fc.oneof(
      fc.record({ name: tool, parameters, outcome: fc.constantFrom('success', 'failure') }),
      fc.anything(),
    );
    const action = fc.record(
      {
        toolCalls: fc.oneof(fc.array(toolCall, { maxLength: 5 }), fc.anything()),
        approval: fc.oneof(
          fc.record({ approverId: fc.string(), decision: fc.constantFrom('approved', 'edited', 'rejected') }),
          fc.anything(),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(action, fc.constantFrom(supportTriage, codeReview), (generated, workflow) => {
        const violations = boundaryViolations(generated, workflow);
        expect(Array.isArray(violations)).toBe(true);
        for (const violation of violations) {
          expect(typeof violation.message).toBe('string');
          expect(['cannot', 'approval', 'approver']).toContain(violation.kind);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("boundaryViolations: approver roles (the workflow's approvers)", () => {
  const refund = (approverId: unknown, decision: 'approved' | 'edited' | 'rejected' = 'approved') => ({
    toolCalls: [call('refund', { amount: 250 })],
    approval: approvalBy(approverId, decision),
  });

  it("accepts an approval by an approverId listed for the rule's role", () => {
    // Prepare: support-lead lists lead-3, lead-7 and lead-12 in config/workflow-registry.json
    expect(supportTriage.approvers?.['support-lead']).toEqual(['lead-3', 'lead-7', 'lead-12']);

    // Act / Assess
    for (const approverId of ['lead-3', 'lead-7', 'lead-12']) {
      expect(boundaryViolations(refund(approverId), supportTriage)).toEqual([]);
      expect(boundaryViolations(refund(approverId, 'edited'), supportTriage)).toEqual([]);
    }
  });

  it('flags an approval by someone not listed for the role, naming the approver and the role', () => {
    // Act
    const violations = boundaryViolations(refund('agent-ops-temp'), supportTriage);

    // Assess
    expect(violations).toEqual([
      {
        kind: 'approver',
        ruleId: 'refund-over-100',
        tool: 'refund',
        toolCallIndex: 0,
        message:
          'tool call 0 "refund" needs approval by support-lead under rule "refund-over-100" when amount > 100 (amount = 250), but it was "approved" by "agent-ops-temp", who is not listed for role "support-lead" in the workflow\'s approvers: Refunds above $100 need a support lead’s approval',
      },
    ]);
    expect(ids(boundaryViolations(refund('agent-ops-temp', 'edited'), supportTriage))).toEqual([
      'approver:refund-over-100@0',
    ]);
  });

  it('compares approverIds exactly, as events carry them (raw, case-sensitive)', () => {
    for (const approverId of ['LEAD-3', ' lead-3', 'lead-3 ', 'lead', 3, null]) {
      expect(ids(boundaryViolations(refund(approverId), supportTriage)), String(approverId)).toEqual([
        'approver:refund-over-100@0',
      ]);
    }
  });

  it('checks each rule against its own role: an account manager approves enterprise replies, not refunds', () => {
    const action = {
      toolCalls: [call('post_reply', { customer: { tier: 'enterprise' } }), call('refund', { amount: 300 })],
      approval: approvalBy('am-ana', 'approved'),
    };
    expect(ids(boundaryViolations(action, supportTriage))).toEqual(['approver:refund-over-100@1']);
  });

  it('keeps a rejected approval a missing approval, whoever rejected it', () => {
    expect(ids(boundaryViolations(refund('agent-ops-temp', 'rejected'), supportTriage))).toEqual([
      'approval:refund-over-100@0',
    ]);
  });

  it('accepts any approver for a rule whose role has no list', () => {
    // Prepare: the same boundary, with a list for account-manager only
    const workflow = { ...supportTriage, approvers: { 'account-manager': ['am-ana'] } };
    const withoutAny = { ...supportTriage, approvers: undefined };

    // Act / Assess
    expect(boundaryViolations(refund('anyone-at-all'), workflow)).toEqual([]);
    expect(boundaryViolations(refund('anyone-at-all'), withoutAny)).toEqual([]);
    // Still not without an approving decision
    expect(ids(boundaryViolations({ toolCalls: [call('refund', { amount: 250 })] }, withoutAny))).toEqual([
      'approval:refund-over-100@0',
    ]);
  });

  it('does not check approvers of rules that do not match', () => {
    const small = { toolCalls: [call('refund', { amount: 40 })], approval: approvalBy('nobody', 'approved') };
    expect(boundaryViolations(small, supportTriage)).toEqual([]);
  });
});
