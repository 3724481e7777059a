import type { AutonomyState } from '#lib/kill-switch/autonomy.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { type ChartScale, COMPACT_CHART, lineChart, RATE_SCALE, USD_SCALE } from '#lib/presentation/chart.ts';
import {
  formatCount,
  formatDay,
  formatInstant,
  formatRate,
  formatSeconds,
  formatShortWeek,
  formatUsd,
  NO_VALUE,
} from '#lib/presentation/format.ts';
import { type Html, html } from '#lib/presentation/html.ts';
import { laneAllowedInPhase, type RolloutPhase } from '#lib/registry/workflows.ts';
import { GOVERNANCE_INDEX_KEY, reportHref } from './reports.ts';
import type { DashboardView, Loaded, WeekKpis, WorkflowView } from './view.ts';

/**
 * The Overview page's body: the person's workflows (autonomy, this week's KPIs, 12-week charts) and the
 * reports. Server-side HTML, every value escaped; the console's layout wraps it.
 */
export function renderOverview(view: DashboardView, unitLookup: Html): Html {
  return html`<p class="sub">Last complete week <strong data-testid="week">${view.week}</strong>
(${formatDay(view.weekStart)} – ${formatDay(view.weekEnd)}, UTC) · page generated ${formatInstant(view.generatedAt)}</p>
${unitLookup}
${view.workflows.length === 0 ? html`<p class="empty">None of your roles covers a registered workflow.</p>` : ''}
${view.workflows.map((workflow) => renderWorkflow(workflow, view.week))}
${renderReports(view)}
<p class="details">The same figures come from <code>GET /v1/workflows/{workflowId}/kpis?week=${view.week}</code>;
recompute them with <code>agent-ledger jobs kpi --week ${view.week}</code>.</p>`;
}

function renderWorkflow(workflow: WorkflowView, week: string): Html {
  const weeks = workflow.weeks.ok ? workflow.weeks.value : [];
  const current = weeks.find((w) => w.week === week)?.record;
  return html`<section class="workflow" id="workflow-${workflow.workflowId}" data-workflow="${workflow.workflowId}">
<div class="head">
<div><h2>${workflow.workflowId}</h2>
<p class="meta">unit of value: ${workflow.unitOfValue} · owner: ${workflow.owner} · rollout phase: ${workflow.rolloutPhase}</p></div>
</div>
${renderAutonomy(workflow.autonomy, workflow.rolloutPhase)}
${renderRolloutPhaseViolations(workflow, week)}
${renderOperatingModel(current, week, workflow.workflowId)}
${
  workflow.weeks.ok
    ? html`${renderCurrentWeek(current, week, workflow.workflowId, workflow.unitOfValue)}
${renderUnpriced(weeks, week)}
<div class="charts">
${renderChart('Cost per unit (USD)', weeks, (r) => r.costPerUnitUsd, USD_SCALE, week, 'cost-per-unit')}
${renderChart('Defect rate', weeks, (r) => r.defectRate, RATE_SCALE, week, 'defect-rate')}
</div>
${renderWeeksTable(weeks, week)}`
    : html`<p class="error" role="alert" data-testid="kpi-error">${workflow.weeks.error}</p>`
}
</section>
`;
}

const LANE_WORDS: Record<AutonomyState['lane'], string> = {
  autonomous: 'the autonomous lane',
  hitl: 'the human-in-the-loop lane',
  shadow: 'the shadow lane (output not shipped)',
};

function renderAutonomy(autonomy: Loaded<AutonomyState>, phase: RolloutPhase): Html {
  if (!autonomy.ok) {
    return html`<p class="autonomy paused" data-autonomy="unknown">Autonomy state unknown: agents fail closed to the
human lane. <span class="reason">${autonomy.error}</span></p>`;
  }
  const state = autonomy.value;
  const version = state.flagVersion ? html` · flag version ${state.flagVersion}` : '';
  if (!laneAllowedInPhase(phase, 'autonomous')) {
    return html`<p class="autonomy closed" data-autonomy="phase">Autonomous lane not open in rollout phase ${phase}:
agents use ${LANE_WORDS[state.lane] ?? state.lane}${version}.<br>
<span class="reason">Reason: <span data-testid="autonomy-reason">${state.reason ?? 'no reason recorded'}</span></span></p>`;
  }
  if (state.autonomousAllowed) {
    return html`<p class="autonomy allowed" data-autonomy="allowed">Autonomous lane allowed${version}${
      state.changedAt ? html` · since ${formatInstant(state.changedAt)}` : ''
    }</p>`;
  }
  return html`<p class="autonomy paused" data-autonomy="paused">Autonomous lane paused since
${state.changedAt ? formatInstant(state.changedAt) : 'an unrecorded time'}: agents use the human-in-the-loop lane${version}.<br>
<span class="reason">Reason: <span data-testid="autonomy-reason">${state.reason ?? 'no reason recorded'}</span></span></p>`;
}

