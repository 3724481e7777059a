import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRegistry, demoWorkflows } from '#lib/registry/default-registry.ts';
import {
  InvalidRegistryError,
  loadRegistryFile,
  type WorkflowInput,
  WorkflowRegistry,
} from '#lib/registry/workflows.ts';

/** A valid workflow to vary, one field at a time. */
function workflow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    workflowId: 'invoice-matching',
    unitOfValue: 'invoice matched',
    owner: 'Finance Operations lead',
    selectionScores: {
      clearUnitOfValue: 5,
      volume: 4,
      errorCost: 3,
      writtenPolicy: 4,
      easeOfInstrumenting: 3,
    },
    rolloutPhase: 'hitl',
    autonomyBoundary: {
      can: ['Match invoices to purchase orders'],
      cannot: [
        {
          id: 'pay-over-10k',
          description: 'Never pays an invoice above 10,000',
          tool: 'pay_invoice',
          when: [{ path: 'amount', op: '>', value: 10_000 }],
        },
      ],
      approvals: [
        { id: 'pay', description: 'Every payment is approved', tool: 'pay_invoice', approver: 'ap-clerk' },
      ],
      killSwitch: { location: 'AppConfig flag invoice-matching', flippers: ['finance on-call'] },
    },
    approvers: { 'ap-clerk': ['clerk-1', 'clerk-2'] },
    ...overrides,
  };
}

function boundary(overrides: Record<string, unknown>): Record<string, unknown> {
  return workflow({
    autonomyBoundary: { ...(workflow().autonomyBoundary as Record<string, unknown>), ...overrides },
  });
}

/** The problems `WorkflowRegistry.parse` reports, or [] when it accepts. */
function problems(raw: unknown): readonly string[] {
  try {
    WorkflowRegistry.parse(raw);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRegistryError);
    return (error as InvalidRegistryError).problems;
  }
}

