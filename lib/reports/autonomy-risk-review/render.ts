import {
  formatCount,
  formatMs,
  formatPointChange,
  formatRate,
  formatSeconds,
  NO_VALUE,
} from '#lib/presentation/format.ts';
import { type Html, html } from '#lib/presentation/html.ts';
import { renderIncidentPostmortems } from '#lib/reports/autonomy-risk-review/incidents.ts';
import type { AutonomyRiskReview, WorkflowRisk } from '#lib/reports/autonomy-risk-review/model.ts';
import type { EvalSummary, RollbackCause } from '#lib/reports/autonomy-risk-review/tally.ts';
import { laneBadge, renderBoundary, renderDrills } from '#lib/reports/governance/render.ts';
import { badge, note, periodToDateNote, reportPage, table, violationCell } from '#lib/reports/layout.ts';

/** The monthly Autonomy + Risk Review as self-contained HTML (its model: ./model.ts). */

function renderEvals(evals: EvalSummary): Html {
  if (evals.status !== 'recorded') return note(evals.message);
  return table(
    [
      'Eval set',
      'Cases (latest version)',
      'Runs this month',
      'Latest run',
      'Pass rate',
      'Change',
      'Newly failing',
      'What changed',
    ],
    evals.sets.map((set) => {
      const latest = set.latest;
      if (!latest)
        return [
          set.name,
          `${set.caseCount} (v${set.latestVersion})`,
          set.runsInMonth,
          'never run',
          NO_VALUE,
          NO_VALUE,
          NO_VALUE,
          NO_VALUE,
        ];
      const changed = [
        latest.promptChanged && `prompt ${latest.previous?.promptVersion} → ${latest.current.promptVersion}`,
        latest.modelChanged && `model ${latest.previous?.modelVersion} → ${latest.current.modelVersion}`,
        latest.setVersionChanged &&
          `set v${latest.previous?.evalSetVersion} → v${latest.current.evalSetVersion}`,
      ].filter((text): text is string => typeof text === 'string');
      return [
        set.name,
        `${set.caseCount} (v${set.latestVersion})`,
        set.runsInMonth,
        html`<code>${latest.current.runId}</code> ${latest.current.ranAt} by ${latest.current.ranBy}`,
        `${formatRate(latest.passRate)} (${latest.current.passed}/${latest.current.total})`,
        latest.delta === null
          ? 'first run'
          : html`<span class="${latest.delta < 0 ? 'worse' : latest.delta > 0 ? 'better' : ''}">${formatPointChange(latest.delta)}</span>`,
        latest.newlyFailing.length === 0
          ? '0'
          : `${latest.newlyFailing.length}: ${latest.newlyFailing.slice(0, 10).join(', ')}${latest.newlyFailing.length > 10 ? ', …' : ''}`,
        changed.length === 0 ? NO_VALUE : changed.join('; '),
      ];
    }),
    [2],
  );
}

function workflowSection(workflow: WorkflowRisk, model: AutonomyRiskReview): Html {
  const { lane } = workflow.killSwitch;
  return html`<section>
<h2>${workflow.workflowId} <span class="muted">· owner: ${workflow.owner} · phase: ${workflow.rolloutPhase}</span></h2>
<h3>Kill switch ${laneBadge(lane)}</h3>
${table(
  ['Now (read at report time)', 'Where', 'Who may flip it'],
  [
    [
      lane.summary,
      workflow.killSwitch.location,
      html`<ul>${workflow.killSwitch.flippers.map((flipper) => html`<li>${flipper}</li>`)}</ul>`,
    ],
  ],
)}
${renderBoundary(workflow.boundary)}
<h3>Violations by week</h3>
${table(
  ['Week', 'Kill-switch violations', 'Boundary violations', 'Rollout-phase violations'],
  workflow.violationsByWeek.map((row) => [
    row.week,
    row.killSwitchViolations === null ? 'no KPI record' : violationCell(row.killSwitchViolations),
    row.killSwitchViolations === null
      ? NO_VALUE
      : row.boundaryViolations === null
        ? 'not tracked'
        : violationCell(row.boundaryViolations),
    row.rolloutPhaseViolations === null ? 'not counted' : violationCell(row.rolloutPhaseViolations),
  ]),
  [1, 2, 3],
)}
<p class="muted">Rollout-phase violations: actions in a lane the workflow's rollout phase (now ${workflow.rolloutPhase}) had not opened, counted from the week's events.</p>
<h3>Eval results</h3>
${renderEvals(workflow.evals)}
<h3>Drills this month</h3>
${
  workflow.drillSummary.count > 0 &&
  html`<p>${workflow.drillSummary.count} drill(s), ${workflow.drillSummary.passed} passed, ${workflow.drillSummary.failed} failed; time to effect off: median ${formatMs(workflow.drillSummary.medianOffEffectMs)}, worst ${formatMs(workflow.drillSummary.maxOffEffectMs)}; back on: median ${formatMs(workflow.drillSummary.medianOnEffectMs)}.</p>`
}
${renderDrills(workflow.drills, `No drill in ${model.month}: run one with agent-ledger drill ${workflow.workflowId}.`)}
</section>`;
}

