import { deriveIncidents, type Incident } from '#lib/incidents/incidents.ts';
import type { FollowUp, Postmortem } from '#lib/incidents/postmortem.ts';
import type { StoredEvent } from '#lib/ports.ts';
import { type Html, html } from '#lib/presentation/html.ts';
import { badge, note, table } from '#lib/reports/layout.ts';

/**
 * The monthly review's "Incidents and postmortems" section (issue 10 item 3): the month's incidents, each
 * with its postmortem's summary and follow-ups, and a flag on those still without one 7 days after they
 * opened. Model and rendering together, so the section is one file.
 */

/** A postmortem is due this long after its incident opened. */
export const POSTMORTEM_DUE_DAYS = 7;

export interface IncidentReportRow {
  readonly incidentId: string;
  readonly workflowIds: string[];
  readonly openedAt: string;
  readonly openedBy: string;
  readonly cause: Incident['cause'];
  readonly reason: string;
  readonly closedAt: string | null;
  readonly postmortem: {
    readonly whatHappened: string;
    readonly fix: string;
    readonly followUps: FollowUp[];
    readonly writtenBy: string;
    readonly writtenAt: string;
    readonly version: number;
  } | null;
  /** No postmortem, and the incident opened over POSTMORTEM_DUE_DAYS before the report was generated. */
  readonly postmortemOverdue: boolean;
}

export type IncidentPostmortems =
  | { readonly status: 'not-connected' }
  | { readonly status: 'recorded'; readonly rows: IncidentReportRow[] };

/**
 * The month's incidents (opened by the month's `rollback` events) with their postmortems; undefined
 * `postmortems` means no postmortem store is connected.
 */
export function incidentPostmortems(
  rollbacks: readonly StoredEvent[],
  postmortems: ReadonlyMap<string, Postmortem> | undefined,
  generatedAtMs: number,
): IncidentPostmortems {
  if (postmortems === undefined) return { status: 'not-connected' };
  const dueMs = POSTMORTEM_DUE_DAYS * 86_400_000;
  return {
    status: 'recorded',
    rows: deriveIncidents(rollbacks).map((incident) => {
      const postmortem = postmortems.get(incident.incidentId);
      return {
        incidentId: incident.incidentId,
        workflowIds: incident.workflowIds,
        openedAt: incident.openedAt,
        openedBy: incident.openedBy,
        cause: incident.cause,
        reason: incident.reason,
        closedAt: incident.closedAt,
        postmortem: postmortem
          ? {
              whatHappened: postmortem.whatHappened,
              fix: postmortem.fix,
              followUps: postmortem.followUps,
              writtenBy: postmortem.writtenBy,
              writtenAt: postmortem.writtenAt,
              version: postmortem.version,
            }
          : null,
        postmortemOverdue: !postmortem && generatedAtMs - incident.openedAtMs > dueMs,
      };
    }),
  };
}

/** The section's HTML. */
export function renderIncidentPostmortems(section: IncidentPostmortems, month: string): Html {
  const body =
    section.status === 'not-connected'
      ? note('Postmortems could not be read: no postmortem store is connected.')
      : section.rows.length === 0
        ? note(`No incident opened in ${month}.`)
        : html`${
            section.rows.some((row) => row.postmortemOverdue) &&
            note(
              `${section.rows.filter((row) => row.postmortemOverdue).length} incident(s) still have no postmortem ${POSTMORTEM_DUE_DAYS} days after opening.`,
              'bad',
            )
          }
${table(
  ['Incident', 'Workflows', 'Opened', 'Cause', 'Closed', 'Postmortem', 'Follow-up actions'],
  section.rows.map((row) => [
    html`<code>${row.incidentId}</code>`,
    row.workflowIds.join(', '),
    `${row.openedAt} by ${row.openedBy}`,
    `${row.cause === 'drift' ? 'drift pause' : 'operator'}: ${row.reason}`,
    row.closedAt ?? 'still off',
    row.postmortem
      ? html`<strong>What happened:</strong> ${row.postmortem.whatHappened}<br><strong>The fix:</strong> ${row.postmortem.fix}<br><span class="muted">v${row.postmortem.version} by ${row.postmortem.writtenBy}, ${row.postmortem.writtenAt}</span>`
      : row.postmortemOverdue
        ? badge(`none after ${POSTMORTEM_DUE_DAYS} days`, 'bad')
        : badge('not yet written', 'warn'),
    row.postmortem
      ? html`<ul>${row.postmortem.followUps.map((f) => html`<li>${f.action} — ${f.owner}</li>`)}</ul>`
      : '',
  ]),
)}`;
  return html`<section>
<h2>Incidents and postmortems</h2>
<p>Each lane switched off other than by a drill is an incident; its no-blame postmortem is due within ${POSTMORTEM_DUE_DAYS} days (<code>agent-ledger incidents postmortem &lt;id&gt; --file …</code>, or the console's Incidents page).</p>
${body}
</section>`;
}