describe('WorkflowRegistry.parse', () => {
  it('ships the two demo workflows with every governance field, and no warnings', () => {
    expect(defaultRegistry.ids()).toEqual(['support-triage', 'code-review']);
    for (const demo of defaultRegistry.all()) {
      expect(demo.owner).not.toBe('');
      expect(demo.autonomyBoundary.cannot.length).toBeGreaterThan(0);
      expect(demo.autonomyBoundary.approvals.length).toBeGreaterThan(0);
      expect(demo.autonomyBoundary.killSwitch.flippers.length).toBeGreaterThan(0);
    }
    expect(defaultRegistry.get('support-triage')).toMatchObject({
      unitOfValue: 'ticket resolved',
      retentionMonths: 24,
      reviewSampleRate: 0.1,
    });
    expect(defaultRegistry.get('code-review')).toMatchObject({
      unitOfValue: 'pull request merged',
      retentionMonths: 18,
    });
    expect(defaultRegistry.warnings()).toEqual([]);
  });

  it('fills the defaults: retention 24 months, 20 reviewed units, a 5% sample, not in a first cycle', () => {
    const parsed = WorkflowRegistry.parse([workflow()]).get('invoice-matching');
    expect(parsed).toMatchObject({
      retentionMonths: 24,
      minReviewed: 20,
      reviewSampleRate: 0.05,
      firstCycle: false,
    });
  });

  it('requires each new field, naming it by its path', () => {
    const raw = workflow();
    for (const field of ['owner', 'selectionScores', 'rolloutPhase', 'autonomyBoundary']) {
      delete raw[field];
    }
    expect(problems([raw])).toEqual([
      '$[0].owner: is required',
      '$[0].selectionScores: is required',
      '$[0].rolloutPhase: is required (one of "baseline", "hitl", "evals", "autonomous")',
      '$[0].autonomyBoundary: is required',
    ]);
  });

  it('accepts each rollout phase and rejects anything else', () => {
    for (const rolloutPhase of ['baseline', 'hitl', 'evals', 'autonomous']) {
      expect(problems([workflow({ rolloutPhase })])).toEqual([]);
    }
    expect(problems([workflow({ rolloutPhase: 'pilot' })])).toEqual([
      '$[0].rolloutPhase: must be one of baseline, hitl, evals, autonomous',
    ]);
  });

  it('takes selection scores as whole numbers from 1 to 5, all five of them', () => {
    const scores = workflow().selectionScores as Record<string, unknown>;
    expect(
      problems([workflow({ selectionScores: { ...scores, volume: 0, errorCost: 6, writtenPolicy: 2.5 } })]),
    ).toEqual([
      '$[0].selectionScores.volume: must be a whole number from 1 to 5',
      '$[0].selectionScores.errorCost: must be a whole number from 1 to 5',
      '$[0].selectionScores.writtenPolicy: must be a whole number from 1 to 5',
    ]);
    const { easeOfInstrumenting: _, ...four } = scores;
    expect(problems([workflow({ selectionScores: { ...four, easOfInstrumenting: 3 } })])).toEqual([
      '$[0].selectionScores.easeOfInstrumenting: is required',
      '$[0].selectionScores: unknown field easOfInstrumenting',
    ]);
  });

  it('rejects a misspelt key instead of ignoring it', () => {
    expect(problems([workflow({ reviewSampleRte: 0.08 })])).toEqual(['$[0]: unknown field reviewSampleRte']);
  });

  it('keeps the meaning of the existing fields', () => {
    expect(
      problems([
        workflow({ workflowId: 'Bad', retentionMonths: 6, reviewSampleRate: 0.2, minReviewed: 0 }),
        workflow(),
        workflow(),
      ]),
    ).toEqual([
      '$[0].workflowId: workflowId must match ^[a-z][a-z0-9-]{1,62}$',
      expect.stringMatching(/^\$\[0\]\.retentionMonths: /),
      '$[0].minReviewed: Too small: expected number to be >=1',
      '$[0].reviewSampleRate: must be at most 10%',
      '$[2].workflowId: duplicate workflowId',
    ]);
    expect(problems([workflow({ reviewSampleRate: 0.01 })])).toEqual([
      '$[0].reviewSampleRate: must be at least 5%',
    ]);
    expect(problems({ workflows: [] })).toEqual(['$: must be an array, not an object']);
  });

  it('validates the kill switch: where it is, and at least one person or role who may flip it', () => {
    expect(problems([boundary({ killSwitch: { location: ' ', flippers: [] } })])).toEqual([
      '$[0].autonomyBoundary.killSwitch.location: must not be empty',
      '$[0].autonomyBoundary.killSwitch.flippers: must name at least one person or role who may flip it',
    ]);
    expect(problems([boundary({ killSwitch: { location: 'AppConfig' } })])).toEqual([
      '$[0].autonomyBoundary.killSwitch.flippers: is required',
    ]);
  });

  it('validates CAN, CANNOT and approval rules', () => {
    expect(
      problems([
        boundary({
          can: ['ok', ''],
          cannot: [{ id: 'no spaces', description: 'd', tool: '' }],
          approvals: [{ id: 'a', description: 'd', tool: 'pay_invoice' }],
        }),
      ]),
    ).toEqual([
      '$[0].autonomyBoundary.can[1]: must not be empty',
      '$[0].autonomyBoundary.cannot[0].id: must be 1–128 characters of [A-Za-z0-9._:-], starting with a letter or digit',
      '$[0].autonomyBoundary.cannot[0].tool: must not be empty',
      '$[0].autonomyBoundary.approvals[0].approver: is required',
    ]);
  });

  it('rejects a rule id used twice in one workflow, across CANNOT and approval rules', () => {
    expect(
      problems([
        boundary({
          approvals: [{ id: 'pay-over-10k', description: 'd', tool: 'pay_invoice', approver: 'cfo' }],
        }),
      ]),
    ).toEqual([
      '$[0].autonomyBoundary.approvals[0].id: duplicate rule id "pay-over-10k" (first used at cannot.0): rule ids must be unique within a workflow',
    ]);
    // The same rule id in two workflows is fine.
    expect(problems([workflow(), workflow({ workflowId: 'other' })])).toEqual([]);
  });

  it('checks each condition: its path, its operator, and the value the operator needs', () => {
    const conditions = [
      { path: 'amount', op: '>', value: 1 },
      { path: 'customer.tier', op: '==', value: 'gold' },
      { path: 'x', op: '!=', value: null },
      { path: 'items.0.sku', op: 'in', value: ['a', 1, null] },
      { path: 'force', op: 'exists' },
      { path: 'amount', op: '<=', value: 0.5 },
    ];
    expect(
      problems([boundary({ cannot: [{ id: 'r', description: 'd', tool: 't', when: conditions }] })]),
    ).toEqual([]);
    const bad = [
      { path: '', op: 'exists' },
      { path: 'a..b', op: '==', value: 1 },
      { path: 'a', op: '~', value: 1 },
      { path: 'a', op: '>', value: '500' },
      { path: 'a', op: 'in', value: 'x' },
      { path: 'a', op: '==' },
      { path: 'a', op: 'exists', value: false },
      { path: 'a', op: '==', value: 1, note: 'x' },
    ];
    const at = (index: number) => `$[0].autonomyBoundary.cannot[0].when[${index}]`;
    expect(problems([boundary({ cannot: [{ id: 'r', description: 'd', tool: 't', when: bad }] })])).toEqual([
      `${at(0)}.path: must be a dot path into the tool call's parameters, like "amount" or "customer.tier"`,
      `${at(1)}.path: must be a dot path into the tool call's parameters, like "amount" or "customer.tier"`,
      `${at(2)}.op: must be one of > >= < <= == != in exists`,
      `${at(3)}.value: op ">" needs a number`,
      `${at(4)}.value: op "in" needs an array of values`,
      `${at(5)}.value: op "==" needs a value to compare with`,
      `${at(6)}.value: is not used with op "exists" (it only asks whether the parameter is there): remove it`,
      `${at(7)}: unknown field note`,
    ]);
  });

  it('reports every problem at once, in one message', () => {
    const raw = [workflow({ owner: '' }), workflow({ workflowId: 'bb', rolloutPhase: 'x' })];
    expect(() => WorkflowRegistry.parse(raw)).toThrow(
      'workflow registry is invalid: $[0].owner: must not be empty; $[1].rolloutPhase: must be one of baseline, hitl, evals, autonomous',
    );
  });

  it('takes approvers as role → non-empty list of approverIds of 1–256 characters, each once', () => {
    // Prepare
    const cases: [unknown, string[]][] = [
      [{ 'ap-clerk': ['clerk-1'], controller: ['c@example.com', 'x'.repeat(256)] }, []],
      [
        { 'ap-clerk': [] },
        [
          '$[0].approvers["ap-clerk"]: must list at least one approverId (leave the role out to accept any approver)',
        ],
      ],
      [
        { 'ap-clerk': ['', 'x'.repeat(257), 7] },
        [
          '$[0].approvers["ap-clerk"][0]: must be an approverId of 1–256 characters',
          '$[0].approvers["ap-clerk"][1]: must be an approverId of 1–256 characters',
          '$[0].approvers["ap-clerk"][2]: must be an approverId string (1–256 characters)',
        ],
      ],
      [
        { 'ap-clerk': ['clerk-1', 'clerk-1'] },
        ['$[0].approvers["ap-clerk"][1]: approverId "clerk-1" is listed twice'],
      ],
      [{ 'ap-clerk': 'clerk-1' }, ['$[0].approvers["ap-clerk"]: must be a list of approverIds']],
      [['clerk-1'], ['$[0].approvers: must be an object of role name → list of approverIds']],
      [null, ['$[0].approvers: must be an object of role name → list of approverIds']],
      [{ '': ['clerk-1'] }, ['$[0].approvers: role name "" must be 1–256 characters, not blank']],
      [
        { ' ap-clerk': ['clerk-1'] },
        [
          '$[0].approvers[" ap-clerk"]: role name " ap-clerk" starts or ends with white space: approval rules name roles without it',
        ],
      ],
    ];

    // Act / Assess
    for (const [approvers, expected] of cases) {
      expect(problems([workflow({ approvers })]), JSON.stringify(approvers)).toEqual(expected);
    }
    expect(problems([workflow({ approvers: undefined })])).toEqual([]);
    expect(WorkflowRegistry.parse([workflow()]).get('invoice-matching')?.approvers).toEqual({
      'ap-clerk': ['clerk-1', 'clerk-2'],
    });
  });

  it('ships approver lists for every approval role of the demo workflows', () => {
    for (const demo of defaultRegistry.all()) {
      for (const rule of demo.autonomyBoundary.approvals) {
        expect(
          demo.approvers?.[rule.approver]?.length,
          `${demo.workflowId} ${rule.approver}`,
        ).toBeGreaterThan(0);
      }
    }
    expect(defaultRegistry.get('support-triage')?.approvers?.['support-lead']).toContain('lead-3');
  });

  it('still accepts the demo workflows reordered', () => {
    expect(WorkflowRegistry.parse([...demoWorkflows].reverse()).ids()).toEqual([
      'code-review',
      'support-triage',
    ]);
  });
});

