import { describe, expect, it } from 'vitest';
import type { JobMetrics } from '#functions/commons/job-metrics.ts';
import { makeKpiJob } from '#functions/kpi-job/make-handler.ts';
import { eventSchema } from '#lib/events/schema.ts';
import { type KpiJobPart, type KpiJobRequest, runKpiJobs } from '#lib/kpi/job.ts';
import { lastCompleteWeek, shiftWeek } from '#lib/kpi/weeks.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { indexedEvent } from '../support/events.ts';
import { InMemoryEventIndex, InMemoryKpiStore } from '../support/in-memory-stores.ts';
import { reviewedUnit, TEST_PRICES } from '../support/reviewed-unit.ts';

// The scheduled KPI function in Lambda: a run of several workflow weeks hands each to an asynchronous
// invocation of itself (no local part is a Lambda service, so the "invocation" here is the same handler
// called with the payload Lambda would deliver). It must store exactly what one in-process run stores.

const NOW = new Date('2026-11-24T02:00:00Z'); // a Monday: the last complete week is 2026-W48
const LAST = lastCompleteWeek(NOW.getTime());
const WORKFLOWS = defaultRegistry.ids();

/** Reviewed units of every workflow in each of the last 4 weeks (one in two a defect in the newest). */
function ledger(): InMemoryEventIndex {
  const index = new InMemoryEventIndex();
  const mondayOfLast = Date.parse('2026-11-16T00:00:00Z');
  for (const workflowId of WORKFLOWS) {
    for (let weeksBack = 0; weeksBack < 4; weeksBack++) {
      for (let n = 0; n < 3 + weeksBack; n++) {
        const raw = reviewedUnit({
          workflowId,
          unitId: `${workflowId}-${weeksBack}-${n}`,
          dayMs: mondayOfLast - weeksBack * 7 * 86_400_000 + (n % 5) * 86_400_000,
          verdict: weeksBack === 0 && n % 2 === 0 ? 'defect' : 'pass',
        });
        index.add(...raw.map((event) => indexedEvent(eventSchema.parse(event))));
      }
    }
  }
  return index;
}

function recordingMetrics(): { metrics: JobMetrics; weeks: string[] } {
  const weeks: string[] = [];
  let week = '';
  return {
    weeks,
    metrics: {
      addDimension: () => {},
      addMetric: () => {},
      addMetadata: (key, value) => {
        if (key === 'week') week = value;
      },
      publishStoredMetrics: () => void weeks.push(week),
    },
  };
}

async function storesAfterInProcessRun(request: KpiJobRequest) {
  const kpis = new InMemoryKpiStore();
  await kpis.putTable(TEST_PRICES);
  const deps = {
    index: ledger(),
    prices: kpis,
    kpis,
    reports: { putObject: async () => {} },
    registry: defaultRegistry,
    clock: () => NOW,
  };
  await runKpiJobs(request, deps);
  return kpis.records;
}

describe('the KPI function fans a run out, one workflow week per invocation', () => {
  it("hands out every workflow's 4 weeks, and the invocations store what one run would", async () => {
    // Prepare
    const kpis = new InMemoryKpiStore();
    await kpis.putTable(TEST_PRICES);
    const handedOut: KpiJobPart[] = [];
    const { metrics, weeks: emittedWeeks } = recordingMetrics();
    const objects: string[] = [];
    const job = makeKpiJob({
      index: ledger(),
      prices: kpis,
      kpis,
      reports: { putObject: async (key) => void objects.push(key) },
      registry: defaultRegistry,
      clock: () => NOW,
      metrics,
      fanOut: async (part) => void handedOut.push(part),
    });

    // Act: the Monday schedule's run, then each invocation Lambda delivers (as JSON, as Lambda would)
    const planned = await job({ recomputeWeeks: 4 });
    const storedByPlanner = kpis.records.size;
    const answers = [];
    for (const part of handedOut) answers.push(await job(JSON.parse(JSON.stringify(part)) as KpiJobRequest));

    // Assess
    const weeks = [3, 2, 1, 0].map((back) => shiftWeek(LAST, -back));
    expect(handedOut).toEqual(weeks.flatMap((week) => WORKFLOWS.map((workflowId) => ({ workflowId, week }))));
    expect(planned).toEqual({ fannedOut: handedOut });
    expect(storedByPlanner).toBe(0);
    expect(answers.map((answer) => answer.computed?.length)).toEqual(handedOut.map(() => 1));
    expect(kpis.records).toEqual(await storesAfterInProcessRun({ recomputeWeeks: 4 }));
    expect(objects).toHaveLength(handedOut.length);
    expect([...kpis.records.values()].find((r) => r.week === LAST)?.defectRate).toBeCloseTo(2 / 3);
    // Only the last complete week reaches the dashboard's metrics, once per workflow.
    expect(emittedWeeks).toEqual(WORKFLOWS.map(() => LAST));
  });

  it('computes a run of one workflow week itself, and hands nothing out', async () => {
    const kpis = new InMemoryKpiStore();
    await kpis.putTable(TEST_PRICES);
    const handedOut: KpiJobPart[] = [];
    const job = makeKpiJob({
      index: ledger(),
      prices: kpis,
      kpis,
      reports: { putObject: async () => {} },
      registry: new WorkflowRegistry(defaultRegistry.all().slice(0, 1)),
      clock: () => NOW,
      metrics: recordingMetrics().metrics,
      fanOut: async (part) => void handedOut.push(part),
    });

    const answer = await job({});

    expect(handedOut).toEqual([]);
    expect(answer).toEqual({ computed: [{ workflowId: WORKFLOWS[0], week: LAST, throughput: 3 }] });
  });

  it('fails the run, for Lambda to retry, when a part cannot be handed out', async () => {
    const job = makeKpiJob({
      index: new InMemoryEventIndex(),
      prices: new InMemoryKpiStore(),
      kpis: new InMemoryKpiStore(),
      reports: { putObject: async () => {} },
      registry: defaultRegistry,
      clock: () => NOW,
      metrics: recordingMetrics().metrics,
      fanOut: async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      },
    });

    await expect(job({})).rejects.toMatchObject({ name: 'TooManyRequestsException' });
  });
});
