import { describe, expect, it } from 'vitest';
import { eventSchema } from '#lib/events/schema.ts';
import { type KpiJobDependencies, runKpiJob } from '#lib/kpi/job.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import type { StoredEvent } from '#lib/ports.ts';
import { archiveObjectKey } from '#lib/storage/archive-bucket.ts';
import { DEFAULT_HOT_INDEX_DAYS, hotFloorMs } from '#lib/storage/ledger-table.ts';
import { InMemoryArchivedEvents } from '../support/in-memory-archived-events.ts';
import { InMemoryEventArchive, InMemoryEventIndex, InMemoryKpiStore } from '../support/in-memory-stores.ts';
import { TEST_PRICES } from '../support/reviewed-unit.ts';

// Issue 12 keeps an event in the index for 45 days after it arrives; the archive keeps it for its
// retention. The KPI job must give the figures it gave when the index held everything: for a unit worked on
// for longer than the window (its start is in the archive only), and for a week recomputed after it left
// the window (a price table imported late).

const NOW = new Date('2026-11-24T02:00:00Z');
const FLOOR_MS = hotFloorMs(NOW.getTime(), DEFAULT_HOT_INDEX_DAYS);
const WORKFLOW = 'support-triage';

type Raw = Record<string, unknown> & { eventId: string; unitId: string; occurredAt: string };

function event(unitId: string, type: string, occurredAt: string, extra: Record<string, unknown> = {}): Raw {
  return {
    eventId: `${unitId}-${type}-${occurredAt}`,
    type,
    workflowId: WORKFLOW,
    unitId,
    occurredAt,
    ...extra,
  };
}

/** A unit: started, one action, possibly escalated, completed, then reviewed a day later. */
function unit(
  unitId: string,
  startedAt: string,
  completedAt: string,
  options: { escalatedAt?: string; verdict?: string } = {},
) {
  const action = {
    lane: 'hitl',
    model: { provider: 'anthropic', name: 'claude-sonnet', version: '2026-05' },
    usage: { inputTokens: 1000, outputTokens: 200 },
    toolCalls: [{ name: 'lookup_order', endpoint: 'orders.get', parameters: {}, outcome: 'success' }],
  };
  const dayAfter = new Date(Date.parse(completedAt) + 86_400_000).toISOString();
  return [
    event(unitId, 'unit.started', startedAt),
    event(unitId, 'action', new Date(Date.parse(startedAt) + 3_600_000).toISOString(), action),
    ...(options.escalatedAt
      ? [event(unitId, 'unit.escalated', options.escalatedAt, { reason: 'needs a human' })]
      : []),
    event(unitId, 'unit.completed', completedAt),
    event(unitId, 'review.verdict', dayAfter, {
      reviewerId: 'r1',
      verdict: options.verdict ?? 'pass',
      reviewMinutes: 3,
    }),
  ];
}

// A lead worked on for two months (started and escalated before the window), one of 3 days, both completed
// in 2026-W47; and a week in September, long before the window.
const LEDGER: Raw[] = [
  ...unit('lead-long', '2026-09-20T09:00:00Z', '2026-11-18T11:00:00Z', {
    escalatedAt: '2026-09-25T10:00:00Z',
    verdict: 'defect',
  }),
  ...unit('lead-short', '2026-11-16T09:00:00Z', '2026-11-19T09:00:00Z'),
  ...unit('old-1', '2026-09-14T09:00:00Z', '2026-09-15T09:00:00Z', { verdict: 'defect' }),
  // Completed on the week's last day: its review came in the next week.
  ...unit('old-2', '2026-09-16T09:00:00Z', '2026-09-20T12:00:00Z', { escalatedAt: '2026-09-16T10:00:00Z' }),
];

