import { type ChartPoint, lineChart, RATE_SCALE, USD_SCALE } from '#lib/presentation/chart.ts';
import {
  formatCount,
  formatPointChange,
  formatRate,
  formatSeconds,
  formatShortWeek,
  formatUsd,
  NO_VALUE,
  signOf,
} from '#lib/presentation/format.ts';
import { type Html, html } from '#lib/presentation/html.ts';
import {
  type AgentOpsReview,
  type KpiChange,
  type MetricFormat,
  type SeriesPoint,
  SPIKE_BASELINE_WEEKS,
  SPIKE_FACTOR,
  SPIKE_MIN_BASELINE_WEEKS,
  TOP_FAILURES,
  type WorkflowWeek,
} from '#lib/reports/agent-ops-review/model.ts';
import { badge, note, periodNote, reportPage, table, violationCell } from '#lib/reports/layout.ts';

/** The weekly Agent Ops Review as self-contained HTML (its model: ./model.ts). */

function formatMetric(format: MetricFormat, value: number | null): string {
  switch (format) {
    case 'count':
      return formatCount(value);
    case 'rate':
      return formatRate(value);
    case 'usd':
      return formatUsd(value);
    case 'seconds':
      return formatSeconds(value);
  }
}

function formatChange(kpi: KpiChange): Html | string {
  if (!kpi.tracked) return 'not tracked';
  if (kpi.change === null) return NO_VALUE;
  const sign = signOf(kpi.change);
  const magnitude = Math.abs(kpi.change);
  let text: string;
  if (kpi.format === 'rate') text = formatPointChange(kpi.change);
  else {
    const absolute =
      kpi.format === 'seconds'
        ? formatSeconds(magnitude)
        : kpi.format === 'usd'
          ? formatUsd(magnitude)
          : formatCount(magnitude);
    const relative =
      kpi.relativeChange === null ? '' : ` (${sign}${formatRate(Math.abs(kpi.relativeChange))})`;
    text = `${sign}${absolute}${relative}`;
  }
  return kpi.trend === 'better' || kpi.trend === 'worse'
    ? html`<span class="${kpi.trend}">${text}</span>`
    : text;
}

function chartPoints(series: readonly SeriesPoint[], what: string, week: string): ChartPoint[] {
  return series.map((point) => ({
    label: point.week,
    axisLabel: formatShortWeek(point.week),
    value: point.value,
    gapReason: point.recorded ? `no ${what} (no units)` : 'no KPI record for this week',
    highlight: point.week === week,
  }));
}

function workflowSection(workflow: WorkflowWeek, model: AgentOpsReview): Html {
  const missing =
    !workflow.recorded &&
    note(
      html`No KPI record for ${model.week}: run <code>agent-ledger jobs kpi --week ${model.week}</code>, then these reports again.`,
      'bad',
    );
  const unpriced = workflow.unpriced;
  const unpricedList = unpriced
    ? [...unpriced.models, ...unpriced.tools, ...(unpriced.humanReview ? ['human review'] : [])]
    : [];
  return html`<section>
<h2>${workflow.workflowId} <span class="muted">· unit: ${workflow.unitOfValue} · owner: ${workflow.owner} · phase: ${workflow.rolloutPhase}</span></h2>
${missing}
${unpricedList.length > 0 && note(html`Unpriced this week (their cost is not in the figures): ${unpricedList.join(', ')}. Import a price table with <code>agent-ledger prices import</code>.`, 'bad')}
${table(
  ['KPI', model.previousWeek, model.week, 'Change'],
  workflow.kpis.map((kpi) => [
    kpi.label,
    formatMetric(kpi.format, kpi.previous),
    kpi.tracked ? formatMetric(kpi.format, kpi.current) : 'not tracked',
    formatChange(kpi),
  ]),
  [1, 2, 3],
)}
<div class="charts">
<figure><figcaption>Cost per unit, last ${model.chartWeeks.length} weeks</figcaption>
${lineChart({ title: `${workflow.workflowId}: cost per unit`, points: chartPoints(workflow.charts.costPerUnitUsd, 'cost per unit', model.week), scale: USD_SCALE })}
</figure>
<figure><figcaption>Defect rate, last ${model.chartWeeks.length} weeks</figcaption>
${lineChart({ title: `${workflow.workflowId}: defect rate`, points: chartPoints(workflow.charts.defectRate, 'defect rate', model.week), scale: RATE_SCALE })}
</figure>
</div>
<p class="muted">Dashed rules mark weeks without a value: no KPI record, or no units to divide by. They are gaps, not zeros.</p>
</section>`;
}