function renderRolloutPhaseViolations(workflow: WorkflowView, week: string): Html | string {
  const counted = workflow.rolloutPhaseViolations;
  if (counted === null) return '';
  if (!counted.ok) return html`<p class="error" role="alert">${counted.error}</p>`;
  if (counted.value === 0) return '';
  return html`<p class="warning" role="alert" data-testid="rollout-phase-violations"><strong>${counted.value}</strong>
action${counted.value === 1 ? '' : 's'} in ${week} ran in a lane rollout phase ${workflow.rolloutPhase} has not opened: list them with
<code>GET /v1/workflows/${workflow.workflowId}/events?violations=rollout-phase</code>.</p>`;
}

/**
 * Issue 10: an eval due (the KPI record's judgement, lib/evals/due.ts) and the week's tool calls no
 * boundary rule lists. Nothing when neither applies.
 */
function renderOperatingModel(
  record: KpiRecord | undefined,
  week: string,
  workflowId: string,
): Html | string {
  if (!record) return '';
  const due = record.evalDue?.due
    ? html`<p class="warning" role="alert" data-testid="eval-due"><strong>Eval due:</strong>
${(record.evalDue?.reasons ?? []).join('; ')}. Record a run on the current versions with
<code>agent-ledger evals record &lt;file&gt;</code>; the next KPI run clears this.</p>`
    : '';
  const unlisted =
    record.unlistedToolActions > 0
      ? html`<p class="warning" data-testid="unlisted-tools"><strong>${record.unlistedToolActions}</strong>
action${record.unlistedToolActions === 1 ? '' : 's'} in ${week} called tools the boundary neither allows nor forbids
(${record.unlistedTools.map((tool, i) => html`${i > 0 && ', '}<code>${tool}</code>`)}): write their policy. List them with
<code>GET /v1/workflows/${workflowId}/events?violations=unlisted-tool</code>.</p>`
      : '';
  return html`${due}${unlisted}`;
}

function renderCurrentWeek(
  record: KpiRecord | undefined,
  week: string,
  workflowId: string,
  unitOfValue: string,
): Html {
  if (!record) {
    return html`<p class="warning" data-testid="no-kpis">No KPI record for ${week} yet: compute it with
<code>agent-ledger jobs kpi --week ${week} --workflow ${workflowId}</code>.</p>`;
  }
  return html`<h3>KPIs of ${week}</h3>
<div class="tiles">
${tile('Cost per unit', formatUsd(record.costPerUnitUsd), `total ${formatUsd(record.cost.totalUsd)} over ${record.throughput} units`, 'costPerUnitUsd', true)}
${tile('Defect rate', formatRate(record.defectRate), `${record.defectiveUnits} of ${record.reviewedUnits} reviewed units`, 'defectRate', true)}
${tile('Throughput', formatCount(record.throughput), unitOfValue, 'throughput')}
${tile('Escalation rate', formatRate(record.escalationRate), `${record.escalatedUnits} escalated`, 'escalationRate')}
${tile('Cycle time', formatSeconds(record.cycleTimeMedianSeconds), `median · p90 ${formatSeconds(record.cycleTimeP90Seconds)}`, 'cycleTime')}
${tile('Audit coverage', formatRate(record.auditCoverage), `${record.replayableActions} of ${record.actions} actions replayable`, 'auditCoverage')}
${tile('Escape rate', formatRate(record.escapeRate), `${record.escapedUnits} defects reached a customer`, 'escapeRate')}
${tile('Catches', formatCount(record.catches), 'defects found in review before a customer saw them', 'catches')}
${
  record.killSwitchViolations > 0
    ? tile(
        'Kill-switch violations',
        formatCount(record.killSwitchViolations),
        'autonomous actions while paused',
        'killSwitchViolations',
      )
    : ''
}
</div>`;
}

function tile(label: string, value: string, note: string, kpi: string, key = false): Html {
  return html`<div class="tile${key ? ' key' : ''}"><div class="label">${label}</div>
<div class="value" data-kpi="${kpi}">${value}</div><div class="note">${note}</div></div>`;
}

/** Models, tools or review time that no price table prices: their cost is missing from cost per unit. */
function renderUnpriced(weeks: readonly WeekKpis[], week: string): Html {
  const affected = weeks.filter(({ record }) => record && hasUnpriced(record));
  if (affected.length === 0) return html``;
  const current = weeks.find((w) => w.week === week)?.record;
  const lines = affected.map(({ week: w, record }) => {
    const r = record as KpiRecord;
    const items = [
      ...r.unpriced.models.map((model) => `model ${model}`),
      ...r.unpriced.tools.map((tool) => `tool ${tool}`),
      ...(r.unpriced.humanReview ? ['human review (no hourly rate)'] : []),
    ];
    return html`<li>${w}: ${items.join(', ')}</li>`;
  });
  return html`<div class="warning" role="alert" data-testid="unpriced"><strong>Unpriced${
    current && hasUnpriced(current) ? ` in ${week}` : ''
  }:</strong> their cost is not in cost per unit, so it is understated. Add them to a price table and run
<code>agent-ledger prices import &lt;file&gt;</code>, then recompute.
<ul>${lines}</ul></div>`;
}

function hasUnpriced(record: KpiRecord): boolean {
  return record.unpriced.models.length > 0 || record.unpriced.tools.length > 0 || record.unpriced.humanReview;
}

