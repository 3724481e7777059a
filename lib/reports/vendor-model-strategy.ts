import type { LedgerEvent } from '#lib/events/schema.ts';
import { CostAccumulator, modelKeyOf } from '#lib/pricing/cost.ts';
import type { PriceBook } from '#lib/pricing/price-table.ts';
import type { Workflow } from '#lib/registry/workflows.ts';
import { byString, round6, summariseWorkflow, type WorkflowSummary } from '#lib/reports/common.ts';
import {
  badge,
  formatCount,
  formatRate,
  formatUsd,
  type Html,
  html,
  note,
  page,
  table,
} from '#lib/reports/html.ts';
import type { PeriodToDate } from '#lib/reports/periods.ts';

/**
 * The quarterly Vendor/Model Strategy Review: which models (`provider/name`) and tools the agents used in
 * the quarter, their tokens, calls and cost, and per workflow whether more than one provider served it —
 * the only evidence that a fallback works is that it has served traffic.
 */

type ActionEvent = Extract<LedgerEvent, { type: 'action' }>;

interface ModelTally {
  actions: number;
  tokens: { input: number; output: number; cached: number };
  /** Actions with usage that no price table prices. */
  unpricedActions: number;
  versions: Set<string>;
  workflows: Set<string>;
}

interface ToolTally {
  calls: number;
  failures: number;
  unpricedCalls: number;
  workflows: Set<string>;
}