const CAUSE_LABEL: Record<RollbackCause, string> = {
  drift: 'drift pause',
  drill: 'drill',
  operator: 'operator',
};

// ── Rollout gate overrides ───────────────────────────────────────────────────────────────────────────

function renderGateOverrides(model: AutonomyRiskReview): Html {
  return html`<section>
<h2>Rollout gate overrides</h2>
<p>Phase moves deployed with <code>agent-ledger registry deploy --override</code> although their rollout gates were not met, from the ledger's <code>rollback</code> events (unit <code>rollout-gates</code>).</p>
${
  model.gateOverrides.length === 0
    ? note(`No rollout gate was overridden in ${model.month}.`)
    : table(
        ['When', 'Workflow', 'Phase', 'Who', 'Why', 'Conditions overridden'],
        model.gateOverrides.map((row) => [
          row.occurredAt,
          row.workflowId,
          `${row.from ?? '?'} → ${row.to ?? '?'}`,
          row.initiatedBy,
          row.reason,
          html`<ul>${row.unmet.map((condition) => html`<li>${condition}</li>`)}</ul>`,
        ]),
      )
}
</section>`;
}

export function renderAutonomyRiskReview(model: AutonomyRiskReview): string {
  const state = model.killSwitch;
  const rollbacks =
    model.rollbacks.length === 0
      ? note(`No kill-switch flips were recorded in ${model.month}.`)
      : table(
          ['When', 'Workflows', 'Change', 'Cause', 'Who', 'Why', 'Off for'],
          model.rollbacks.map((row) => [
            row.occurredAt,
            row.scope === 'all-workflows'
              ? html`all (master flag): ${row.workflowIds.join(', ')}`
              : row.workflowIds.join(', '),
            row.direction === 'off'
              ? badge('switched off', row.incident ? 'bad' : 'neutral')
              : row.direction === 'on'
                ? badge('switched on', 'good')
                : `${row.from ?? '?'} → ${row.to ?? '?'}`,
            CAUSE_LABEL[row.cause],
            row.initiatedBy,
            row.reason,
            row.direction === 'off'
              ? row.offForSeconds === null
                ? 'still off'
                : formatSeconds(row.offForSeconds)
              : '',
          ]),
        );
  const body = html`${periodToDateNote('month', model, `The kill-switch state is as AppConfig served it at ${state.readAt}.`)}
${!state.readable && note(`The kill-switch flags could not be read: ${state.error}. Agents fail closed to HITL while this lasts.`, 'bad')}
${state.master && !state.master.enabled && note(`The master flag is OFF: every autonomous lane is stopped (${state.master.reason ?? 'no reason recorded'}).`, 'bad')}
<section>
<h2>Summary</h2>
${table(
  ['Workflow', 'Phase', 'Autonomous lane now', 'Who may flip it', 'Eval results', 'Drills this month'],
  model.workflows.map((workflow) => [
    workflow.workflowId,
    workflow.rolloutPhase,
    html`${laneBadge(workflow.killSwitch.lane)} ${workflow.killSwitch.lane.summary}`,
    workflow.killSwitch.flippers.join('; '),
    workflow.evals.status === 'recorded'
      ? workflow.evals.sets
          .map((set) =>
            set.latest ? `${set.name} ${formatRate(set.latest.passRate)}` : `${set.name}: never run`,
          )
          .join('; ')
      : workflow.evals.message,
    workflow.drillSummary.count === 0
      ? badge('none', 'warn')
      : `${workflow.drillSummary.passed}/${workflow.drillSummary.count} passed, off in ${formatMs(workflow.drillSummary.medianOffEffectMs)} (median)`,
  ]),
)}
</section>
<section>
<h2>Incidents and rollbacks</h2>
<p>${formatCount(model.incidents)} incident(s): lanes switched off other than by a drill. Every flip is listed, from the ledger's <code>rollback</code> events (unit <code>kill-switch</code>).</p>
${rollbacks}
</section>
${renderIncidentPostmortems(model.incidentPostmortems, model.month)}
${renderGateOverrides(model)}
${model.workflows.map((workflow) => workflowSection(workflow, model))}`;
  return reportPage({
    title: `Autonomy + Risk Review — ${model.month}`,
    subtitle: 'Monthly review of autonomy boundaries, kill-switch control, evals, incidents and drills',
    generatedAt: model.generatedAt,
    body,
  });
}
