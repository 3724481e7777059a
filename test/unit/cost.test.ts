import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { CostAccumulator, modelKeyOf } from '#lib/pricing/cost.ts';
import { PriceBook, type PriceTable } from '#lib/pricing/price-table.ts';

type ActionEvent = Extract<LedgerEvent, { type: 'action' }>;

const JANUARY: PriceTable = {
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  models: {
    'anthropic/claude-sonnet': { inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3 },
    'openai/gpt-5': { inputPerMillion: 2, outputPerMillion: 8 },
  },
  tools: { lookup_order: { perCall: 0.01 } },
  humanReviewPerHour: 48,
};
/** From March: sonnet costs twice as much, the tool is free, review time costs more. */
const MARCH: PriceTable = {
  ...JANUARY,
  effectiveFrom: '2026-03-01',
  models: { 'anthropic/claude-sonnet': { inputPerMillion: 6, outputPerMillion: 30 } },
  tools: { lookup_order: { perCall: 0 } },
  humanReviewPerHour: 90,
};
const JAN_10 = Date.parse('2026-01-10T12:00:00Z');
const MAR_10 = Date.parse('2026-03-10T12:00:00Z');

const action = (
  model: ActionEvent['model'],
  usage: ActionEvent['usage'],
  tools: readonly string[] = [],
): ActionEvent => ({
  type: 'action',
  eventId: 'a',
  workflowId: 'support-triage',
  unitId: 'u',
  occurredAt: '2026-01-10T12:00:00Z',
  ...(model ? { model } : {}),
  ...(usage ? { usage } : {}),
  toolCalls: tools.map((name) => ({ name })),
});
const sonnet = { provider: 'anthropic', name: 'claude-sonnet' };

describe('CostAccumulator: the cost rule of the KPI job and the reports', () => {
  it('prices tokens with the table in force when the action occurred, cached input at the input price when none is set', () => {
    // Prepare
    const cost = new CostAccumulator(new PriceBook([MARCH, JANUARY]));

    // Act
    cost.addAction(action(sonnet, { inputTokens: 1000, outputTokens: 200, cachedInputTokens: 100 }), JAN_10);
    cost.addAction(action(sonnet, { inputTokens: 1000, outputTokens: 200, cachedInputTokens: 100 }), MAR_10);
    cost.addAction(
      action(
        { provider: 'openai', name: 'gpt-5' },
        { inputTokens: 1000, outputTokens: 0, cachedInputTokens: 1000 },
      ),
      JAN_10,
    );

    // Assess: Jan (1000×3 + 200×15 + 100×0.3)/1e6; Mar (1000×6 + 200×30 + 100×6)/1e6; gpt-5 2000×2/1e6
    const costs = cost.costs();
    expect(costs.byModel.get('anthropic/claude-sonnet')).toBeCloseTo(0.00603 + 0.0126, 12);
    expect(costs.byModel.get('openai/gpt-5')).toBeCloseTo(0.004, 12);
    expect(costs.modelUsd).toBeCloseTo(0.00603 + 0.0126 + 0.004, 12);
  });

  it('prices tool calls per call and review minutes per hour, and says what no table prices', () => {
    // Prepare
    const cost = new CostAccumulator(new PriceBook([JANUARY, MARCH]));

    // Act
    const priced = cost.addAction(action(sonnet, undefined, ['lookup_order', 'lookup_order']), JAN_10);
    const unpriced = cost.addAction(
      action({ provider: 'acme' }, { inputTokens: 5, outputTokens: 5 }, ['crm', 'lookup_order', 'crm']),
      MAR_10,
    );
    const reviewed = [cost.addReviewMinutes(1.5, JAN_10), cost.addReviewMinutes(2, MAR_10)];
    const beforeAnyTable = new CostAccumulator(new PriceBook([MARCH]));

    // Assess
    expect(priced).toEqual({ model: undefined, toolCalls: [] });
    expect(unpriced).toEqual({ model: 'acme/unknown', toolCalls: ['crm', 'crm'] });
    expect(reviewed).toEqual([true, true]);
    // Jan: 2 calls at $0.01 and 1.5 min at $48/h; Mar: the call is free, 2 min at $90/h
    const costs = cost.costs();
    expect(costs.toolUsd).toBeCloseTo(0.02, 12);
    expect(costs.humanReviewUsd).toBeCloseTo(1.2 + 3, 12);
    expect(costs.modelUsd).toBe(0);
    expect([...costs.byTool.keys()]).toEqual(['lookup_order']);
    expect(beforeAnyTable.addReviewMinutes(3, JAN_10)).toBe(false);
    expect(
      beforeAnyTable.addAction(action(sonnet, { inputTokens: 1, outputTokens: 1 }, ['x']), JAN_10),
    ).toEqual({
      model: 'anthropic/claude-sonnet',
      toolCalls: ['x'],
    });
    expect(beforeAnyTable.costs()).toMatchObject({ modelUsd: 0, toolUsd: 0, humanReviewUsd: 0 });
  });

  it('keys a model as the price tables do, `unknown` for a part left out', () => {
    expect(modelKeyOf(sonnet)).toBe('anthropic/claude-sonnet');
    expect(modelKeyOf({ name: 'x' })).toBe('unknown/x');
    expect(modelKeyOf(undefined)).toBe('unknown/unknown');
  });

  it('comes to the same figures, to the last bit, whatever order the actions arrive in (property)', () => {
    const models = [sonnet, { provider: 'openai', name: 'gpt-5' }, { provider: 'acme', name: 'x' }];
    const use = fc.record({
      model: fc.constantFrom(...models),
      inputTokens: fc.nat(2_000_000),
      outputTokens: fc.nat(200_000),
      cachedInputTokens: fc.nat(500_000),
      tools: fc.array(fc.constantFrom('lookup_order', 'crm'), { maxLength: 3 }),
      march: fc.boolean(),
      reviewMinutes: fc.double({ min: 0, max: 600, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc
          .array(use, { maxLength: 40 })
          .chain((uses) =>
            fc.tuple(fc.constant(uses), fc.shuffledSubarray(uses, { minLength: uses.length })),
          ),
        ([uses, shuffled]) => {
          const total = (order: typeof uses) => {
            const cost = new CostAccumulator(new PriceBook([JANUARY, MARCH]));
            for (const u of order) {
              const at = u.march ? MAR_10 : JAN_10;
              cost.addAction(
                action(
                  u.model,
                  {
                    inputTokens: u.inputTokens,
                    outputTokens: u.outputTokens,
                    cachedInputTokens: u.cachedInputTokens,
                  },
                  u.tools,
                ),
                at,
              );
              cost.addReviewMinutes(u.reviewMinutes, at);
            }
            const { byModel, byTool, ...sums } = cost.costs();
            return { ...sums, byModel: [...byModel].sort(), byTool: [...byTool].sort() };
          };
          expect(total(shuffled)).toEqual(total(uses));
        },
      ),
    );
  });
});