const MAX_VERSIONS_LISTED = 10;

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

  finish(workflows: readonly Workflow[]): UsageMixResult {
    const { modelUsd, toolUsd, byModel: modelCost, byTool: toolCost } = this.#cost.costs();
    const actionsWithModel = [...this.#models.values()].reduce((sum, tally) => sum + tally.actions, 0);

    const models: ModelUsage[] = [...this.#models]
      .map(([model, tally]) => {
        const cost = modelCost.get(model);
        const slash = model.indexOf('/');
        return {
          model,
          provider: model.slice(0, slash),
          name: model.slice(slash + 1),
          actions: tally.actions,
          inputTokens: tally.tokens.input,
          outputTokens: tally.tokens.output,
          cachedInputTokens: tally.tokens.cached,
          costUsd: cost === undefined ? null : round6(cost),
          unpricedActions: tally.unpricedActions,
          shareOfActions: actionsWithModel === 0 ? 0 : round6(tally.actions / actionsWithModel),
          shareOfModelCost: cost === undefined || modelUsd === 0 ? null : round6(cost / modelUsd),
          versions: [...tally.versions].sort(byString).slice(0, MAX_VERSIONS_LISTED),
          workflows: [...tally.workflows].sort(byString),
        };
      })
      .sort(
        (a, b) =>
          (b.costUsd ?? -1) - (a.costUsd ?? -1) || b.actions - a.actions || byString(a.model, b.model),
      );

    const tools: ToolUsage[] = [...this.#tools]
      .map(([tool, tally]) => {
        const cost = toolCost.get(tool);
        return {
          tool,
          calls: tally.calls,
          failures: tally.failures,
          failureRate: tally.calls === 0 ? null : round6(tally.failures / tally.calls),
          costUsd: cost === undefined ? null : round6(cost),
          unpricedCalls: tally.unpricedCalls,
          workflows: [...tally.workflows].sort(byString),
        };
      })
      .sort((a, b) => (b.costUsd ?? -1) - (a.costUsd ?? -1) || b.calls - a.calls || byString(a.tool, b.tool));

    const fallback = workflows.map((workflow) =>
      fallbackReadiness(workflow, this.#served.get(workflow.workflowId)),
    );
    return {
      totals: {
        actions: this.#actions,
        actionsWithoutModel: this.#actionsWithoutModel,
        modelUsd: round6(modelUsd),
        toolUsd: round6(toolUsd),
        totalUsd: round6(modelUsd + toolUsd),
      },
      models,
      tools,
      fallback,
      unpriced: {
        models: models.filter((m) => m.unpricedActions > 0).map((m) => m.model),
        tools: tools.filter((t) => t.unpricedCalls > 0).map((t) => t.tool),
      },
    };
  }
}

function fallbackReadiness(
  workflow: Workflow,
  served: Map<string, Map<string, number>> | undefined,
): FallbackReadiness {
  const providers = [...(served ?? new Map<string, Map<string, number>>())]
    .map(([provider, models]) => ({
      provider,
      actions: [...models.values()].reduce((sum, n) => sum + n, 0),
      models: [...models].sort(([a], [b]) => byString(a, b)).map(([model, actions]) => ({ model, actions })),
    }))
    .sort((a, b) => b.actions - a.actions || byString(a.provider, b.provider));
  const total = providers.reduce((sum, p) => sum + p.actions, 0);
  const share = (n: number) => `${((n / total) * 100).toFixed(1)}%`;
  let status: FallbackReadiness['status'];
  let statement: string;
  if (providers.length === 0) {
    status = 'no-model-calls';
    statement = 'no model calls recorded in the quarter: fallback readiness unknown';
  } else if (providers.length === 1) {
    status = 'single-provider';
    statement = `single provider: no tested fallback (every model call went to ${providers[0]?.provider})`;
  } else {
    status = 'multi-provider';
    statement = `${providers.length} providers served it: ${providers
      .map((p) => `${p.provider} ${share(p.actions)}`)
      .join(', ')}; a fallback has carried real traffic`;
  }
  return { ...summariseWorkflow(workflow), status, statement, providers };
}

export interface ModelUsage {
  /** `<provider>/<name>`, as the price table keys models; `unknown` for a part the action left out. */
  readonly model: string;
  readonly provider: string;
  readonly name: string;
  readonly actions: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  /** null when no action of it was priced. */
  readonly costUsd: number | null;
  readonly unpricedActions: number;
  readonly shareOfActions: number;
  readonly shareOfModelCost: number | null;
  readonly versions: string[];
  readonly workflows: string[];
}

export interface ToolUsage {
  readonly tool: string;
  readonly calls: number;
  readonly failures: number;
  readonly failureRate: number | null;
  readonly costUsd: number | null;
  readonly unpricedCalls: number;
  readonly workflows: string[];
}

export interface FallbackReadiness extends WorkflowSummary {
  readonly status: 'multi-provider' | 'single-provider' | 'no-model-calls';
  /** Plain words for the review: "single provider: no tested fallback (…)". */
  readonly statement: string;
  readonly providers: { provider: string; actions: number; models: { model: string; actions: number }[] }[];
}

export interface UsageMixResult {
  readonly totals: {
    readonly actions: number;
    /** Actions naming no model and reporting no usage (no model call, or not logged). */
    readonly actionsWithoutModel: number;
    /** Priced cost only: see `unpriced`. */
    readonly modelUsd: number;
    readonly toolUsd: number;
    readonly totalUsd: number;
  };
  readonly models: ModelUsage[];
  readonly tools: ToolUsage[];
  readonly fallback: FallbackReadiness[];
  readonly unpriced: { readonly models: string[]; readonly tools: string[] };
}

export interface VendorModelStrategyReview extends UsageMixResult {
  readonly report: 'vendor-model-strategy';
  readonly schemaVersion: 1;
  readonly quarter: string;
  readonly quarterStart: string;
  readonly quarterEnd: string;
  /** The figures cover the quarter up to here: the end of `week`, or the quarter's end. */
  readonly asOf: string;
  readonly complete: boolean;
  /** The week whose run wrote it. */
  readonly week: string;
  readonly generatedAt: string;
}

export function buildVendorModelStrategyReview(input: {
  quarter: PeriodToDate;
  week: string;
  generatedAt: string;
  workflows: readonly Workflow[];
  mix: UsageMix;
}): VendorModelStrategyReview {
  return {
    report: 'vendor-model-strategy',
    schemaVersion: 1,
    quarter: input.quarter.name,
    quarterStart: new Date(input.quarter.startMs).toISOString(),
    quarterEnd: new Date(input.quarter.endMs).toISOString(),
    asOf: new Date(input.quarter.asOfMs).toISOString(),
    complete: input.quarter.complete,
    week: input.week,
    generatedAt: input.generatedAt,
    ...input.mix.finish(input.workflows),
  };
}

const tokens = (value: number) => (value >= 1e6 ? `${(value / 1e6).toFixed(2)} M` : formatCount(value));

export function renderVendorModelStrategyReview(model: VendorModelStrategyReview): string {
  const unpriced = [...model.unpriced.models, ...model.unpriced.tools];
  const models =
    model.models.length === 0
      ? note('No model calls were recorded in the quarter.')
      : table(
          [
            'Model',
            'Actions',
            'Share of actions',
            'Input tokens',
            'Output tokens',
            'Cached input',
            'Cost',
            'Share of model cost',
            'Versions',
            'Workflows',
          ],
          model.models.map((m) => [
            html`<code>${m.model}</code>`,
            formatCount(m.actions),
            formatRate(m.shareOfActions),
            tokens(m.inputTokens),
            tokens(m.outputTokens),
            tokens(m.cachedInputTokens),
            m.unpricedActions > 0
              ? html`${formatUsd(m.costUsd)} ${badge(`${m.unpricedActions} unpriced`, 'warn')}`
              : formatUsd(m.costUsd),
            formatRate(m.shareOfModelCost),
            m.versions.join(', ') || '—',
            m.workflows.join(', '),
          ]),
          [1, 2, 3, 4, 5, 6, 7],
        );
  const tools =
    model.tools.length === 0
      ? note('No tool calls were recorded in the quarter.')
      : table(
          ['Tool', 'Calls', 'Failures', 'Failure rate', 'Cost', 'Workflows'],
          model.tools.map((t) => [
            html`<code>${t.tool}</code>`,
            formatCount(t.calls),
            formatCount(t.failures),
            formatRate(t.failureRate),
            t.unpricedCalls > 0
              ? html`${formatUsd(t.costUsd)} ${badge(`${t.unpricedCalls} unpriced`, 'warn')}`
              : formatUsd(t.costUsd),
            t.workflows.join(', '),
          ]),
          [1, 2, 3, 4],
        );
  const fallback = table(
    ['Workflow', 'Owner', 'Providers and models that served it', 'Fallback readiness'],
    model.fallback.map((f) => [
      f.workflowId,
      f.owner,
      f.providers.length === 0
        ? '—'
        : html`${f.providers.map(
            (p) =>
              html`<div><strong>${p.provider}</strong> (${formatCount(p.actions)} actions): ${p.models
                .map((m) => `${m.model} × ${m.actions}`)
                .join(', ')}</div>`,
          )}`,
      fallbackCell(f),
    ]),
  );
  const body = html`${note(
    html`${model.quarter}: ${model.quarterStart} to ${model.quarterEnd} (UTC). ${
      model.complete
        ? 'The quarter is complete.'
        : html`Quarter to date: figures up to ${model.asOf} (written by the run for ${model.week}).`
    }`,
  )}
${unpriced.length > 0 && note(`Unpriced (their cost is not in the totals): ${unpriced.join(', ')}.`, 'bad')}
<section>
<h2>Totals</h2>
${table(
  ['Actions', 'Actions naming no model', 'Model cost', 'Tool cost', 'Total (model + tools)'],
  [
    [
      formatCount(model.totals.actions),
      formatCount(model.totals.actionsWithoutModel),
      formatUsd(model.totals.modelUsd),
      formatUsd(model.totals.toolUsd),
      formatUsd(model.totals.totalUsd),
    ],
  ],
  [0, 1, 2, 3, 4],
)}
<p class="muted">Human review cost is in the weekly KPI records, not here: this review is about vendors.</p>
</section>
<section>
<h2>Model mix</h2>
${models}
</section>
<section>
<h2>Tool mix</h2>
${tools}
</section>
<section>
<h2>Fallback readiness</h2>
<p class="muted">A fallback counts as tested only when a second provider served real traffic of the workflow in the quarter.</p>
${fallback}
</section>`;
  return page({
    title: `Vendor/Model Strategy Review — ${model.quarter}`,
    subtitle: 'Quarterly review of model and tool mix, their cost, and fallback readiness',
    generatedAt: model.generatedAt,
    body,
  });
}

function fallbackCell(f: FallbackReadiness): Html {
  const tone = f.status === 'multi-provider' ? 'good' : f.status === 'single-provider' ? 'bad' : 'warn';
  const label =
    f.status === 'multi-provider'
      ? 'tested'
      : f.status === 'single-provider'
        ? 'no tested fallback'
        : 'unknown';
  return html`${badge(label, tone)} ${f.statement}`;
}
