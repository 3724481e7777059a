import { formatCount, formatRate, formatUsd, NO_VALUE } from '#lib/presentation/format.ts';
import { type Html, html } from '#lib/presentation/html.ts';
import { badge, note, periodToDateNote, reportPage, table } from '#lib/reports/layout.ts';
import type {
  FallbackReadiness,
  VendorModelStrategyReview,
} from '#lib/reports/vendor-model-strategy/model.ts';

/** The quarterly Vendor/Model Strategy Review as self-contained HTML (its model: ./model.ts). */

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
            costCell(m.costUsd, m.unpricedActions),
            formatRate(m.shareOfModelCost),
            m.versions.join(', ') || NO_VALUE,
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
            costCell(t.costUsd, t.unpricedCalls),
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
        ? NO_VALUE
        : html`${f.providers.map(
            (p) =>
              html`<div><strong>${p.provider}</strong> (${formatCount(p.actions)} actions): ${p.models
                .map((m) => `${m.model} × ${m.actions}`)
                .join(', ')}</div>`,
          )}`,
      fallbackCell(f),
    ]),
  );
  const body = html`${periodToDateNote('quarter', model)}
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
  return reportPage({
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

/** What was priced, and a warning of how much was not (its cost is missing from the figure). */
function costCell(costUsd: number | null, unpriced: number): Html | string {
  return unpriced > 0
    ? html`${formatUsd(costUsd)} ${badge(`${unpriced} unpriced`, 'warn')}`
    : formatUsd(costUsd);
}