export function renderAgentOpsReview(model: AgentOpsReview): string {
  const failures =
    model.topFailures.length === 0
      ? note('No defect verdicts and no failing tool calls occurred this week.')
      : table(
          ['#', 'Workflow', 'Failure', 'Kind', 'Count'],
          model.topFailures.map((failure) => [
            failure.rank,
            failure.workflowId,
            failure.label,
            failure.kind === 'defect' ? 'review verdict' : 'tool call',
            failure.count,
          ]),
          [0, 4],
        );
  const spikes =
    model.costSpikes.length === 0
      ? note(
          `No cost spikes in the last ${model.chartWeeks.length} weeks (none above ${SPIKE_FACTOR}× the median of the ${SPIKE_BASELINE_WEEKS} weeks before).`,
        )
      : table(
          [
            'Workflow',
            'Week',
            'Cost per unit',
            `Median of the ${SPIKE_BASELINE_WEEKS} weeks before`,
            'Ratio',
            '',
          ],
          model.costSpikes.map((spike) => [
            spike.workflowId,
            spike.week,
            formatUsd(spike.costPerUnitUsd),
            `${formatUsd(spike.baselineMedianUsd)} (${spike.baselineWeeks.length} weeks)`,
            spike.ratio === null ? 'from $0' : `${spike.ratio.toFixed(2)}×`,
            spike.thisWeek ? badge('this week', 'bad') : '',
          ]),
          [2, 3, 4],
        );
  const violations = table(
    [
      'Workflow',
      'Kill-switch violations',
      'Boundary violations',
      'Rules broken (tool calls)',
      'Rollout-phase violations',
    ],
    model.violations.map((row) => [
      row.workflowId,
      row.killSwitchViolations === null ? 'no KPI record' : violationCell(row.killSwitchViolations),
      row.boundaryTracked ? violationCell(row.boundaryViolations ?? 0) : 'not tracked',
      row.byRule.length === 0
        ? NO_VALUE
        : html`${row.byRule.map(
            (rule, i) =>
              html`${i > 0 && ', '}<code>${rule.ruleId}</code> (${BOUNDARY_KIND_LABEL[rule.kind] ?? rule.kind}, ${rule.tool}) × ${rule.count}`,
          )}`,
      row.rolloutPhaseViolations === 0
        ? '0'
        : html`${violationCell(row.rolloutPhaseViolations)}: ${row.byPhase.map(
            (entry, i) => html`${i > 0 && ', '}${entry.lane} lane in phase ${entry.phase} × ${entry.count}`,
          )}`,
    ]),
    [1, 2],
  );
  const shadowed = model.shadowReviews.filter((row) => row.units > 0);
  const shadow =
    shadowed.length === 0
      ? note('No shadow-lane units completed this week.')
      : table(
          [
            'Workflow',
            'Shadow-lane units completed',
            'In the review sample',
            'Reviewed',
            'Defects',
            'Defect rate',
            'Awaiting review',
          ],
          shadowed.map((row) => [
            row.workflowId,
            row.units,
            row.sampled,
            row.reviewed,
            row.defective,
            formatRate(row.defectRate),
            row.pending > 0 ? badge(String(row.pending), 'warn') : '0',
          ]),
          [1, 2, 3, 4, 5, 6],
        );
  const operating = table(
    ['Workflow', 'Eval due', 'Catches', 'Escapes', 'Catches by reviewer', 'Unlisted-tool actions'],
    model.operatingModel.map((row) => [
      row.workflowId,
      row.evalDue === null
        ? 'not judged'
        : row.evalDue.due
          ? html`${badge('due', 'warn')} ${row.evalDue.reasons.join('; ')}`
          : 'no',
      formatCount(row.catches),
      formatCount(row.escapedUnits),
      row.catchesByReviewer.length === 0
        ? NO_VALUE
        : html`${row.catchesByReviewer.map(
            (entry, i) =>
              html`${i > 0 && ', '}<code>${entry.reviewer.slice(0, 20)}</code> × ${entry.catches}`,
          )}`,
      row.unlistedToolActions === null || row.unlistedToolActions === 0
        ? formatCount(row.unlistedToolActions)
        : html`${badge(String(row.unlistedToolActions), 'warn')}: ${row.unlistedTools.map(
            (tool, i) => html`${i > 0 && ', '}<code>${tool}</code>`,
          )}`,
    ]),
    [2, 3],
  );
  const body = html`${periodNote(
    `Week ${model.week}`,
    model.weekStart,
    model.weekEnd,
    `Changes are against ${model.previousWeek}; rates change in percentage points (pp). Green is better, red is worse.`,
  )}
${model.workflows.map((workflow) => workflowSection(workflow, model))}
<section>
<h2>Top ${TOP_FAILURES} failures this week</h2>
<p class="muted">Defect verdicts by category and failing tool calls by tool and error code, among events that occurred in the week.</p>
${failures}
</section>
<section>
<h2>Cost spikes</h2>
<p class="muted">Workflow-weeks whose cost per unit is more than ${SPIKE_FACTOR}× the median of the ${SPIKE_BASELINE_WEEKS} weeks before (at least ${SPIKE_MIN_BASELINE_WEEKS} of them with a value).</p>
${spikes}
</section>
<section>
<h2>Kill-switch, boundary and rollout-phase violations</h2>
<p class="muted">Kill-switch violations: autonomous actions taken while the lane was off. Boundary violations: actions that broke a CANNOT rule, lacked a required approval, or were approved by someone not listed for the approver role. Rollout-phase violations: actions in a lane the workflow's rollout phase had not opened (baseline opens only shadow; hitl and evals add hitl; autonomous opens all three).</p>
${violations}
</section>
<section>
<h2>Evals due, catches and unlisted tools</h2>
<p class="muted">Eval due: the week's actions ran on a prompt, model or tool set the latest eval run was not run on, or that run is over 30 days old (a run on the current versions clears it at the next KPI run). Catches: units whose defect was found in review and did not escape, beside escapes; by reviewer pseudonym. Unlisted-tool actions: tool calls the boundary neither allows nor forbids (<code>GET /v1/workflows/{id}/events?violations=unlisted-tool</code>): policy still to write.</p>
${operating}
</section>
<section>
<h2>Shadow-lane reviews (onboarding)</h2>
<p class="muted">Units completed this week whose actions all ran in the shadow lane (output not shipped), reviewed the same way as shipped work; apart from the KPIs above, which count every unit. A unit with any hitl or autonomous action counts in its shipped lane instead. Awaiting review: sampled and without a verdict yet (<code>GET /v1/workflows/{id}/reviews?status=pending&amp;lane=shadow</code>).</p>
${shadow}
</section>
<section>
<h2>Action items</h2>
<p class="muted">Agreed in the review: what, who, by when.</p>
${
  model.actionItems.length > 0
    ? table(
        ['Action', 'Owner', 'Due'],
        model.actionItems.map((item) => [item.action, item.owner, item.due]),
      )
    : html`<table>
<thead><tr><th>Action</th><th>Owner</th><th>Due</th></tr></thead>
<tbody>${Array.from({ length: 5 }, () => html`<tr><td class="blank"></td><td></td><td></td></tr>`)}</tbody>
</table>`
}
</section>`;
  return reportPage({
    title: `Agent Ops Review — ${model.week}`,
    subtitle: `Weekly review of every workflow's KPIs, failures, costs and violations`,
    generatedAt: model.generatedAt,
    body,
  });
}

const BOUNDARY_KIND_LABEL: Record<string, string> = {
  cannot: 'CANNOT',
  approval: 'missing approval',
  approver: 'approver not in role',
};
