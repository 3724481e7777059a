import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { makeDocumentClient } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { MAX_EVAL_JSON_BYTES, parseEvalRun } from '#lib/evals/schema.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '#local-stack/settings.ts';
import { cliResultOn } from '../support/cli.ts';

const stack = inject('localStack');
const cli = cliResultOn(stack.dataDir);

const dir = mkdtempSync(join(tmpdir(), 'agent-ledger-evals-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content, null, 2));
  return path;
};

const caseId = (i: number) => `c-${String(i).padStart(3, '0')}`;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => caseId(from + i));

const set = {
  workflowId: 'code-review',
  name: 'regression',
  description: 'merged pull requests with a known right review',
  cases: Array.from({ length: 120 }, (_, i) => ({
    caseId: caseId(i + 1),
    unitId: `acme/payments#${4000 + i}`,
    expectedOutcome: i % 3 === 0 ? 'request changes: missing test' : 'approve',
  })),
};

function run(runId: string, failing: readonly string[], fields: Record<string, unknown>) {
  return {
    runId,
    workflowId: 'code-review',
    evalSet: 'regression',
    evalSetVersion: 1,
    ranBy: 'ci/eval-nightly',
    modelVersion: 'anthropic/claude-sonnet/2026-01-15',
    ...fields,
    results: set.cases.map((c) => ({ caseId: c.caseId, pass: !failing.includes(c.caseId) })),
  };
}

// Run 1 fails c-001…c-018 (102/120); run 2 fails c-013…c-022, c-100, c-101 (108/120).
const first = run('nightly-1', range(1, 18), { ranAt: '2026-03-10T09:00:00Z', promptVersion: 'review-v7' });
const second = run('nightly-2', [...range(13, 22), 'c-100', 'c-101'], {
  ranAt: '2026-03-11T10:00:00+01:00',
  promptVersion: 'review-v8',
});

