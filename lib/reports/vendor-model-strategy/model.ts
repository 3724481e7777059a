import { formatRate } from '#lib/presentation/format.ts';
import type { Workflow } from '#lib/registry/workflows.ts';
import {
  byString,
  type PeriodHeader,
  periodHeader,
  round6,
  summariseWorkflow,
  type WorkflowSummary,
} from '#lib/reports/common.ts';
import type { PeriodToDate } from '#lib/reports/periods.ts';
import type { UsageMix, UsageTallies } from '#lib/reports/vendor-model-strategy/tally.ts';

/**
 * The quarterly Vendor/Model Strategy Review: which models (`provider/name`) and tools the agents used in
 * the quarter, their tokens, calls and cost, and per workflow whether more than one provider served it —
 * the only evidence that a fallback works is that it has served traffic. The model, from the tallies of
 * ./tally.ts; rendered by ./render.ts.
 */

const MAX_VERSIONS_LISTED = 10;

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

export interface VendorModelStrategyReview extends PeriodHeader<'quarter'>, UsageMixResult {
  readonly report: 'vendor-model-strategy';
  readonly schemaVersion: 1;
}

/** The mix as the review shows it: models and tools by cost, their shares, and each workflow's providers. */
export function summariseUsage(tallies: UsageTallies, workflows: readonly Workflow[]): UsageMixResult {
  const { modelUsd, toolUsd, byModel: modelCost, byTool: toolCost } = tallies.cost;
  const actionsWithModel = [...tallies.models.values()].reduce((sum, tally) => sum + tally.actions, 0);

  const models: ModelUsage[] = [...tallies.models]
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
      (a, b) => (b.costUsd ?? -1) - (a.costUsd ?? -1) || b.actions - a.actions || byString(a.model, b.model),
    );

  const tools: ToolUsage[] = [...tallies.tools]
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
    fallbackReadiness(workflow, tallies.served.get(workflow.workflowId)),
  );
  return {
    totals: {
      actions: tallies.actions,
      actionsWithoutModel: tallies.actionsWithoutModel,
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

function fallbackReadiness(
  workflow: Workflow,
  served: ReadonlyMap<string, ReadonlyMap<string, number>> | undefined,
): FallbackReadiness {
  const providers = [...(served ?? new Map<string, ReadonlyMap<string, number>>())]
    .map(([provider, models]) => ({
      provider,
      actions: [...models.values()].reduce((sum, n) => sum + n, 0),
      models: [...models].sort(([a], [b]) => byString(a, b)).map(([model, actions]) => ({ model, actions })),
    }))
    .sort((a, b) => b.actions - a.actions || byString(a.provider, b.provider));
  const total = providers.reduce((sum, p) => sum + p.actions, 0);
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
      .map((p) => `${p.provider} ${formatRate(p.actions / total)}`)
      .join(', ')}; a fallback has carried real traffic`;
  }
  return { ...summariseWorkflow(workflow), status, statement, providers };
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
    ...periodHeader('quarter', input.quarter, input.week, input.generatedAt),
    ...summariseUsage(input.mix.tallies(), input.workflows),
  };
}
