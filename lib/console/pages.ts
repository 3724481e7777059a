import { mayOperate, mayReview, type Person, rolesOn } from '#lib/auth/people.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import type { AutonomyState } from '#lib/kill-switch/autonomy.ts';
import type { DrillRecord } from '#lib/kill-switch/drills.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import { formatCount, formatInstant, formatRate, NO_VALUE } from '#lib/presentation/format.ts';
import { type Html, html } from '#lib/presentation/html.ts';
import { LANES, type Lane } from '#lib/registry/workflows.ts';
import type { ReviewItem } from '#lib/reviews/queue.ts';
import { consoleHref, csrfField } from './layout.ts';

/**
 * The bodies of the console's pages (the layout wraps them). Everything from the stores is escaped by
 * `html`; every control has a visible label, and the names the issue gives them ("Token", "Sign in",
 * "Pass", "Defect", "Category", "Escaped", "Minutes", "Submit verdict", "Reason", "Turn off", "Turn on",
 * "Run drill", "Unit ID", "Reviews", "Kill switch") are the names people, screen readers and tests use.
 */

export function signInWithTokenBody(csrf: string, returnTo: string, error?: string): Html {
  return html`<section class="panel">
${error && html`<p class="flash bad" role="alert">${error}</p>`}
<form method="post" action="sign-in">
${csrfField(csrf)}
<input type="hidden" name="returnTo" value="${returnTo}">
<div class="field"><label for="token">Token</label>
<input type="password" id="token" name="token" autocomplete="off" required size="60" aria-describedby="token-hint">
<p class="hint" id="token-hint">Your own token, from <code>agent-ledger tokens create --workflows … --label &lt;your name&gt; --roles reviewer</code>.
<code>npm start</code> prints a sign-in link with the dev token.</p></div>
<button type="submit">Sign in</button>
</form>
</section>`;
}

export function signInWithProviderBody(message: string | undefined): Html {
  return html`<section class="panel">
${message && html`<p class="flash" role="status">${message}</p>`}
<p><a href="sign-in?start=1">Sign in</a> with your organization's account.</p>
</section>`;
}

/** The Overview's "Unit ID" field: opens that unit's page. */
export function unitLookupForm(workflowIds: readonly string[]): Html {
  if (workflowIds.length === 0) return html``;
  return html`<section class="panel"><form method="get" action="units" class="inline">
<div><label for="lookup-workflow">Workflow</label>
<select id="lookup-workflow" name="workflowId">${workflowIds.map((id) => html`<option value="${id}">${id}</option>`)}</select></div>
<div><label for="lookup-unit">Unit ID</label><input type="text" id="lookup-unit" name="unitId" required maxlength="256"></div>
<button type="submit">Open unit</button>
</form></section>`;
}

export interface ReviewCoverage {
  readonly workflowId: string;
  readonly completedThisWeek: number;
  readonly reviewedThisWeek: number;
  readonly sampleRate: number;
  /** Actions this week calling a tool the boundary neither allows nor forbids (`unlisted-tool`). */
  readonly unlistedToolActions?: number;
}

export interface ReviewsView {
  readonly week: string;
  readonly workflowIds: readonly string[];
  readonly filter: { readonly workflowId?: string; readonly lane?: Lane };
  /** Pending, oldest completion first. */
  readonly pending: readonly ReviewItem[];
  /** More are pending than the page lists. */
  readonly more: boolean;
  readonly coverage: readonly ReviewCoverage[];
}

