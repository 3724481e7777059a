import type { LedgerEvent } from '#lib/events/schema.ts';
import type { WorkflowImpact } from '#lib/incidents/incidents.ts';
import type { IncidentWithPostmortem } from '#lib/incidents/service.ts';
import { formatInstant } from '#lib/presentation/format.ts';
import { type Html, html } from '#lib/presentation/html.ts';
import { consoleHref, csrfField } from './layout.ts';

/**
 * The bodies of the console's Incidents pages (issue 10 item 3): the list, one incident with the events
 * around it, and its no-blame postmortem form ("What happened", "Impact", "The fix", "Follow-up actions",
 * "Save postmortem"). Everything from the ledger and the form is escaped by `html`.
 */

const causeText = (incident: IncidentWithPostmortem) =>
  `${incident.cause === 'drift' ? 'Drift pause' : 'Operator'}: ${incident.reason}`;

export function incidentsBody(incidents: readonly IncidentWithPostmortem[]): Html {
  return html`<section class="panel" aria-labelledby="incidents-heading">
<h2 id="incidents-heading">Lanes switched off other than by a drill</h2>
${
  incidents.length === 0
    ? html`<p class="empty">No incidents: no lane was switched off other than by a drill.</p>`
    : html`<table class="list" data-testid="incidents-table"><thead><tr><th scope="col">Incident</th><th scope="col">Workflows</th><th scope="col">Opened</th><th scope="col">Cause</th><th scope="col">Closed</th><th scope="col">Postmortem</th></tr></thead>
<tbody>${incidents.map(
        (incident) =>
          html`<tr><td><a href="${consoleHref('incidents', incident.incidentId)}">${incident.incidentId}</a></td><td>${incident.scope === 'all-workflows' ? 'all (master flag)' : incident.workflowIds.join(', ')}</td><td>${formatInstant(incident.openedAt)} by ${incident.openedBy}</td><td>${causeText(incident)}</td><td>${incident.closedAt ? formatInstant(incident.closedAt) : 'still off'}</td><td>${incident.postmortem ? `written (v${incident.postmortem.version})` : 'none yet'}</td></tr>`,
      )}</tbody></table>`
}
</section>`;
}

export interface PostmortemForm {
  readonly csrf: string;
  /** What the fields hold: the stored postmortem, the rejected post, or the ledger's prefill. */
  readonly whatHappened: string;
  readonly impact: string;
  readonly fix: string;
  readonly followUps: string;
  readonly error?: string;
}

export interface IncidentView {
  readonly incident: IncidentWithPostmortem;
  readonly impacts: readonly WorkflowImpact[];
  /** The events of each workflow in [opened − 1 h, opened + 15 min), the kill-switch unit aside. */
  readonly around: readonly { workflowId: string; events: LedgerEvent[]; truncated: boolean }[];
  /** Absent: the person may read, not write. */
  readonly form?: PostmortemForm;
  readonly writeRoleNote: string;
}

export function incidentBody(view: IncidentView): Html {
  const { incident } = view;
  const postmortem = incident.postmortem;
  return html`<section class="panel" aria-labelledby="incident-heading">
<h2 id="incident-heading">What the ledger recorded</h2>
<dl class="facts">
<dt>Workflows</dt><dd>${incident.scope === 'all-workflows' ? `all (master flag): ${incident.workflowIds.join(', ')}` : incident.workflowIds.join(', ')}</dd>
<dt>Opened</dt><dd>${formatInstant(incident.openedAt)} by ${incident.openedBy}</dd>
<dt>Cause</dt><dd data-testid="incident-cause">${causeText(incident)}</dd>
<dt>Closed</dt><dd>${incident.closedAt ? formatInstant(incident.closedAt) : 'not yet: the lane is still off'}</dd>
</dl>
<table class="list"><thead><tr><th scope="col">Workflow</th><th scope="col">Units while off</th><th scope="col">Escaped defects</th><th scope="col">Events around the flip</th></tr></thead>
<tbody>${view.impacts.map((impact) => html`<tr><td>${impact.workflowId}</td><td>${String(impact.units)}</td><td>${String(impact.escapedDefects)}</td><td>${String(impact.eventsAround)}</td></tr>`)}</tbody></table>
</section>
<section class="panel" aria-labelledby="around-heading">
<h2 id="around-heading">The events around it</h2>
<p class="details">From an hour before the flip to 15 minutes after.</p>
${view.around.map(
  ({ workflowId, events, truncated }) => html`<h3>${workflowId}</h3>
${
  events.length === 0
    ? html`<p class="empty">No events in that window.</p>`
    : html`<table class="list"><thead><tr><th scope="col">Occurred</th><th scope="col">Type</th><th scope="col">Unit</th></tr></thead>
<tbody>${events.map((event) => html`<tr><td>${formatInstant(event.occurredAt)}</td><td>${event.type}</td><td><a href="${consoleHref('units', event.workflowId, event.unitId)}">${event.unitId}</a></td></tr>`)}</tbody></table>`
}${truncated ? html`<p class="details">Only the first ${String(events.length)} are shown.</p>` : ''}`,
)}
</section>
<section class="panel" aria-labelledby="postmortem-heading">
<h2 id="postmortem-heading">Postmortem</h2>
${
  postmortem
    ? html`<p class="details" data-testid="postmortem-meta">Version ${String(postmortem.version)}, written by ${postmortem.writtenBy} at ${formatInstant(postmortem.writtenAt)}.</p>`
    : html`<p class="empty">No postmortem yet.</p>`
}
${view.form ? postmortemForm(incident.incidentId, view.form) : postmortemRead(incident, view.writeRoleNote)}
</section>`;
}

function postmortemRead(incident: IncidentWithPostmortem, note: string): Html {
  const postmortem = incident.postmortem;
  return html`${
    postmortem
      ? html`<h3>What happened</h3><p class="prose">${postmortem.whatHappened}</p>
<h3>Impact</h3><p class="prose">${postmortem.impact}</p>
<h3>The fix</h3><p class="prose">${postmortem.fix}</p>
<h3>Follow-up actions</h3><ul>${postmortem.followUps.map((f) => html`<li>${f.action} — ${f.owner}</li>`)}</ul>`
      : ''
  }<p class="details">${note}</p>`;
}

function postmortemForm(incidentId: string, form: PostmortemForm): Html {
  const area = (id: string, label: string, value: string, hint: string, rows = 4) =>
    html`<div class="field"><label for="${id}">${label}</label>
<textarea id="${id}" name="${id}" rows="${String(rows)}" required maxlength="10000" aria-describedby="${id}-hint">${value}</textarea>
<p class="hint" id="${id}-hint">${hint}</p></div>`;
  return html`${form.error && html`<p class="flash bad" role="alert" id="postmortem-error">${form.error}</p>`}
<form method="post" action="${consoleHref('incidents', incidentId, 'postmortem')}">
${csrfField(form.csrf)}
${area('whatHappened', 'What happened', form.whatHappened, 'The sequence of events, without blame: systems and decisions, not culprits.', 6)}
${area('impact', 'Impact', form.impact, 'Units affected and customers reached (escaped defects); prefilled from the ledger.')}
${area('fix', 'The fix', form.fix, 'What stopped it, and what turned the lane back on.')}
${area('followUps', 'Follow-up actions', form.followUps, 'One per line: action — owner.')}
<button type="submit">Save postmortem</button>
</form>`;
}
