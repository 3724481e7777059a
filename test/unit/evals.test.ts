import { describe, expect, it } from 'vitest';
import { compareRuns } from '#lib/evals/compare.ts';
import {
  checkRunAgainstSet,
  type EvalRun,
  type EvalSet,
  type EvalSetInput,
  MAX_EVAL_JSON_BYTES,
  parseEvalRun,
  parseEvalSetInput,
} from '#lib/evals/schema.ts';
import {
  compareLatestRuns,
  EvalValidationError,
  listEvalSets,
  recordEvalRun,
  registerEvalSet,
} from '#lib/evals/service.ts';
import { EvalRunConflictError } from '#lib/evals/store.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { InMemoryEvalStore } from '../support/in-memory-stores.ts';

const caseId = (i: number) => `c-${String(i).padStart(3, '0')}`;

function setInput(count: number, overrides: Partial<EvalSetInput> = {}): EvalSetInput {
  return {
    workflowId: 'code-review',
    name: 'regression',
    cases: Array.from({ length: count }, (_, i) => ({
      caseId: caseId(i + 1),
      unitId: `pr-${1000 + i}`,
      expectedOutcome: 'approve',
    })),
    ...overrides,
  };
}

function registered(count: number, version = 1): EvalSet {
  return { ...setInput(count), version, registeredAt: '2026-03-01T00:00:00.000Z', registeredBy: 'alice' };
}

/** A run over the set's cases where the listed cases fail and every other one passes. */
function runOf(set: EvalSet, failing: readonly string[], overrides: Partial<EvalRun> = {}): EvalRun {
  return {
    runId: 'run-1',
    workflowId: set.workflowId,
    evalSet: set.name,
    evalSetVersion: set.version,
    ranBy: 'ci/eval-job',
    ranAt: '2026-03-10T09:00:00Z',
    promptVersion: 'review-v7',
    modelVersion: 'anthropic/claude-sonnet/2026-01',
    results: set.cases.map((c) => ({ caseId: c.caseId, pass: !failing.includes(c.caseId) })),
    ...overrides,
  };
}

const messages = (raw: unknown, parse: typeof parseEvalSetInput | typeof parseEvalRun) => {
  const parsed = parse(raw);
  if (parsed.ok) throw new Error('expected the file to be rejected');
  return parsed.issues.map((issue) => `${issue.path}: ${issue.message}`);
};

describe('eval set schema', () => {
  it.each([100, 300])('accepts %i cases', (count) => {
    expect(parseEvalSetInput(setInput(count)).ok).toBe(true);
  });

  it.each([99, 301])('rejects %i cases, saying how many it has', (count) => {
    expect(messages(setInput(count), parseEvalSetInput)).toEqual([
      `$.cases: has ${count} cases; an eval set has 100–300`,
    ]);
  });

  it('names each duplicate caseId where it repeats and where it first appeared', () => {
    const input = setInput(120);
    (input.cases[7] as { caseId: string }).caseId = 'c-003';
    (input.cases[9] as { caseId: string }).caseId = 'c-003';
    expect(messages(input, parseEvalSetInput)).toEqual([
      '$.cases[7].caseId: duplicate caseId "c-003" (first at $.cases[2].caseId)',
      '$.cases[9].caseId: duplicate caseId "c-003" (first at $.cases[2].caseId)',
    ]);
  });

  it('reports field problems by JSON path, and a version in the file as assigned by the ledger', () => {
    const input = setInput(100) as Record<string, any>;
    input.version = 3;
    input.workflowId = 'Code Review';
    input.cases[4].expectedOutcome = '';
    delete input.cases[5].unitId;
    input.cases[6].caseId = 'has space';
    const found = messages(input, parseEvalSetInput);
    expect(found).toContain('$.workflowId: must match ^[a-z][a-z0-9-]{1,62}$');
    expect(found).toContain('$.cases[4].expectedOutcome: must not be empty');
    expect(found).toContain('$.cases[5].unitId: is required');
    expect(found).toContain('$.cases[6].caseId: must be 1–128 characters of [A-Za-z0-9._:-]');
    expect(found.find((m) => m.startsWith('$: unknown field version'))).toMatch(/assigned on register/);
  });

  it('keeps a full set of realistic cases far below the stored item limit', () => {
    const input = setInput(300);
    for (const c of input.cases) {
      c.unitId = `github.com/acme/payments/pull/${'9'.repeat(6)}`;
      c.expectedOutcome = 'x'.repeat(200);
      c.notes = 'y'.repeat(100);
    }
    expect(parseEvalSetInput(input).ok).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(input))).toBeLessThan(MAX_EVAL_JSON_BYTES / 2);
  });

  it('rejects a set too large for one stored item, before DynamoDB would', () => {
    const input = setInput(300);
    for (const c of input.cases) {
      c.expectedOutcome = 'é'.repeat(1000);
      c.notes = 'é'.repeat(1000);
    }
    expect(messages(input, parseEvalSetInput)).toEqual([
      expect.stringMatching(/^\$: the set is \d+ bytes as JSON; at most 350000 fit one stored item/),
    ]);
  });
});

