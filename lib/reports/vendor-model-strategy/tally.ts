import type { LedgerEvent } from '#lib/events/schema.ts';
import { CostAccumulator, type Costs, modelKeyOf } from '#lib/pricing/cost.ts';
import type { PriceBook } from '#lib/pricing/price-table.ts';

/**
 * What the quarterly Vendor/Model Strategy Review counts from the quarter's actions: per model and tool
 * its use and cost, and which providers served each workflow. ./model.ts makes the review of it.
 */

type ActionEvent = Extract<LedgerEvent, { type: 'action' }>;

export interface ModelTally {
  actions: number;
  tokens: { input: number; output: number; cached: number };
  /** Actions with usage that no price table prices. */
  unpricedActions: number;
  versions: Set<string>;
  workflows: Set<string>;
}

export interface ToolTally {
  calls: number;
  failures: number;
  unpricedCalls: number;
  workflows: Set<string>;
}

/**
 * The quarter's model and tool mix, fed every action that occurred in it, priced by the KPI job's cost
 * rule (lib/pricing/cost.ts): anything without a price is counted as unpriced, never costed at zero. Pure.
 */
export class UsageMix {
  readonly #models = new Map<string, ModelTally>();
  readonly #tools = new Map<string, ToolTally>();
  readonly #cost: CostAccumulator;
  /** workflow → provider → model → actions. */
  readonly #served = new Map<string, Map<string, Map<string, number>>>();
  #actions = 0;
  #actionsWithoutModel = 0;

  constructor(prices: PriceBook) {
    this.#cost = new CostAccumulator(prices);
  }

  add(event: LedgerEvent, occurredAtMs: number): void {
    if (event.type !== 'action') return;
    this.#actions++;
    const unpriced = this.#cost.addAction(event, occurredAtMs);
    this.#addModel(event, unpriced.model !== undefined);
    for (const call of event.toolCalls ?? []) {
      const tally = this.#tools.get(call.name) ?? {
        calls: 0,
        failures: 0,
        unpricedCalls: 0,
        workflows: new Set(),
      };
      tally.calls++;
      if (call.outcome === 'failure') tally.failures++;
      tally.workflows.add(event.workflowId);
      this.#tools.set(call.name, tally);
    }
    for (const tool of unpriced.toolCalls) {
      const tally = this.#tools.get(tool);
      if (tally) tally.unpricedCalls++;
    }
  }

  #addModel(event: ActionEvent, unpricedUsage: boolean): void {
    const provider = event.model?.provider;
    const name = event.model?.name;
    if (!event.usage && !provider && !name) {
      this.#actionsWithoutModel++;
      return;
    }
    const key = modelKeyOf(event.model);
    const tally = this.#models.get(key) ?? {
      actions: 0,
      tokens: { input: 0, output: 0, cached: 0 },
      unpricedActions: 0,
      versions: new Set<string>(),
      workflows: new Set<string>(),
    };
    tally.actions++;
    tally.workflows.add(event.workflowId);
    if (event.model?.version) tally.versions.add(event.model.version);
    this.#models.set(key, tally);
    if (provider) {
      const byProvider = this.#served.get(event.workflowId) ?? new Map<string, Map<string, number>>();
      const byModel = byProvider.get(provider) ?? new Map<string, number>();
      byModel.set(key, (byModel.get(key) ?? 0) + 1);
      byProvider.set(provider, byModel);
      this.#served.set(event.workflowId, byProvider);
    }
    if (!event.usage) return;
    const { inputTokens, outputTokens, cachedInputTokens = 0 } = event.usage;
    tally.tokens.input += inputTokens;
    tally.tokens.output += outputTokens;
    tally.tokens.cached += cachedInputTokens;
    if (unpricedUsage) tally.unpricedActions++;
  }

  /** What was counted, priced. */
  tallies(): UsageTallies {
    return {
      actions: this.#actions,
      actionsWithoutModel: this.#actionsWithoutModel,
      models: this.#models,
      tools: this.#tools,
      served: this.#served,
      cost: this.#cost.costs(),
    };
  }
}

export interface UsageTallies {
  readonly actions: number;
  /** Actions naming no model and reporting no usage (no model call, or not logged). */
  readonly actionsWithoutModel: number;
  /** Per model key (`<provider>/<name>`). */
  readonly models: ReadonlyMap<string, Readonly<ModelTally>>;
  readonly tools: ReadonlyMap<string, Readonly<ToolTally>>;
  /** workflow → provider → model → actions. */
  readonly served: ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<string, number>>>;
  readonly cost: Costs;
}
