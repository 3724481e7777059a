import type { PriceTable } from '#lib/pricing/price-table.ts';

/**
 * The price table the end-to-end tests import (and table A of the hand-worked KPI cases): claude-sonnet
 * at $3 / $15 per million input / output tokens ($0.30 cached), lookup_order at $0.002 a call, review
 * time at $60 an hour. gpt-5 has no price in it.
 */
export const TEST_PRICES: PriceTable = {
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  models: {
    'anthropic/claude-sonnet': { inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3 },
  },
  tools: { lookup_order: { perCall: 0.002 } },
  humanReviewPerHour: 60,
};

export interface ReviewedUnit {
  readonly workflowId: string;
  readonly unitId: string;
  /** Midnight UTC (epoch ms) of the day the unit runs. */
  readonly dayMs: number;
  readonly verdict?: 'pass' | 'defect';
  /** 3 unless given. */
  readonly reviewMinutes?: number;
  /** `openai`: the action used openai/gpt-5, which TEST_PRICES does not price. */
  readonly provider?: 'anthropic' | 'openai';
  /** The defect category of the verdict. */
  readonly category?: string;
  /** A second tool call of the action, failed with this error code. */
  readonly failingTool?: { readonly name: string; readonly errorCode: string };
}

/**
 * One unit of value, reviewed, as an agent service sends it: started 09:00, one action at 10:00 (1,000
 * input + 200 output tokens of claude-sonnet and one lookup_order call: $0.008 at TEST_PRICES), completed
 * 11:00 (two hours), a review verdict at 12:00.
 */
export function reviewedUnit(unit: ReviewedUnit): Record<string, unknown>[] {
  const at = (hour: number) => new Date(unit.dayMs + hour * 3_600_000).toISOString();
  const { workflowId, unitId } = unit;
  const base = { workflowId, unitId };
  return [
    { ...base, eventId: `${unitId}-s`, type: 'unit.started', occurredAt: at(9) },
    {
      ...base,
      eventId: `${unitId}-a`,
      type: 'action',
      occurredAt: at(10),
      lane: 'hitl',
      model:
        unit.provider === 'openai'
          ? { provider: 'openai', name: 'gpt-5', version: '2026-04' }
          : { provider: 'anthropic', name: 'claude-sonnet', version: '2026-05' },
      usage: { inputTokens: 1000, outputTokens: 200 },
      toolCalls: [
        { name: 'lookup_order', endpoint: 'orders.get', parameters: {}, outcome: 'success' },
        ...(unit.failingTool
          ? [
              {
                name: unit.failingTool.name,
                endpoint: 'x.y',
                parameters: {},
                outcome: 'failure',
                errorCode: unit.failingTool.errorCode,
              },
            ]
          : []),
      ],
    },
    { ...base, eventId: `${unitId}-c`, type: 'unit.completed', occurredAt: at(11) },
    {
      ...base,
      eventId: `${unitId}-r`,
      type: 'review.verdict',
      occurredAt: at(12),
      reviewerId: 'r1',
      verdict: unit.verdict ?? 'pass',
      reviewMinutes: unit.reviewMinutes ?? 3,
      ...(unit.category ? { category: unit.category } : {}),
    },
  ];
}