describe('eval run schema and its fit to the set', () => {
  const set = registered(120);

  it('accepts a run with one result per case', () => {
    const run = runOf(set, ['c-001']);
    expect(parseEvalRun(run)).toEqual({ ok: true, value: run });
    expect(checkRunAgainstSet(run, set)).toEqual([]);
  });

  it('keeps 300 results with outcomes and notes far below the stored item limit', () => {
    const big = registered(300);
    const run = runOf(big, []);
    for (const result of run.results) {
      result.actualOutcome = 'requested changes: '.padEnd(200, 'z');
      result.notes = 'n'.repeat(100);
    }
    expect(parseEvalRun(run).ok).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(run))).toBeLessThan(MAX_EVAL_JSON_BYTES / 3);
  });

  it('rejects bad fields and a second result for a case', () => {
    const run = runOf(set, []) as Record<string, any>;
    run.ranAt = '2026-03-10 nine o clock';
    run.evalSetVersion = 0;
    run.results[3].pass = 'yes';
    run.results[5].caseId = 'c-002';
    expect(messages(run, parseEvalRun)).toEqual([
      '$.evalSetVersion: must be ≥ 1',
      '$.ranAt: must be an RFC 3339 timestamp with offset',
      '$.results[3].pass: must be a boolean, not a string',
      '$.results[5].caseId: second result for case "c-002" (first at $.results[1].caseId)',
    ]);
  });

  it('lists the first few cases without a result and results for unknown cases', () => {
    const run = runOf(set, []);
    run.results = run.results.slice(0, 112); // c-113 … c-120 have no result
    run.results.push({ caseId: 'c-900', pass: true }, { caseId: 'c-901', pass: false });
    expect(checkRunAgainstSet(run, set)).toEqual([
      {
        path: '$.results',
        message:
          '2 results name cases not in eval set code-review/regression v1: c-900 ($.results[112].caseId), c-901 ($.results[113].caseId)',
      },
      {
        path: '$.results',
        message:
          '8 cases of eval set code-review/regression v1 have no result: c-113, c-114, c-115, c-116, c-117 and 3 more',
      },
    ]);
  });

  it('says when a run names another set or version than it is checked against', () => {
    const run = runOf(set, [], { evalSetVersion: 2 });
    expect(checkRunAgainstSet(run, set)).toEqual([
      {
        path: '$.evalSet',
        message: 'names regression v2, but was checked against eval set code-review/regression v1',
      },
    ]);
  });
});

describe('compareRuns', () => {
  const set = registered(10);

  it('describes a first run with no previous one', () => {
    const run = runOf(set, ['c-001', 'c-002']);
    expect(compareRuns(run, undefined)).toMatchObject({
      passRate: 0.8,
      previousPassRate: null,
      delta: null,
      previous: null,
      newlyFailing: [],
      newlyPassing: [],
      stillFailing: 0,
      promptChanged: false,
      modelChanged: false,
      current: { runId: 'run-1', passed: 8, total: 10 },
    });
  });

  it('finds newly failing, newly passing and still failing cases, and what changed', () => {
    const previous = runOf(set, ['c-001', 'c-002', 'c-003'], { runId: 'run-1' });
    const current = runOf(set, ['c-003', 'c-004', 'c-009'], {
      runId: 'run-2',
      ranAt: '2026-03-11T09:00:00Z',
      promptVersion: 'review-v8',
    });
    expect(compareRuns(current, previous)).toMatchObject({
      passRate: 0.7,
      previousPassRate: 0.7,
      delta: 0,
      newlyFailing: ['c-004', 'c-009'],
      newlyPassing: ['c-001', 'c-002'],
      stillFailing: 1,
      casesNotInPrevious: 0,
      promptChanged: true,
      modelChanged: false,
      setVersionChanged: false,
    });
  });

  it('gives the delta as a fraction without float noise', () => {
    const previous = runOf(set, ['c-001', 'c-002', 'c-003']);
    const current = runOf(set, ['c-001'], { modelVersion: 'openai/gpt-5/2026-02' });
    const comparison = compareRuns(current, previous);
    expect(comparison.delta).toBe(0.2);
    expect(comparison.modelChanged).toBe(true);
  });

  it('counts cases the previous set version lacked apart from the regressions', () => {
    const bigger = { ...registered(12), version: 2 };
    const previous = runOf(set, ['c-005']);
    const current = runOf(bigger, ['c-011', 'c-012']);
    expect(compareRuns(current, previous)).toMatchObject({
      newlyFailing: [],
      newlyPassing: ['c-005'],
      stillFailing: 0,
      casesNotInPrevious: 2,
      setVersionChanged: true,
    });
  });
});

