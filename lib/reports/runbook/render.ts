import { formatMs, NO_VALUE } from '#lib/presentation/format.ts';
import { html } from '#lib/presentation/html.ts';
import { laneBadge, renderBoundary, renderDrills } from '#lib/reports/governance/render.ts';
import { note, reportPage, table } from '#lib/reports/layout.ts';
import type { Runbook } from '#lib/reports/runbook/model.ts';

/** A workflow's kill-switch runbook as self-contained HTML (its model: ./model.ts). */

export function renderRunbook(model: Runbook): string {
  const { killSwitch, commands } = model;
  const lastDrill = model.drills[0];
  const body = html`<section>
<h2>Kill switch ${laneBadge(killSwitch.lane)}</h2>
<p><strong>Now</strong> (as AppConfig served it at ${killSwitch.stateReadAt}): ${killSwitch.lane.summary}.</p>
${table(
  ['Where', ''],
  [
    ['AppConfig application', html`<code>${killSwitch.appConfig.application}</code>`],
    [
      'Environment',
      killSwitch.appConfig.environment
        ? html`<code>${killSwitch.appConfig.environment}</code>`
        : model.stage
          ? `the ${model.stage} stage's`
          : NO_VALUE,
    ],
    ['Feature-flag profile', html`<code>${killSwitch.appConfig.profile}</code>`],
    [
      'Flag of this workflow',
      html`<code>${killSwitch.appConfig.flagKey}</code> (<code>enabled</code> = autonomous lane allowed)`,
    ],
    ['Master flag (every workflow)', html`<code>${killSwitch.appConfig.masterFlagKey}</code>`],
    ['As the registry describes it', killSwitch.location],
  ],
)}
<h3>Who may flip it</h3>
<ul>${killSwitch.flippers.map((flipper) => html`<li>${flipper}</li>`)}</ul>
<h3>How</h3>
<p>Switch the autonomous lane off (agents fall back to HITL: a human approves every action):</p>
<pre>${commands.off}</pre>
<p>Switch it back on, once the cause is fixed (only a person does this, with a reason):</p>
<pre>${commands.on}</pre>
<p>See every lane's state and last drill:</p>
<pre>${commands.status}</pre>
<p>Stop every workflow's autonomous lane at once, and resume them:</p>
<pre>${commands.stopAll}
${commands.resumeAll}</pre>
<p class="muted">Flipping the flag in the AppConfig console or with the AWS CLI works too: every flip, from anywhere, is recorded in the ledger as a <code>rollback</code> event with who and why.</p>
</section>
<section>
<h2>Drills</h2>
<p>Prove the switch works and measure how fast: the drill flips the lane off, waits until <code>/autonomy</code> shows it, flips it back and records both times.</p>
<pre>${commands.drill}</pre>
${
  lastDrill
    ? note(
        `Last drill ${lastDrill.startedAt}: ${lastDrill.outcome}, off in ${formatMs(lastDrill.offEffectMs)}, on again in ${formatMs(lastDrill.onEffectMs)}.`,
        lastDrill.outcome === 'passed' ? 'info' : 'bad',
      )
    : note('This workflow has never been drilled: run a drill before relying on the switch.', 'bad')
}
${renderDrills(model.drills, 'No drills recorded.')}
</section>
<section>
<h2>Autonomy boundary</h2>
${renderBoundary(model.boundary)}
</section>`;
  return reportPage({
    title: `Runbook — ${model.workflowId} kill switch`,
    subtitle: `Unit: ${model.unitOfValue} · owner: ${model.owner} · phase: ${model.rolloutPhase}${model.stage ? ` · stage ${model.stage}` : ''}`,
    generatedAt: model.generatedAt,
    body,
  });
}