describe('WorkflowRegistry.warnings', () => {
  const named = (workflowId: string, extra: Record<string, unknown> = {}) =>
    workflow({ workflowId, firstCycle: true, ...extra });

  it('says nothing about two workflows in their first cycle', () => {
    expect(WorkflowRegistry.parse([named('a1'), named('b1'), workflow()]).warnings()).toEqual([]);
  });

  it('warns, naming them, when more than two workflows are in their first cycle', () => {
    const registry = WorkflowRegistry.parse([named('a1'), named('b1'), workflow(), named('c1')]);
    expect(registry.warnings()).toEqual([
      expect.stringMatching(/^3 workflows are in their first cycle \(a1, b1, c1\): run at most 2 at once/),
    ]);
  });

  it('warns about each selection score below 3, naming the workflow and the criterion', () => {
    const scores = { clearUnitOfValue: 3, volume: 2, errorCost: 1, writtenPolicy: 5, easeOfInstrumenting: 4 };
    const registry = WorkflowRegistry.parse([workflow({ selectionScores: scores })]);
    expect(registry.warnings()).toEqual([
      'workflow "invoice-matching" scores 2 of 5 on volume (≥ 200 units/month) (selectionScores.volume), below 3: a weak candidate for an agent on that criterion',
      'workflow "invoice-matching" scores 1 of 5 on error cost (selectionScores.errorCost), below 3: a weak candidate for an agent on that criterion',
    ]);
  });

  it('warns that any approver is accepted for an approval rule whose role has no list', () => {
    // Prepare: a second rule whose role has no list, and no approvers at all in another workflow
    const approvals = [
      { id: 'pay', description: 'Every payment is approved', tool: 'pay_invoice', approver: 'ap-clerk' },
      { id: 'void', description: 'Voids are approved', tool: 'void_invoice', approver: 'controller' },
    ];
    const registry = WorkflowRegistry.parse([
      boundary({ approvals }),
      workflow({ workflowId: 'no-lists', approvers: undefined }),
    ]);

    // Act / Assess
    expect(registry.warnings()).toEqual([
      'workflow "invoice-matching": any approver is accepted for rule "void": its role "controller" has no list in approvers (add approvers["controller"] to check who approves)',
      'workflow "no-lists": any approver is accepted for rule "pay": its role "ap-clerk" has no list in approvers (add approvers["ap-clerk"] to check who approves)',
    ]);
  });

  it('warns about an approver list that no approval rule uses (a misspelt role?)', () => {
    const registry = WorkflowRegistry.parse([
      workflow({ approvers: { 'ap-clerk': ['clerk-1'], 'ap-clrek': ['clerk-2'] } }),
    ]);
    expect(registry.warnings()).toEqual([
      'workflow "invoice-matching": approvers["ap-clrek"] is not the approver of any approval rule (a misspelt role?)',
    ]);
  });

  it('returns a copy', () => {
    const registry = WorkflowRegistry.parse([
      workflow({ selectionScores: { ...(workflow().selectionScores as object), volume: 1 } }),
    ]);
    registry.warnings().pop();
    expect(registry.warnings()).toHaveLength(1);
  });
});