export function reviewsBody(view: ReviewsView, person: Person): Html {
  const selected = (value: string | undefined, option: string | undefined) =>
    value === option ? html` selected` : '';
  return html`<section class="panel">
<form method="get" action="reviews" class="inline" aria-label="Filter the queue">
<div><label for="filter-workflow">Workflow</label>
<select id="filter-workflow" name="workflowId"><option value=""${selected(view.filter.workflowId, undefined)}>All my workflows</option>
${view.workflowIds.map((id) => html`<option value="${id}"${selected(view.filter.workflowId, id)}>${id}</option>`)}</select></div>
<div><label for="filter-lane">Lane</label>
<select id="filter-lane" name="lane"><option value=""${selected(view.filter.lane, undefined)}>Any lane</option>
${LANES.map((lane) => html`<option value="${lane}"${selected(view.filter.lane, lane)}>${lane}${lane === 'shadow' ? ' (onboarding)' : ''}</option>`)}</select></div>
<button type="submit" class="secondary">Filter</button>
</form>
</section>
<section class="panel" aria-labelledby="coverage-heading">
<h2 id="coverage-heading">Reviewed this week (${view.week})</h2>
<table class="list"><thead><tr><th scope="col">Workflow</th><th scope="col">Reviewed</th><th scope="col">Completed</th><th scope="col">Share</th><th scope="col">Target</th><th scope="col">Unlisted-tool actions</th></tr></thead>
<tbody>${view.coverage.map(
    (row) => html`<tr data-coverage="${row.workflowId}"><th scope="row">${row.workflowId}</th>
<td>${formatCount(row.reviewedThisWeek)}</td><td>${formatCount(row.completedThisWeek)}</td>
<td>${row.completedThisWeek > 0 ? formatRate(row.reviewedThisWeek / row.completedThisWeek) : NO_VALUE}</td>
<td>${formatRate(row.sampleRate)} (within 5–10%)</td>
<td data-unlisted-tools="${row.workflowId}">${row.unlistedToolActions === undefined ? NO_VALUE : formatCount(row.unlistedToolActions)}</td></tr>`,
  )}</tbody></table>
</section>
<section class="panel" aria-labelledby="queue-heading">
<h2 id="queue-heading">Waiting for review</h2>
${
  view.pending.length === 0
    ? html`<p class="empty" data-testid="queue-empty">Nothing is waiting for review here.</p>`
    : html`<table class="list" data-testid="review-queue"><thead><tr><th scope="col">Unit</th><th scope="col">Workflow</th><th scope="col">Lane</th><th scope="col">Completed</th><th scope="col">Your role</th></tr></thead>
<tbody>${view.pending.map(
        (
          item,
        ) => html`<tr><td><a href="${consoleHref('units', item.workflowId, item.unitId)}">${item.unitId}</a></td>
<td>${item.workflowId}</td><td>${item.lane ?? NO_VALUE}</td><td>${formatInstant(item.completedAt)}</td>
<td>${mayReview(person, item.workflowId) ? 'reviewer' : 'viewer (read only)'}</td></tr>`,
      )}</tbody></table>${view.more ? html`<p class="details">Oldest first; more are waiting than shown.</p>` : ''}`
}
</section>`;
}

export interface UnitView {
  readonly workflowId: string;
  readonly unitId: string;
  /** Its events in time order, as stored (people's IDs pseudonymized). */
  readonly events: readonly {
    readonly event: LedgerEvent;
    readonly receivedAt: string;
    /** The tools of this action its workflow's boundary does not list (recorded at ingest). */
    readonly unlistedTools?: readonly string[];
  }[];
  /** More events than the page shows. */
  readonly truncated: boolean;
  /** The index held none of them: they were read from the archive (older than the hot window). */
  readonly fromArchive: boolean;
  /** The index's hot window in days, to say so. */
  readonly hotIndexDays: number;
  readonly queue: ReviewItem | undefined;
  /** The pseudonym the signed-in reviewer's verdicts are stored under, to mark their own. */
  readonly ownReviewerId: string;
}

export interface VerdictForm {
  readonly csrf: string;
  /** The verdict's event ID: the same on a second submit of this form, so it is stored once. */
  readonly verdictId: string;
  /** Epoch ms the page was rendered: Minutes defaults to the time since. */
  readonly openedAt: number;
  readonly error?: string;
}