/**
 * A line chart of one KPI over the weeks: a missing week (no record, or a null value) breaks the line and
 * is marked with a dashed rule, so a gap never reads as a zero.
 */
export function renderChart(
  title: string,
  weeks: readonly WeekKpis[],
  value: (record: KpiRecord) => number | null,
  scale: ChartScale,
  currentWeek: string,
  id: string,
): Html {
  const points = weeks.map(({ week, record }) => ({
    label: week,
    axisLabel: formatShortWeek(week),
    value: record ? value(record) : null,
    gapReason: record ? 'no value that week' : 'no KPI record',
    highlight: week === currentWeek,
  }));
  const missing = points.some((point) => point.value === null);
  return html`<figure data-chart="${id}">
<figcaption>${title}${missing && html` <span class="legend">(dashed: week without a KPI record)</span>`}</figcaption>
${lineChart({ title, points, scale, size: COMPACT_CHART, emptyText: 'no KPI records in these weeks' })}
</figure>`;
}

function renderWeeksTable(weeks: readonly WeekKpis[], currentWeek: string): Html {
  const cls = (week: string) => (week === currentWeek ? 'current' : '');
  const row = (label: string, kpi: string, cell: (record: KpiRecord) => string) =>
    html`<tr data-row="${kpi}"><th scope="row">${label}</th>${weeks.map(
      ({ week, record }) =>
        html`<td class="${cls(week)}" data-week="${week}">${record ? cell(record) : NO_VALUE}</td>`,
    )}</tr>`;
  return html`<h3>Last ${weeks.length} weeks</h3>
<div class="scroll"><table>
<thead><tr><th scope="col">week</th>${weeks.map(({ week }) => html`<th scope="col" class="${cls(week)}">${formatShortWeek(week)}</th>`)}</tr></thead>
<tbody>
${row('cost per unit', 'costPerUnitUsd', (r) => formatUsd(r.costPerUnitUsd))}
${row('defect rate', 'defectRate', (r) => formatRate(r.defectRate))}
${row('reviewed', 'reviewedUnits', (r) => formatCount(r.reviewedUnits))}
${row('throughput', 'throughput', (r) => formatCount(r.throughput))}
</tbody>
</table></div>`;
}

/** The reports section: governance reports and the cost-per-unit Parquet of the person's workflows. */
export function renderReports(view: DashboardView): Html {
  return html`<section class="reports" id="reports">
<h2>Reports</h2>
<h3>Governance</h3>
${renderGovernance(view)}
<h3>Cost per unit (Parquet, for finance)</h3>
${renderCostPerUnit(view)}
</section>`;
}

function renderGovernance(view: DashboardView): Html {
  if (!view.governance.ok) return html`<p class="error" role="alert">${view.governance.error}</p>`;
  const { entries, source, note } = view.governance.value;
  const header =
    source === 'index'
      ? html`<p class="details">From <a href="${reportHref(GOVERNANCE_INDEX_KEY)}">${GOVERNANCE_INDEX_KEY}</a>${
          note ? html` — ${note}` : ''
        }</p>`
      : note
        ? html`<p class="details">No ${GOVERNANCE_INDEX_KEY}; ${note}.</p>`
        : '';
  if (entries.length === 0) {
    return html`${header}<p class="empty" data-testid="no-governance">No governance reports in the reports bucket yet
(the report job writes them under <code>governance/</code>).</p>`;
  }
  return html`${header}<ul class="reports-list" data-testid="governance-reports">${entries.map(
    (entry) =>
      html`<li><strong>${entry.title}</strong>${
        entry.details.length > 0 ? html` <span class="details">(${entry.details.join(' · ')})</span>` : ''
      } — ${entry.links.map(
        (link, i) =>
          html`${i > 0 ? ' · ' : ''}<a href="${reportHref(link.key)}" data-report="governance">${link.label}</a>`,
      )}</li>`,
  )}</ul>`;
}

function renderCostPerUnit(view: DashboardView): Html {
  if (!view.costPerUnit.ok) return html`<p class="error" role="alert">${view.costPerUnit.error}</p>`;
  const { weeks, totalWeeks, truncated } = view.costPerUnit.value;
  if (weeks.length === 0) {
    return html`<p class="empty" data-testid="no-cost-per-unit">No cost-per-unit reports yet: the KPI job writes one per
workflow and week (<code>agent-ledger jobs kpi</code>).</p>`;
  }
  return html`<p class="details">Query them with <code>agent-ledger query "SELECT … FROM cost_per_unit"</code>${
    totalWeeks > weeks.length ? ` · newest ${weeks.length} of ${totalWeeks}${truncated ? '+' : ''} weeks` : ''
  }.</p>
<ul class="reports-list" data-testid="cost-per-unit-reports">${weeks.map(
    (week) =>
      html`<li><strong>${week.week}</strong> — ${week.files.map(
        (file, i) =>
          html`${i > 0 ? ' · ' : ''}<a href="${reportHref(file.key)}" data-report="cost-per-unit">${file.workflowId}</a>`,
      )}</li>`,
  )}</ul>`;
}