describe('agent-ledger evals', () => {
  it('registers a 120-case set for code-review, once for the same content', () => {
    const path = file('set.json', set);

    const registered = cli('evals', 'register', path, '--as', 'alice');
    const again = cli('evals', 'register', path, '--as', 'alice');

    expect(registered.stderr).toBe('');
    expect(registered.status).toBe(0);
    expect(registered.stdout).toContain('Registered eval set code-review/regression v1');
    expect(registered.stdout).toContain('120 cases');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('v1 on the local stack');
    expect(again.stdout).toContain('nothing changed');
  });

  it('records two runs and compares the latest with the one before', () => {
    const recordFirst = cli('evals', 'record', file('run-1.json', first));
    const recordSecond = cli('evals', 'record', file('run-2.json', second));
    const compared = cli('evals', 'compare', 'code-review', 'regression', '--json');
    const text = cli('evals', 'compare', 'code-review', 'regression');

    expect(recordFirst.stderr).toBe('');
    expect(recordFirst.stdout).toContain('102/120 passed (85.0%)');
    expect(recordSecond.stdout).toContain('108/120 passed (90.0%)');
    expect(compared.status).toBe(0);
    expect(JSON.parse(compared.stdout)).toEqual({
      workflowId: 'code-review',
      evalSet: 'regression',
      current: {
        runId: 'nightly-2',
        ranAt: '2026-03-11T10:00:00+01:00',
        ranBy: 'ci/eval-nightly',
        evalSetVersion: 1,
        promptVersion: 'review-v8',
        modelVersion: 'anthropic/claude-sonnet/2026-01-15',
        passed: 108,
        total: 120,
      },
      previous: expect.objectContaining({ runId: 'nightly-1', passed: 102, total: 120 }),
      passRate: 0.9,
      previousPassRate: 0.85,
      delta: 0.05,
      newlyFailing: [...range(19, 22), 'c-100', 'c-101'],
      newlyPassing: range(1, 12),
      stillFailing: 6,
      casesNotInPrevious: 0,
      promptChanged: true,
      modelChanged: false,
      setVersionChanged: false,
    });
    expect(text.stdout).toContain('pass rate      90.0% (108/120)');
    expect(text.stdout).toContain('delta          +5.0 points');
    expect(text.stdout).toContain('prompt         review-v7 → review-v8 (changed)');
    expect(text.stdout).toContain('newly failing  6: c-019, c-020, c-021, c-022, c-100, c-101');
  });

  it('records the same run only once, and refuses another run under its ID', () => {
    const same = cli('evals', 'record', file('run-2-again.json', second));
    const path = file('run-2-changed.json', { ...second, ranBy: 'someone else' });
    const changed = cli('evals', 'record', path);

    expect(same.status).toBe(0);
    expect(same.stdout).toContain('already recorded');
    expect(changed.status).toBe(2);
    expect(changed.stderr).toContain(`${path} is not a valid eval run; nothing was recorded:`);
    expect(changed.stderr).toContain('$.runId: run nightly-2 of code-review/regression was already recorded');
  });

  it('lists the sets of a workflow with their latest run', () => {
    const listed = cli('evals', 'list', 'code-review', '--json');

    expect(listed.status).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      expect.objectContaining({
        name: 'regression',
        latestVersion: 1,
        caseCount: 120,
        registeredBy: 'alice',
        latestRun: expect.objectContaining({ runId: 'nightly-2', passRate: 0.9 }),
      }),
    ]);
  });

  it('exits 2 naming the file and the JSON path for a run that does not fit its set', () => {
    const incomplete = { ...run('nightly-3', [], { ranAt: '2026-03-12T09:00:00Z', promptVersion: 'v8' }) };
    incomplete.results = incomplete.results.slice(0, 117);
    const path = file('run-incomplete.json', incomplete);
    const wrongVersion = file('run-v2.json', { ...second, runId: 'nightly-4', evalSetVersion: 2 });
    const tooFew = file('set-99.json', { ...set, cases: set.cases.slice(0, 99) });

    const result = cli('evals', 'record', path);
    const versionResult = cli('evals', 'record', wrongVersion);
    const setResult = cli('evals', 'register', tooFew);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${path} is not a valid eval run; nothing was recorded:`);
    expect(result.stderr).toContain(
      '$.results: 3 cases of eval set code-review/regression v1 have no result: c-118, c-119, c-120',
    );
    expect(versionResult.status).toBe(2);
    expect(versionResult.stderr).toContain(
      '$.evalSetVersion: eval set code-review/regression has no version 2 (versions 1–1 are registered)',
    );
    expect(setResult.status).toBe(2);
    expect(setResult.stderr).toContain(`${tooFew} is not a valid eval set`);
    expect(setResult.stderr).toContain('$.cases: has 99 cases; an eval set has 100–300');
    expect(
      JSON.parse(cli('evals', 'compare', 'code-review', 'regression', '--json').stdout).current.runId,
    ).toBe('nightly-2');
  });

  it('stores a run at the size cap in one DynamoDB item', async () => {
    // Prepare: a 300-case set and a run whose JSON is just under the cap, through the store itself.
    const store = new DynamoDbEvalStore(
      makeDocumentClient(
        new DynamoDBClient({
          endpoint: stack.dynamodb,
          region: LOCAL_REGION,
          credentials: LOCAL_CREDENTIALS,
        }),
      ),
      LOCAL_TABLE_NAME,
    );
    const big = {
      ...set,
      name: 'size-check',
      cases: Array.from({ length: 300 }, (_, i) => ({
        caseId: caseId(i),
        unitId: `u-${i}`,
        expectedOutcome: 'ok',
      })),
      version: 1,
      registeredAt: '2026-03-01T00:00:00.000Z',
      registeredBy: 'test',
    };
    const raw = {
      ...run('size-1', [], { ranAt: '2026-03-10T09:00:00Z', promptVersion: 'v1' }),
      evalSet: 'size-check',
      results: big.cases.map((c) => ({
        caseId: c.caseId,
        pass: true,
        actualOutcome: 'x'.repeat(1000),
        notes: 'n'.repeat(80),
      })),
    };
    const parsed = parseEvalRun(raw);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const bytes = Buffer.byteLength(JSON.stringify(parsed.value));

    // Act
    await store.putSet(big);
    const outcome = await store.putRun(parsed.value);
    const [readBack] = await store.listRuns('code-review', 'size-check', 5);

    // Assess
    expect(bytes).toBeGreaterThan(MAX_EVAL_JSON_BYTES - 20_000);
    expect(bytes).toBeLessThanOrEqual(MAX_EVAL_JSON_BYTES);
    expect(outcome).toBe('stored');
    expect(readBack).toEqual(parsed.value);
  });
});
