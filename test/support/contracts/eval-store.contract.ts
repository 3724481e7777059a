import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EvalRun, EvalSet } from '#lib/evals/schema.ts';
import { EvalRunConflictError, EvalSetVersionTakenError, type EvalStore } from '#lib/evals/store.ts';

/** The promises of `EvalStore` (lib/evals/store.ts), run against the fake and the DynamoDB store. */
export function describeEvalStoreContract(name: string, makeStore: () => EvalStore): void {
  describe(`EvalStore contract: ${name}`, () => {
    let store: EvalStore;
    let workflowId: string;
    // Sets are read back through their schema, so they hold the 100 cases a set needs at least.
    const set = (setName: string, version: number, cases = 100, owner = workflowId): EvalSet => ({
      workflowId: owner,
      name: setName,
      version,
      registeredAt: `2026-03-0${version}T00:00:00.000Z`,
      registeredBy: 'alice',
      cases: Array.from({ length: cases }, (_, i) => ({
        caseId: `c-${i}`,
        unitId: `pr-${i}`,
        expectedOutcome: 'approve',
      })),
    });
    const run = (runId: string, ranAt: string, fields: Partial<EvalRun> = {}): EvalRun => ({
      runId,
      workflowId,
      evalSet: 'regression',
      evalSetVersion: 1,
      ranBy: 'ci/nightly',
      ranAt,
      promptVersion: 'v7',
      modelVersion: 'anthropic/claude-sonnet/2026-01',
      results: [{ caseId: 'c-0', pass: true }],
      ...fields,
    });

    beforeEach(() => {
      store = makeStore();
      workflowId = `contract-${randomUUID().slice(0, 12)}`;
    });

    it('gives back a set by version, or its latest version', async () => {
      await store.putSet(set('regression', 1));
      await store.putSet(set('regression', 2, 105));
      expect(await store.getSet(workflowId, 'regression', 1)).toEqual(set('regression', 1));
      expect(await store.getSet(workflowId, 'regression')).toEqual(set('regression', 2, 105));
      expect(await store.getSet(workflowId, 'regression', 3)).toBeUndefined();
      expect(await store.getSet(workflowId, 'missing')).toBeUndefined();
    });

    it('refuses a version that exists, in that workflow only', async () => {
      await store.putSet(set('regression', 1));
      await expect(store.putSet({ ...set('regression', 1), registeredBy: 'bob' })).rejects.toBeInstanceOf(
        EvalSetVersionTakenError,
      );
      await store.putSet(set('regression', 1, 100, `${workflowId}-other`));
      expect((await store.getSet(workflowId, 'regression'))?.registeredBy).toBe('alice');
    });

    it('lists the workflow’s sets by name, each at its latest version', async () => {
      await store.putSet(set('smoke', 1, 120));
      await store.putSet(set('regression', 1));
      await store.putSet(set('regression', 2, 110));
      await store.putSet(set('other', 1, 100, `${workflowId}-other`));
      expect(await store.listSets(workflowId)).toEqual([
        {
          workflowId,
          name: 'regression',
          latestVersion: 2,
          caseCount: 110,
          registeredAt: '2026-03-02T00:00:00.000Z',
          registeredBy: 'alice',
        },
        {
          workflowId,
          name: 'smoke',
          latestVersion: 1,
          caseCount: 120,
          registeredAt: '2026-03-01T00:00:00.000Z',
          registeredBy: 'alice',
        },
      ]);
    });

    it('records a run once per set: the same run again is a duplicate, another under its ID a conflict', async () => {
      expect(await store.putRun(run('r1', '2026-03-10T09:00:00Z'))).toBe('stored');
      expect(await store.putRun(run('r1', '2026-03-10T09:00:00Z'))).toBe('duplicate');
      await expect(store.putRun(run('r1', '2026-03-11T09:00:00Z'))).rejects.toBeInstanceOf(
        EvalRunConflictError,
      );
      await expect(store.putRun(run('r1', '2026-03-10T09:00:00Z', { ranBy: 'me' }))).rejects.toBeInstanceOf(
        EvalRunConflictError,
      );
      // The same run ID in another set, or another workflow, is another run.
      expect(await store.putRun(run('r1', '2026-03-10T09:00:00Z', { evalSet: 'smoke' }))).toBe('stored');
      expect(
        await store.putRun(run('r1', '2026-03-10T09:00:00Z', { workflowId: `${workflowId}-other` })),
      ).toBe('stored');
      expect(await store.listRuns(workflowId, 'regression', 10)).toEqual([run('r1', '2026-03-10T09:00:00Z')]);
    });

    it('lists a set’s runs newest first by their instant, whatever offset they were sent with, up to `limit`', async () => {
      // 10:00+02:00 is 08:00Z: older than 09:00Z though it reads later.
      await store.putRun(run('r-b', '2026-03-10T09:00:00Z'));
      await store.putRun(run('r-a', '2026-03-10T10:00:00+02:00'));
      await store.putRun(run('r-c', '2026-03-12T09:00:00Z', { evalSetVersion: 2 }));
      await store.putRun(run('r-x', '2026-03-13T09:00:00Z', { evalSet: 'smoke' }));
      const ids = async (limit: number) =>
        (await store.listRuns(workflowId, 'regression', limit)).map((r) => r.runId);
      expect(await ids(10)).toEqual(['r-c', 'r-b', 'r-a']);
      expect(await ids(2)).toEqual(['r-c', 'r-b']);
    });
  });
}