/** Each event as ingest keeps it, received a minute after it occurred, in an archive object of its own. */
function stored(raw: Raw): StoredEvent {
  const receivedAt = new Date(Date.parse(raw.occurredAt) + 60_000);
  return {
    event: eventSchema.parse(raw),
    occurredAtMs: Date.parse(raw.occurredAt),
    receivedAt: receivedAt.toISOString(),
    contentHash: `hash-${raw.eventId}`,
    expiresAt: Math.floor(NOW.getTime() / 1000) + 365 * 86_400,
    archiveKey: archiveObjectKey({
      retentionMonths: 24,
      workflowId: WORKFLOW,
      receivedAt,
      requestId: raw.eventId.replace(/[^A-Za-z0-9-]/g, '-'),
    }),
  };
}

/** The index as it was before issue 12 (every event), or as it is now (only what arrived in the window). */
function stores(window: 'everything' | 'hot window', ledger: Raw[]) {
  const index = new InMemoryEventIndex();
  const archive = new InMemoryEventArchive();
  for (const item of ledger.map(stored)) {
    archive.objects.set(item.archiveKey, [item]);
    if (window === 'everything' || Date.parse(item.receivedAt) >= FLOOR_MS) index.add(item);
  }
  return { index, archived: new InMemoryArchivedEvents(archive) };
}

async function record(
  week: string,
  window: 'everything' | 'hot window',
  withArchive: boolean,
  ledger: Raw[] = LEDGER,
): Promise<KpiRecord & { archiveQueries: number }> {
  const { index, archived } = stores(window, ledger);
  const kpis = new InMemoryKpiStore();
  await kpis.putTable(TEST_PRICES);
  const deps: KpiJobDependencies = {
    index,
    prices: kpis,
    kpis,
    reports: { putObject: async () => {} },
    clock: () => NOW,
    ...(withArchive ? { archive: { events: archived, hotIndexDays: DEFAULT_HOT_INDEX_DAYS } } : {}),
  };
  return { ...(await runKpiJob(WORKFLOW, week, deps)), archiveQueries: archived.calls.length };
}

const figures = ({ archiveQueries: _, ...kpis }: KpiRecord & { archiveQueries: number }) => kpis;

describe('the KPI job past the hot window', () => {
  it('gives a unit that started before the window the cycle time and escalation it had', async () => {
    const before = await record('2026-W47', 'everything', false);

    const now = await record('2026-W47', 'hot window', true);
    const indexOnly = await record('2026-W47', 'hot window', false);

    expect(before).toMatchObject({ throughput: 2, escalationRate: 0.5, defectRate: 0.5 });
    expect(before.cycleTimeP90Seconds).toBeGreaterThan(50 * 86_400);
    expect(figures(now)).toEqual(figures(before));
    // What the index alone would say: the long lead looks short and never escalated.
    expect(indexOnly.escalationRate).toBe(0);
    expect(indexOnly.cycleTimeP90Seconds).toBeLessThan(before.cycleTimeP90Seconds as number);
  });

  it('recomputes a week from before the window to the record it had', async () => {
    const before = await record('2026-W38', 'everything', false);

    const now = await record('2026-W38', 'hot window', true);
    const indexOnly = await record('2026-W38', 'hot window', false);

    expect(before).toMatchObject({ throughput: 2, defectRate: 0.5, escalationRate: 0.5 });
    expect(before.cost.totalUsd).toBeGreaterThan(0);
    expect(figures(now)).toEqual(figures(before));
    expect(indexOnly.throughput).toBe(0);
  });

  it('reads the history of many such units with one read of the archive, not one query each', async () => {
    const many = Array.from({ length: 12 }, (_, n) =>
      unit(`old-many-${n}`, '2026-09-14T09:00:00Z', '2026-09-20T12:00:00Z', {
        verdict: n % 3 === 0 ? 'defect' : 'pass',
      }),
    ).flat();

    const before = await record('2026-W38', 'everything', false, many);
    const now = await record('2026-W38', 'hot window', true, many);

    expect(before).toMatchObject({ throughput: 12, reviewedUnits: 12, defectRate: 4 / 12 });
    expect(figures(now)).toEqual(figures(before));
    // The week itself, then the cohort's history: one query each (pages of 10,000 and of 1,000 events).
    expect(now.archiveQueries).toBe(2);
  });
});
