import { formatMs, NO_VALUE } from '#lib/presentation/format.ts';
import { type Html, html } from '#lib/presentation/html.ts';
import type { BoundaryView, DrillRow, LaneState, RuleView } from '#lib/reports/governance/model.ts';
import { badge, table } from '#lib/reports/layout.ts';

/** The kill switch's state, the autonomy boundary and drills, as the monthly review and the runbooks show them. */

export function laneBadge(lane: LaneState): Html {
  if (lane.autonomousAllowed === null) return badge('unreadable', 'warn');
  return lane.autonomousAllowed ? badge('on', 'good') : badge('off', 'bad');
}

const callText = (rule: RuleView) =>
  html`<code>${rule.tool}</code>${rule.when ? html` when <code>${rule.when}</code>` : ' (every call)'}`;

export function renderBoundary(boundary: BoundaryView): Html {
  return html`<h3>The agent can</h3>
${boundary.can.length === 0 ? html`<p class="muted">Nothing listed.</p>` : html`<ul>${boundary.can.map((item) => html`<li>${item}</li>`)}</ul>`}
<h3>The agent cannot (CANNOT rules, checked on every tool call)</h3>
${
  boundary.cannot.length === 0
    ? html`<p class="muted">No CANNOT rules.</p>`
    : table(
        ['Rule', 'Tool call', 'Why'],
        boundary.cannot.map((rule) => [html`<code>${rule.id}</code>`, callText(rule), rule.description]),
      )
}
<h3>Approvals required</h3>
${
  boundary.approvals.length === 0
    ? html`<p class="muted">No approval rules.</p>`
    : html`<p class="muted">A matching tool call needs an approved or edited approval on its action, by an approverId the registry lists for the rule's role; one by anyone else is a boundary violation (kind <code>approver</code>).</p>
${table(
  ['Rule', 'Tool call', 'Approver role', 'Who may approve (approverIds)', 'Why'],
  boundary.approvals.map((rule) => [
    html`<code>${rule.id}</code>`,
    callText(rule),
    rule.approver ?? NO_VALUE,
    rule.approverIds
      ? html`${rule.approverIds.map((id, i) => html`${i > 0 && ', '}<code>${id}</code>`)}`
      : badge('anyone: no list in the registry', 'warn'),
    rule.description,
  ]),
)}`
}`;
}

export function renderDrills(drills: readonly DrillRow[], none: string): Html {
  if (drills.length === 0) return html`<p class="muted">${none}</p>`;
  return table(
    ['Started', 'Drill', 'By', 'Outcome', 'Off took effect in', 'On again in', 'Detail'],
    drills.map((drill) => [
      drill.startedAt,
      html`<code>${drill.drillId}</code>`,
      drill.by,
      drill.outcome === 'passed' ? badge('passed', 'good') : badge('failed', 'bad'),
      formatMs(drill.offEffectMs),
      formatMs(drill.onEffectMs),
      drill.detail ?? '',
    ]),
    [4, 5],
  );
}