describe('loadRegistryFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'registry-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a valid JSON registry, byte-order mark and all', () => {
    const path = file(
      'ok.json',
      `\uFEFF${JSON.stringify([...demoWorkflows, workflow()] satisfies unknown[])}`,
    );
    const registry = loadRegistryFile(path);
    expect(registry.ids()).toEqual(['support-triage', 'code-review', 'invoice-matching']);
    expect(registry.warnings()).toEqual([]);
  });

  it('round-trips the demo registry through JSON unchanged', () => {
    const path = file('demo.json', JSON.stringify(demoWorkflows satisfies WorkflowInput[]));
    expect(loadRegistryFile(path).all()).toEqual(defaultRegistry.all());
  });

  it('names the file when it does not exist', () => {
    const path = join(dir, 'missing.json');
    expect(() => loadRegistryFile(path)).toThrow(InvalidRegistryError);
    expect(() => loadRegistryFile(path)).toThrow(
      `cannot read workflow registry file ${path}: it does not exist`,
    );
  });

  it('names the file when it is not JSON', () => {
    const path = file('broken.json', '[{"workflowId": ');
    expect(() => loadRegistryFile(path)).toThrow(
      new RegExp(`^workflow registry file ${path} is not valid JSON: `),
    );
  });

  it('names the file and every problem by its path when the registry is invalid', () => {
    const path = file('bad.json', JSON.stringify([workflow({ owner: '' }), workflow({ rolloutPhase: 'x' })]));
    let caught: unknown;
    try {
      loadRegistryFile(path);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidRegistryError);
    expect((caught as Error).message).toBe(
      `workflow registry file ${path} is invalid: $[0].owner: must not be empty; $[1].rolloutPhase: must be one of baseline, hitl, evals, autonomous; $[1].workflowId: duplicate workflowId`,
    );
    expect((caught as InvalidRegistryError).problems).toHaveLength(3);
  });
});
