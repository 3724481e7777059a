import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ReviewQueue } from '#lib/reviews/queue.ts';

/** The promises of `ReviewQueue` (lib/reviews/queue.ts), run against the fake and the DynamoDB queue. */
export function describeReviewQueueContract(name: string, makeQueue: () => ReviewQueue): void {
  describe(`ReviewQueue contract: ${name}`, () => {
    let queue: ReviewQueue;
    let workflowId: string;
    const at = '2026-11-24T11:00:00.000Z';
    const enqueue = (unitId: string, lane: 'shadow' | 'hitl' | 'autonomous' | null = 'hitl') =>
      queue.enqueue({ workflowId, unitId, completedAt: at, sampledAt: at, lane });
    const close = (unitId: string, verdict: 'pass' | 'defect', reviewerId = 'r1') =>
      queue.close({ workflowId, unitId, reviewedAt: at, reviewerId, verdict });
    const units = async (query: Partial<Parameters<ReviewQueue['list']>[0]> = {}) =>
      (await queue.list({ workflowId, status: 'pending', limit: 100, ...query })).items.map(
        (item) => item.unitId,
      );

    beforeEach(() => {
      queue = makeQueue();
      workflowId = `contract-${randomUUID().slice(0, 12)}`;
    });

    it('queues a unit as pending, with its lane; null when the lane is unknown', async () => {
      await enqueue('u1', 'shadow');
      await enqueue('u2', null);
      const { items } = await queue.list({ workflowId, status: 'pending', limit: 10 });
      expect(items).toEqual([
        { workflowId, unitId: 'u1', status: 'pending', lane: 'shadow', completedAt: at, sampledAt: at },
        { workflowId, unitId: 'u2', status: 'pending', lane: null, completedAt: at, sampledAt: at },
      ]);
    });

    it('keeps the first enqueue of a unit (idempotent)', async () => {
      await enqueue('u1', 'shadow');
      await queue.enqueue({
        workflowId,
        unitId: 'u1',
        completedAt: 'later',
        sampledAt: 'later',
        lane: 'hitl',
      });
      const { items } = await queue.list({ workflowId, status: 'pending', limit: 10 });
      expect(items).toMatchObject([{ unitId: 'u1', lane: 'shadow', completedAt: at }]);
    });

    it('closes a queued unit with its verdict, and leaves a unit that was not sampled alone', async () => {
      await enqueue('u1');
      await enqueue('u2');
      await close('u1', 'defect');
      await close('never-sampled', 'pass');
      expect(await units()).toEqual(['u2']);
      const { items } = await queue.list({ workflowId, status: 'reviewed', limit: 10 });
      expect(items).toEqual([
        {
          workflowId,
          unitId: 'u1',
          status: 'reviewed',
          lane: 'hitl',
          completedAt: at,
          sampledAt: at,
          reviewedAt: at,
          reviewerId: 'r1',
          verdict: 'defect',
        },
      ]);
    });

    it('lists one workflow, one status, one lane when asked', async () => {
      await enqueue('s', 'shadow');
      await enqueue('h', 'hitl');
      await enqueue('a', 'autonomous');
      await queue.enqueue({
        workflowId: `${workflowId}-other`,
        unitId: 'x',
        completedAt: at,
        sampledAt: at,
        lane: 'shadow',
      });
      expect(await units({ lane: 'shadow' })).toEqual(['s']);
      expect(await units({ lane: 'autonomous' })).toEqual(['a']);
      expect(await units({ status: 'reviewed' })).toEqual([]);
    });

    it('pages in unit-ID order: at most `limit` items, a position while more follow, none after the last', async () => {
      // Prepare: queued out of order, one closed, one of another lane
      for (const unitId of ['u5', 'u1', 'u4', 'u2', 'u3', 'u6']) await enqueue(unitId);
      await enqueue('u0', 'shadow');
      await close('u3', 'pass');
      const query = { workflowId, status: 'pending' as const, lane: 'hitl' as const, limit: 2 };

      // Act
      const first = await queue.list(query);
      const second = await queue.list({ ...query, ...(first.after ? { after: first.after } : {}) });
      const third = await queue.list({ ...query, ...(second.after ? { after: second.after } : {}) });

      // Assess
      expect([first, second, third].map((page) => page.items.map((item) => item.unitId))).toEqual([
        ['u1', 'u2'],
        ['u4', 'u5'],
        ['u6'],
      ]);
      expect(first.after).toBe('u2');
      expect(third.after).toBeUndefined();
      const full = await queue.list({ ...query, limit: 5 });
      expect(full.items).toHaveLength(5);
      expect(full.after).toBeUndefined();
    });
  });
}
