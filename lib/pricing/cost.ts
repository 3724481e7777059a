import type { LedgerEvent } from '#lib/events/schema.ts';
import type { PriceBook } from '#lib/pricing/price-table.ts';

/**
 * The cost rule (SPEC "KPIs"), in one place for the KPI job and the governance reports: an action's
 * tokens are priced with the table in force when it occurred, under `<provider>/<name>`; cached input at
 * the input price when a model has no cached price; a tool call at its per-call price; review minutes at
 * the table's hourly rate. Anything without a price is reported as unpriced, never costed at zero.
 *
 * Counts are integers summed exactly per (table, model or tool), and priced once, in key order, when the
 * costs are asked for: float sums are not associative, so the figures are the same whatever order the
 * events arrive in.
 */

type ActionEvent = Extract<LedgerEvent, { type: 'action' }>;

const UNKNOWN = 'unknown';

/** How price tables key a model: `<provider>/<name>`, `unknown` for a part the action left out. */
export const modelKeyOf = (model: ActionEvent['model']): string =>
  `${model?.provider ?? UNKNOWN}/${model?.name ?? UNKNOWN}`;

/** What of one action no price table prices. */
export interface UnpricedUse {
  /** The model key of the action's token usage, when no table prices that model. */
  readonly model: string | undefined;
  /** The tool of each call no table prices: a tool called twice is named twice. */
  readonly toolCalls: readonly string[];
}

const ALL_PRICED: UnpricedUse = Object.freeze({ model: undefined, toolCalls: Object.freeze([]) });

/** Priced costs, unrounded (callers round what they store). */
export interface Costs {
  readonly modelUsd: number;
  readonly toolUsd: number;
  readonly humanReviewUsd: number;
  /** Per model key: the cost of its tokens over every table. Only priced models are present. */
  readonly byModel: ReadonlyMap<string, number>;
  /** Per tool: the cost of its calls over every table. Only priced tools are present. */
  readonly byTool: ReadonlyMap<string, number>;
}

interface TokenCounts {
  input: number;
  output: number;
  cached: number;
}

/** Entries are keyed `<effectiveFrom>|<model or tool>`; the key order is the pricing order. */
interface TokenEntry {
  readonly model: string;
  readonly tokens: TokenCounts;
  readonly perMillion: Readonly<TokenCounts>;
}
interface CallEntry {
  readonly tool: string;
  calls: number;
  readonly perCall: number;
}
interface ReviewEntry {
  /** Review minutes may be fractional: counted in millionths, which sum exactly. */
  microMinutes: number;
  readonly perHour: number;
}

const inKeyOrder = <T>(entries: Map<string, T>): T[] =>
  [...entries.keys()].sort().map((key) => entries.get(key) as T);

export class CostAccumulator {
  readonly #tokens = new Map<string, TokenEntry>();
  readonly #calls = new Map<string, CallEntry>();
  readonly #review = new Map<string, ReviewEntry>();

  constructor(private readonly prices: PriceBook) {}

  /** Counts an action's tokens and tool calls at the table in force when it occurred. */
  addAction(action: ActionEvent, occurredAtMs: number): UnpricedUse {
    const table = this.prices.tableAt(occurredAtMs);
    let unpricedModel: string | undefined;
    if (action.usage) {
      const model = modelKeyOf(action.model);
      const price = table?.models[model];
      if (price && table) {
        const key = `${table.effectiveFrom}|${model}`;
        const entry = this.#tokens.get(key) ?? {
          model,
          tokens: { input: 0, output: 0, cached: 0 },
          perMillion: {
            input: price.inputPerMillion,
            output: price.outputPerMillion,
            cached: price.cachedInputPerMillion ?? price.inputPerMillion,
          },
        };
        entry.tokens.input += action.usage.inputTokens;
        entry.tokens.output += action.usage.outputTokens;
        entry.tokens.cached += action.usage.cachedInputTokens ?? 0;
        this.#tokens.set(key, entry);
      } else {
        unpricedModel = model;
      }
    }
    const unpricedCalls: string[] = [];
    for (const call of action.toolCalls ?? []) {
      const price = table?.tools[call.name];
      if (price && table) {
        const key = `${table.effectiveFrom}|${call.name}`;
        const entry = this.#calls.get(key) ?? { tool: call.name, calls: 0, perCall: price.perCall };
        entry.calls++;
        this.#calls.set(key, entry);
      } else {
        unpricedCalls.push(call.name);
      }
    }
    return unpricedModel === undefined && unpricedCalls.length === 0
      ? ALL_PRICED
      : { model: unpricedModel, toolCalls: unpricedCalls };
  }

  /** Counts review minutes at the hourly rate of the table in force; false when no table is. */
  addReviewMinutes(minutes: number, occurredAtMs: number): boolean {
    const table = this.prices.tableAt(occurredAtMs);
    if (!table) return false;
    const entry = this.#review.get(table.effectiveFrom) ?? {
      microMinutes: 0,
      perHour: table.humanReviewPerHour,
    };
    entry.microMinutes += Math.round(minutes * 1e6);
    this.#review.set(table.effectiveFrom, entry);
    return true;
  }

  /** Prices what was counted, once, in key order. */
  costs(): Costs {
    const byModel = new Map<string, number>();
    let modelUsd = 0;
    for (const { model, tokens, perMillion } of inKeyOrder(this.#tokens)) {
      const usd =
        (tokens.input * perMillion.input +
          tokens.output * perMillion.output +
          tokens.cached * perMillion.cached) /
        1e6;
      modelUsd += usd;
      byModel.set(model, (byModel.get(model) ?? 0) + usd);
    }
    const byTool = new Map<string, number>();
    let toolUsd = 0;
    for (const { tool, calls, perCall } of inKeyOrder(this.#calls)) {
      const usd = calls * perCall;
      toolUsd += usd;
      byTool.set(tool, (byTool.get(tool) ?? 0) + usd);
    }
    let humanReviewUsd = 0;
    for (const { microMinutes, perHour } of inKeyOrder(this.#review)) {
      humanReviewUsd += (microMinutes / 1e6 / 60) * perHour;
    }
    return { modelUsd, toolUsd, humanReviewUsd, byModel, byTool };
  }
}