describe('eval services', () => {
  const by = { registeredBy: 'alice', now: new Date('2026-03-01T00:00:00Z') };

  it('adds a version each time the set changes, and none when it does not', async () => {
    const store = new InMemoryEvalStore();
    const first = await registerEvalSet(store, defaultRegistry, setInput(100), by);
    const again = await registerEvalSet(store, defaultRegistry, setInput(100), by);
    const changed = await registerEvalSet(store, defaultRegistry, setInput(101), by);
    expect([first, again, changed].map((o) => [o.status, o.set.version, o.previousVersion])).toEqual([
      ['registered', 1, null],
      ['unchanged', 1, 1],
      ['registered', 2, 1],
    ]);
  });

  it('takes the next free version when another registration got there first', async () => {
    const store = new InMemoryEvalStore();
    store.racing.push({ ...registered(100), version: 1, registeredBy: 'bob' });
    const outcome = await registerEvalSet(store, defaultRegistry, setInput(110), by);
    expect(outcome.set.version).toBe(2);
  });

  it('refuses a set for an unregistered workflow', async () => {
    const store = new InMemoryEvalStore();
    const attempt = registerEvalSet(store, defaultRegistry, setInput(100, { workflowId: 'payroll' }), by);
    await expect(attempt).rejects.toThrow(EvalValidationError);
    await expect(attempt).rejects.toThrow("$.workflowId: workflow 'payroll' is not registered");
  });

  it('checks a run against the set version it names', async () => {
    const store = new InMemoryEvalStore();
    await registerEvalSet(store, defaultRegistry, setInput(100), by);
    const set = (await store.getSet('code-review', 'regression')) as EvalSet;

    await expect(
      recordEvalRun(store, defaultRegistry, runOf(set, [], { evalSetVersion: 4 })),
    ).rejects.toThrow(
      '$.evalSetVersion: eval set code-review/regression has no version 4 (versions 1–1 are registered)',
    );
    await expect(recordEvalRun(store, defaultRegistry, runOf(set, [], { evalSet: 'smoke' }))).rejects.toThrow(
      "$.evalSet: no eval set 'smoke' is registered for code-review",
    );
    const short = runOf(set, []);
    short.results.pop();
    await expect(recordEvalRun(store, defaultRegistry, short)).rejects.toThrow(
      '1 case of eval set code-review/regression v1 has no result: c-100',
    );
    expect(store.runs).toEqual([]);
  });

  it('records runs once, and compares the latest with the one before', async () => {
    const store = new InMemoryEvalStore();
    await registerEvalSet(store, defaultRegistry, setInput(100), by);
    const set = (await store.getSet('code-review', 'regression')) as EvalSet;
    expect(await compareLatestRuns(store, 'code-review', 'regression')).toBeUndefined();

    const first = runOf(set, ['c-001']);
    const second = runOf(set, ['c-002', 'c-003'], { runId: 'run-2', ranAt: '2026-03-11T10:00:00+01:00' });
    expect((await recordEvalRun(store, defaultRegistry, first)).status).toBe('stored');
    expect((await recordEvalRun(store, defaultRegistry, second)).status).toBe('stored');
    expect((await recordEvalRun(store, defaultRegistry, second)).status).toBe('duplicate');
    await expect(recordEvalRun(store, defaultRegistry, { ...second, ranBy: 'mallory' })).rejects.toThrow(
      EvalRunConflictError,
    );

    expect(await compareLatestRuns(store, 'code-review', 'regression')).toMatchObject({
      current: { runId: 'run-2' },
      previous: { runId: 'run-1' },
      passRate: 0.98,
      previousPassRate: 0.99,
      delta: -0.01,
      newlyFailing: ['c-002', 'c-003'],
      newlyPassing: ['c-001'],
    });
    expect(await listEvalSets(store, 'code-review')).toEqual([
      expect.objectContaining({
        name: 'regression',
        latestVersion: 1,
        caseCount: 100,
        latestRun: expect.objectContaining({ runId: 'run-2', passed: 98, total: 100, passRate: 0.98 }),
      }),
    ]);
  });
});
