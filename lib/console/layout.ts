import { createHash } from 'node:crypto';
import type { Person } from '#lib/auth/people.ts';
import { type Html, html } from '#lib/presentation/html.ts';
import { htmlDocument } from '#lib/presentation/page.ts';

/**
 * The console's page shell: the navigation, who is signed in with the "Sign out" button, and the
 * document with its policy. Every link and form action in the console is relative, resolved against the
 * `<base>` of the console's root, so the same pages work at `/` locally and under the API stage's path
 * (`/prod/`) in the cloud.
 */

export const CONSOLE_STYLE = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --ok: #1a7f37;
  --ok-bg: #dafbe1; --bad: #b42318; --bad-bg: #ffebe9; --warn: #7d4e00; --warn-bg: #fff8c5; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: #f6f8fa; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 20px; }
main { padding-top: 18px; padding-bottom: 28px; }
header { padding-top: 20px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h1 small { font-size: 14px; font-weight: 500; color: var(--muted); }
h2 { font-size: 20px; margin: 0; }
h3 { font-size: 15px; margin: 18px 0 8px; }
a { color: var(--accent); }
.sub { color: var(--muted); margin: 0 0 16px; }
.workflow, .reports { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px;
  margin: 0 0 20px; }
.head { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: baseline; justify-content: space-between; }
.meta { color: var(--muted); margin: 2px 0 0; }
.autonomy { margin: 12px 0 0; padding: 8px 12px; border-radius: 6px; font-weight: 500; }
.autonomy.allowed { background: var(--ok-bg); color: var(--ok); }
.autonomy.paused { background: var(--bad-bg); color: var(--bad); }
.autonomy.closed { background: var(--warn-bg); color: var(--warn); }
.autonomy .reason { font-weight: 400; color: var(--ink); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(138px, 1fr)); gap: 10px; margin: 14px 0 0; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.tile .label { color: var(--muted); font-size: 13px; }
.tile .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .note { color: var(--muted); font-size: 12px; }
.tile.key { border-color: #8c959f; background: #f6f8fa; }
.warning { margin: 12px 0 0; padding: 8px 12px; border-radius: 6px; background: var(--warn-bg); color: var(--warn); }
.unlisted { padding: 0 6px; border-radius: 6px; background: var(--warn-bg); color: var(--warn); font-size: 0.9em; }
.error { margin: 12px 0 0; padding: 8px 12px; border-radius: 6px; background: var(--bad-bg); color: var(--bad);
  font-family: ui-monospace, monospace; font-size: 13px; }
.empty { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; margin-top: 16px; }
figure { margin: 0; }
figcaption { font-weight: 600; font-size: 14px; margin-bottom: 4px; }
figcaption .legend { font-weight: 400; color: var(--muted); font-size: 12px; }
svg.chart { width: 100%; height: auto; display: block; background: #fff; border: 1px solid var(--line); border-radius: 4px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; margin-top: 8px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { color: var(--muted); font-weight: 500; }
td.current, th.current { background: #eef4ff; }
ul.reports-list { padding-left: 18px; margin: 6px 0; }
ul.reports-list li { margin: 3px 0; }
.details { color: var(--muted); }
footer { color: var(--muted); font-size: 13px; padding-bottom: 28px; }
code { font-family: ui-monospace, monospace; font-size: 13px; }
nav.top { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: center; padding: 10px 20px; background: #fff;
  border-bottom: 1px solid var(--line); }
nav.top .brand { font-weight: 700; margin-right: 8px; }
nav.top a { text-decoration: none; padding: 4px 2px; }
nav.top a[aria-current="page"] { font-weight: 600; border-bottom: 2px solid var(--accent); color: var(--ink); }
nav.top .who { margin-left: auto; color: var(--muted); }
nav.top form { display: inline; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible {
  outline: 3px solid var(--accent); outline-offset: 2px; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px; margin: 0 0 20px; }
.flash { margin: 0 0 16px; padding: 10px 14px; border-radius: 6px; background: var(--ok-bg); color: var(--ok); }
.flash.bad { background: var(--bad-bg); color: var(--bad); }
form.inline { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: end; }
label { display: block; font-weight: 500; font-size: 14px; margin-bottom: 2px; }
.field { margin: 0 0 12px; }
.hint { color: var(--muted); font-size: 13px; margin: 2px 0 0; }
input[type=text], input[type=number], input[type=password], select, textarea { font: inherit; padding: 6px 8px;
  border: 1px solid #8c959f; border-radius: 6px; background: #fff; color: var(--ink); }
textarea { width: 100%; min-height: 4em; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 12px; padding: 8px 12px; }
legend { font-weight: 500; font-size: 14px; }
.choice { display: inline-flex; gap: 6px; align-items: center; margin-right: 16px; font-weight: 400; }
button { font: inherit; font-weight: 600; padding: 6px 14px; border-radius: 6px; border: 1px solid #1f6feb;
  background: #0969da; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); border-color: #8c959f; }
button.danger { background: #b42318; border-color: #b42318; }
table.list { width: 100%; }
table.list th, table.list td { text-align: left; white-space: normal; vertical-align: top; padding: 6px 8px; }
.event { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; margin: 0 0 10px; background: #fff; }
.event h3 { margin: 0 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.prose { white-space: pre-wrap; margin: 0 0 8px; }
pre.output { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; padding: 8px; border-radius: 4px;
  margin: 4px 0 0; font-family: ui-monospace, monospace; font-size: 13px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/** The style sheet is allowed by its hash: the policy has no 'unsafe-inline' for anything. */
const STYLE_HASH = `'sha256-${createHash('sha256').update(CONSOLE_STYLE).digest('base64')}'`;

/**
 * The console's policy: nothing but its own style sheet (by hash), its one script (same origin) and data
 * images; forms post only to the console (and, to end a managed-login session, the sign-in domain).
 */
export function consoleCsp(formTargets: readonly string[] = []): string {
  return [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    "script-src 'self'",
    'img-src data:',
    `form-action 'self'${formTargets.map((target) => ` ${target}`).join('')}`,
    "base-uri 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The pages in the navigation, by the path (relative to the base) each is at. */
export const CONSOLE_PAGES = [
  { key: 'overview', label: 'Overview', href: './' },
  { key: 'reviews', label: 'Reviews', href: 'reviews' },
  { key: 'kill-switch', label: 'Kill switch', href: 'kill-switch' },
  { key: 'reports', label: 'Reports', href: 'reports' },
  { key: 'incidents', label: 'Incidents', href: 'incidents' },
] as const;
export type ConsolePage = (typeof CONSOLE_PAGES)[number]['key'];

export interface PageFrame {
  /** The console's root path, ending in `/` (`/` locally, `/<stage>/` behind API Gateway). */
  readonly base: string;
  readonly csp: string;
  /** Who is signed in, and their session's CSRF token (for the sign-out form); absent on the sign-in page. */
  readonly person?: Person;
  readonly csrf: string;
}

export function consolePage(
  frame: PageFrame,
  page: { title: string; current?: ConsolePage; body: Html; flash?: Flash },
): string {
  const nav = frame.person
    ? html`<nav class="top" aria-label="Console">
<span class="brand">Agent Ledger</span>
${CONSOLE_PAGES.map(
  (entry) =>
    html`<a href="${entry.href}"${entry.key === page.current ? html` aria-current="page"` : ''}>${entry.label}</a>`,
)}
<span class="who">Signed in as <strong data-testid="signed-in-as">${frame.person.name}</strong></span>
<form method="post" action="sign-out">${csrfField(frame.csrf)}<button type="submit" class="secondary">Sign out</button></form>
</nav>`
    : html`<nav class="top" aria-label="Console"><span class="brand">Agent Ledger</span></nav>`;
  const body = html`${nav}
<main>
<h1>${page.title}</h1>
${page.flash && html`<p class="flash${page.flash.bad ? ' bad' : ''}" role="${page.flash.bad ? 'alert' : 'status'}">${page.flash.text}</p>`}
${page.body}
</main>`;
  return htmlDocument({
    title: `${page.title} — Agent Ledger`,
    style: CONSOLE_STYLE,
    body,
    csp: frame.csp,
    base: frame.base,
    script: 'console.js',
  });
}

/** A message at the top of a page: what just happened, or what went wrong. */
export interface Flash {
  readonly text: string;
  readonly bad?: boolean;
}

/** The hidden field every form carries: the session's CSRF token. */
export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}">`;
}

/** A console path (relative to the base) with its segments encoded. */
export function consoleHref(...segments: readonly string[]): string {
  return segments.map((segment) => encodeURIComponent(segment)).join('/');
}