export function unitBody(view: UnitView, person: Person, form: VerdictForm): Html {
  const verdicts = view.events.filter(({ event }) => event.type === 'review.verdict');
  const status = view.queue
    ? view.queue.status === 'pending'
      ? html`<p class="flash" role="status">In the review sample, waiting for a verdict (lane ${view.queue.lane ?? 'not recorded'}).</p>`
      : html`<p class="details">In the review sample; reviewed ${formatInstant(view.queue.reviewedAt ?? null)}.</p>`
    : html`<p class="details">Not in the review sample.</p>`;
  return html`<p class="sub">Workflow <strong>${view.workflowId}</strong> · your roles: ${rolesOn(person, view.workflowId).join(', ')}</p>
${status}
<section aria-labelledby="events-heading">
<h2 id="events-heading">Events, in time order</h2>
${
  view.events.length === 0
    ? html`<p class="empty">The ledger holds no events of this unit: neither the index (${view.hotIndexDays} days after an event arrived) nor the archive (the workflow's retention).</p>`
    : view.fromArchive
      ? html`<p class="details" data-testid="from-archive">Read from the archive: the index keeps an event ${view.hotIndexDays} days after it arrived, and this unit's events are older.</p>`
      : ''
}
${view.events.map(({ event, receivedAt, unlistedTools }, i) =>
  renderEvent(event, receivedAt, i + 1, view.ownReviewerId, unlistedTools),
)}
${view.truncated ? html`<p class="details">Only the first ${view.events.length} events are shown.</p>` : ''}
</section>
<section class="panel" aria-labelledby="verdicts-heading">
<h2 id="verdicts-heading">Verdicts</h2>
${verdicts.length === 0 ? html`<p class="empty">No verdict yet.</p>` : html`<p>${formatCount(verdicts.length)} verdict${verdicts.length === 1 ? '' : 's'}, listed with the events above.</p>`}
</section>
${mayReview(person, view.workflowId) ? verdictForm(view, form) : html`<p class="details">You may read this unit; judging it needs the reviewer role on ${view.workflowId}.</p>`}`;
}

function verdictForm(view: UnitView, form: VerdictForm): Html {
  return html`<section class="panel" aria-labelledby="verdict-heading">
<h2 id="verdict-heading">Your verdict</h2>
${form.error && html`<p class="flash bad" role="alert" id="verdict-error">${form.error}</p>`}
<form method="post" action="${consoleHref('units', view.workflowId, view.unitId)}">
${csrfField(form.csrf)}
<input type="hidden" name="verdictId" value="${form.verdictId}">
<input type="hidden" name="openedAt" value="${String(form.openedAt)}">
<fieldset><legend>Verdict</legend>
<label class="choice"><input type="radio" name="verdict" value="pass" required> Pass</label>
<label class="choice"><input type="radio" name="verdict" value="defect"> Defect</label>
</fieldset>
<div class="field"><label for="category">Category</label>
<input type="text" id="category" name="category" maxlength="100" aria-describedby="category-hint">
<p class="hint" id="category-hint">For a defect: what kind (e.g. wrong-answer, policy, tone).</p></div>
<div class="field"><label class="choice"><input type="checkbox" id="escaped" name="escaped" value="true"> Escaped</label>
<p class="hint">For a defect that reached a customer.</p></div>
<div class="field"><label for="minutes">Minutes</label>
<input type="number" id="minutes" name="minutes" min="0" max="600" step="any" data-opened-at="${String(form.openedAt)}" aria-describedby="minutes-hint">
<p class="hint" id="minutes-hint">The time you spent; left empty, the time this page has been open.</p></div>
<button type="submit">Submit verdict</button>
</form>
</section>`;
}

function renderEvent(
  event: LedgerEvent,
  receivedAt: string,
  n: number,
  ownReviewerId: string,
  unlistedTools: readonly string[] = [],
): Html {
  const facts: [string, Html | string][] = [
    ['occurred', formatInstant(event.occurredAt)],
    ['received', formatInstant(receivedAt)],
    ['event ID', event.eventId],
  ];
  let extra: Html | string = '';
  if (event.type === 'action') {
    if (event.agent)
      facts.push(['agent', `${event.agent.id}${event.agent.version ? ` v${event.agent.version}` : ''}`]);
    if (event.lane) facts.push(['lane', event.lane]);
    if (event.prompt)
      facts.push([
        'prompt version',
        `${event.prompt.templateId ?? 'template not named'}${event.prompt.templateVersion !== undefined ? ` v${event.prompt.templateVersion}` : ''}`,
      ]);
    if (event.model)
      facts.push([
        'model',
        [event.model.provider, event.model.name, event.model.version]
          .filter((part) => part !== undefined)
          .join(' / '),
      ]);
    if (event.flag)
      facts.push(['flag version', `${event.flag.version} (checked ${formatInstant(event.flag.checkedAt)})`]);
    if (event.approval)
      facts.push([
        'approver',
        `${event.approval.decision} by ${event.approval.approverId} at ${formatInstant(event.approval.decidedAt)}`,
      ]);
    if (event.output?.confidence !== undefined)
      facts.push(['confidence', formatRate(event.output.confidence)]);
    if (event.output?.ref) facts.push(['output ref', event.output.ref]);
    extra = html`${
      event.retrieval && event.retrieval.length > 0
        ? html`<h4>Retrieval sources</h4><ul>${event.retrieval.map(
            (source) =>
              html`<li>${source.kind}: ${source.id}${source.uri ? html` — ${source.uri}` : ''}</li>`,
          )}</ul>`
        : ''
    }${
      event.toolCalls && event.toolCalls.length > 0
        ? html`<h4>Tool calls</h4><ul>${event.toolCalls.map(
            (call) =>
              html`<li><strong>${call.name}</strong>${
                unlistedTools.includes(call.name)
                  ? html` <span class="unlisted" data-unlisted-tool="${call.name}">not in the boundary: unlisted-tool</span>`
                  : ''
              } → ${call.outcome ?? 'outcome not recorded'}${
                call.errorCode ? ` (${call.errorCode})` : ''
              }${call.parameters !== undefined ? html`<pre class="output">${JSON.stringify(call.parameters, null, 2)}</pre>` : ''}</li>`,
          )}</ul>`
        : ''
    }${event.output?.text !== undefined ? html`<h4>Output</h4><pre class="output" data-testid="output-text">${event.output.text}</pre>` : ''}`;
  } else if (event.type === 'review.verdict') {
    facts.push(['verdict', event.verdict]);
    facts.push(['reviewer', event.reviewerId === ownReviewerId ? 'you' : event.reviewerId]);
    facts.push(['minutes', String(event.reviewMinutes)]);
    if (event.category) facts.push(['category', event.category]);
    if (event.escaped !== undefined) facts.push(['escaped', event.escaped ? 'yes' : 'no']);
  } else if (event.type === 'unit.escalated') {
    facts.push(['reason', event.reason]);
  } else if (event.type === 'unit.completed') {
    if (event.outcome) facts.push(['outcome', event.outcome]);
  } else if (event.type === 'rollback') {
    facts.push(['reason', event.reason], ['initiated by', event.initiatedBy]);
  }
  return html`<article class="event" data-event-type="${event.type}">
<h3>${n}. ${event.type}</h3>
<dl class="facts">${facts.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>
${extra}
</article>`;
}

export interface KillSwitchRow {
  readonly workflowId: string;
  readonly autonomy: AutonomyState | { readonly error: string };
  readonly lastDrill: DrillRecord | undefined;
}

export interface FlipRecord {
  readonly workflowId: string;
  readonly occurredAt: string;
  readonly to: string;
  readonly reason: string;
  readonly initiatedBy: string;
  readonly master: boolean;
}

export interface KillSwitchView {
  readonly rows: readonly KillSwitchRow[];
  readonly master: { readonly enabled: boolean | null; readonly error?: string };
  /** Who may flip each workflow: operators of it, as the sign-in names them. */
  readonly whoMayFlip: (workflowId: string) => string;
  readonly history: readonly FlipRecord[];
}

export function killSwitchBody(view: KillSwitchView, person: Person, csrf: string): Html {
  return html`<section class="panel" aria-labelledby="lanes-heading">
<h2 id="lanes-heading">Autonomous lanes</h2>
<table class="list" data-testid="kill-switch-table"><thead><tr><th scope="col">Workflow</th><th scope="col">Lane</th><th scope="col">Why, since when</th><th scope="col">Who may flip</th><th scope="col">Last drill</th>${
    view.rows.some((row) => mayOperate(person, row.workflowId)) ? html`<th scope="col">Flip</th>` : ''
  }</tr></thead>
<tbody>${view.rows.map((row) => killSwitchRow(row, view, person, csrf))}</tbody></table>
</section>
<section class="panel" aria-labelledby="master-heading">
<h2 id="master-heading">Master switch</h2>
<p data-testid="master-state">${
    view.master.error
      ? html`<span class="flash bad">Unknown: ${view.master.error}</span>`
      : view.master.enabled
        ? 'On: each workflow follows its own flag.'
        : 'Off: every autonomous lane is stopped.'
  }</p>
${mayOperate(person, MASTER_FLAG) ? flipForm(MASTER_FLAG, 'every workflow', csrf) : html`<p class="details">Flipping it takes the operator role on every workflow.</p>`}
</section>
<section class="panel" aria-labelledby="history-heading">
<h2 id="history-heading">Flip history</h2>
${
  view.history.length === 0
    ? html`<p class="empty">No flips recorded yet.</p>`
    : html`<table class="list"><thead><tr><th scope="col">When</th><th scope="col">Flag</th><th scope="col">To</th><th scope="col">By</th><th scope="col">Reason</th></tr></thead>
<tbody>${view.history.map(
        (
          flip,
        ) => html`<tr><td>${formatInstant(flip.occurredAt)}</td><td>${flip.master ? 'master' : flip.workflowId}</td>
<td>${flip.to}</td><td>${flip.initiatedBy}</td><td>${flip.reason}</td></tr>`,
      )}</tbody></table>`
}
</section>`;
}

function killSwitchRow(row: KillSwitchRow, view: KillSwitchView, person: Person, csrf: string): Html {
  const state = row.autonomy;
  const lane =
    'error' in state
      ? html`<span class="flash bad">unknown (agents fail closed)</span>`
      : state.autonomousAllowed
        ? 'autonomous allowed'
        : html`<strong>off</strong>: agents use ${state.lane}`;
  const why =
    'error' in state
      ? state.error
      : state.reason
        ? `${state.reason}${state.changedAt ? ` (since ${formatInstant(state.changedAt)})` : ''}`
        : state.changedAt
          ? `since ${formatInstant(state.changedAt)}`
          : NO_VALUE;
  const drill = row.lastDrill
    ? `${row.lastDrill.outcome} ${formatInstant(row.lastDrill.startedAt)}: off in ${row.lastDrill.offEffectMs} ms, on in ${row.lastDrill.onEffectMs} ms${row.lastDrill.detail ? ` (${row.lastDrill.detail})` : ''}`
    : 'never';
  return html`<tr data-workflow="${row.workflowId}"><th scope="row">${row.workflowId}</th>
<td data-testid="lane">${lane}</td><td>${why}</td><td>${view.whoMayFlip(row.workflowId)}</td><td data-testid="last-drill">${drill}</td>
${
  mayOperate(person, row.workflowId)
    ? html`<td>${flipForm(row.workflowId, row.workflowId, csrf)}
<form method="post" action="${consoleHref('kill-switch', row.workflowId, 'drill')}">${csrfField(csrf)}<button type="submit" class="secondary" aria-label="Run drill on ${row.workflowId}">Run drill</button></form></td>`
    : ''
}</tr>`;
}

function flipForm(flag: string, subject: string, csrf: string): Html {
  const id = `reason-${flag}`;
  return html`<form method="post" action="${consoleHref('kill-switch', flag)}" class="inline" aria-label="Flip ${subject}">
${csrfField(csrf)}
<div><label for="${id}">Reason</label><input type="text" id="${id}" name="reason" required maxlength="500"></div>
<button type="submit" name="enabled" value="false" class="danger">Turn off</button>
<button type="submit" name="enabled" value="true" class="secondary">Turn on</button>
</form>`;
}

export function messageBody(message: string, links: readonly { href: string; text: string }[] = []): Html {
  return html`<section class="panel"><p>${message}</p>${
    links.length > 0
      ? html`<p>${links.map((link, i) => html`${i > 0 ? ' · ' : ''}<a href="${link.href}">${link.text}</a>`)}</p>`
      : ''
  }</section>`;
}
