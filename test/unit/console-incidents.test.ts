import { beforeEach, describe, expect, it } from 'vitest';
import { DRIFT_JOB_IDENTITY } from '#lib/drift/job.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { incidentIdOf } from '#lib/incidents/incidents.ts';
import { rollbackEventsFor } from '#lib/kill-switch/flips.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { StoredEvent } from '#lib/ports.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import {
  type ConsoleUnderTest,
  consoleUnderTest as consoleWithoutIncidents,
  signedInPerson,
} from '../support/console-harness.ts';

/**
 * The console's Incidents pages and who may do what on them, driven through the console's test harness
 * (test/support/console-harness.ts), as test/unit/console.test.ts drives the other pages.
 */

const DRIFT_REASON = 'drift: defect rate 12.0% (6/50) vs 8.0% (4/50), +50.0% (limit +25%) <script>x</script>';
const DRIFT_INCIDENT = incidentIdOf('kill-switch:local:4:support-triage');
const MASTER_INCIDENT = incidentIdOf(`kill-switch:local:6:${MASTER_FLAG}`);

function stored(event: LedgerEvent): StoredEvent {
  return {
    event,
    occurredAtMs: Date.parse(event.occurredAt),
    receivedAt: event.occurredAt,
    contentHash: `hash-${event.eventId}`,
    expiresAt: 4_000_000_000,
    archiveKey: 'raw/x',
  };
}

function flipped(
  deploymentNumber: number,
  at: string,
  flag: string,
  enabled: boolean,
  reason: string,
  by: string,
) {
  return rollbackEventsFor(
    [{ flag, from: !enabled, to: enabled, value: { enabled, reason, changedBy: by } }],
    {
      workflowIds: defaultRegistry.ids(),
      environment: 'local',
      deploymentNumber,
      at,
      configurationVersion: String(deploymentNumber),
    },
  ).map(stored);
}

/** The console with the ledger's flips: two drill flips, a drift pause and its end, a master-flag stop. */
function consoleUnderTest() {
  const console = consoleWithoutIncidents();
  console.index.add(
    ...flipped(2, '2026-11-30T08:00:00Z', 'support-triage', false, 'kill-switch drill drill-1', 'ops'),
    ...flipped(3, '2026-11-30T08:00:02Z', 'support-triage', true, 'kill-switch drill drill-1', 'ops'),
    ...flipped(4, '2026-12-01T06:00:00Z', 'support-triage', false, DRIFT_REASON, DRIFT_JOB_IDENTITY),
    ...flipped(5, '2026-12-01T08:00:00Z', 'support-triage', true, 'prompt rolled back', 'ana'),
    ...flipped(6, '2026-12-01T10:00:00Z', MASTER_FLAG, false, 'vendor outage', 'bo'),
    stored({
      type: 'unit.started',
      eventId: 'near',
      workflowId: 'support-triage',
      unitId: 'u-<near>',
      occurredAt: '2026-12-01T05:30:00Z',
    }),
  );
  return console;
}

type Console = ConsoleUnderTest;

/** A person signed in; their CSRF token is read from the Incidents page. */
async function person(console: Console, roles: string, workflows: string, label: string) {
  const { browser } = await signedInPerson(console, roles, workflows, label);
  return { get: browser.get, send: browser.send.bind(browser), csrf: () => browser.csrf('/incidents') };
}

const POSTMORTEM = {
  whatHappened: 'Prompt v8 misread <refund> requests.',
  impact: '3 units; 1 escaped defect.',
  fix: 'Rolled back to v7.',
  followUps: 'Add refund cases to the eval set — ana\nAlert on refund defects — bo',
};

describe('the console: incidents', () => {
  let console: Console;
  beforeEach(() => {
    console = consoleUnderTest();
  });

  it('lists the incidents of the workflows one may view, drills left out, everything escaped', async () => {
    // Prepare
    const viewer = await person(console, 'viewer', 'support-triage', 'viewer-a');

    // Act
    const page = await viewer.get('/incidents');

    // Assess
    expect(page.statusCode).toBe(200);
    expect(page.text).toContain('<a href="incidents" aria-current="page">Incidents</a>');
    expect(page.text).toContain(`href="incidents/${DRIFT_INCIDENT}"`);
    expect(page.text).toContain(`href="incidents/${MASTER_INCIDENT}"`);
    expect(page.text).not.toContain('drill-1');
    expect(page.text).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(page.text).not.toContain('<script>x</script>');
  });

  it('shows a viewer the incident and the events around it, without the form, and refuses their post with 403', async () => {
    // Prepare
    const viewer = await person(console, 'viewer', 'support-triage', 'viewer-a');
    const csrf = await viewer.csrf();

    // Act
    const page = await viewer.get(`/incidents/${DRIFT_INCIDENT}`);
    const post = await viewer.send('POST', `/incidents/${DRIFT_INCIDENT}/postmortem`, {
      csrf,
      ...POSTMORTEM,
    });

    // Assess
    expect(page.statusCode).toBe(200);
    expect(page.text).toContain('Drift pause: drift: defect rate 12.0% (6/50)');
    expect(page.text).toContain('u-&lt;near&gt;');
    expect(page.text).not.toContain('Save postmortem');
    expect(page.text).toContain(
      'Writing the postmortem takes the operator or reviewer role on support-triage.',
    );
    expect(post.statusCode).toBe(403);
    expect(console.postmortems.items.size).toBe(0);
  });

  it('answers 404 for an incident of a workflow one may not view, or none at all', async () => {
    const other = await person(console, 'operator', 'code-review', 'operator-c');
    expect((await other.get(`/incidents/${DRIFT_INCIDENT}`)).statusCode).toBe(404);
    expect((await other.get('/incidents/inc-nope')).statusCode).toBe(404);
    expect((await other.get('/incidents')).text).not.toContain(DRIFT_INCIDENT);
  });

  it('lets a reviewer save a postmortem, under their own name, and rewrite it as a new version', async () => {
    // Prepare
    const reviewer = await person(console, 'reviewer', 'support-triage', 'reviewer-a');
    const csrf = await reviewer.csrf();
    const form = await reviewer.get(`/incidents/${DRIFT_INCIDENT}`);
    expect(form.text).toContain('<label for="whatHappened">What happened</label>');
    expect(form.text).toContain('<label for="followUps">Follow-up actions</label>');
    // The impact is prefilled from the ledger.
    expect(form.text).toContain(
      'support-triage: 0 unit(s) touched while the lane was off, 0 escaped defect(s)',
    );

    // Act
    const saved = await reviewer.send('POST', `/incidents/${DRIFT_INCIDENT}/postmortem`, {
      csrf,
      ...POSTMORTEM,
    });
    const again = await reviewer.send('POST', `/incidents/${DRIFT_INCIDENT}/postmortem`, {
      csrf,
      ...POSTMORTEM,
      fix: 'Rolled back to v7; v8 fixed.',
    });

    // Assess
    expect(saved.statusCode).toBe(303);
    expect(saved.headers?.location).toBe(
      `/incidents/${DRIFT_INCIDENT}?done=Postmortem%20saved%20(version%201).`,
    );
    expect(again.statusCode).toBe(303);
    expect(console.postmortems.items.get(DRIFT_INCIDENT)).toMatchObject({
      version: 2,
      writtenBy: 'reviewer-a',
      fix: 'Rolled back to v7; v8 fixed.',
      followUps: [
        { action: 'Add refund cases to the eval set', owner: 'ana' },
        { action: 'Alert on refund defects', owner: 'bo' },
      ],
    });
    const shown = await reviewer.get(`/incidents/${DRIFT_INCIDENT}?done=Saved`);
    expect(shown.text).toContain('Version 2, written by reviewer-a');
    expect(shown.text).toContain('Prompt v8 misread &lt;refund&gt; requests.');
    expect((await reviewer.get('/incidents')).text).toContain('written (v2)');
  });

  it('shows a bad follow-up line or an empty section in the page with a 400, keeping what was typed', async () => {
    // Prepare
    const operator = await person(console, 'operator', 'support-triage', 'operator-a');
    const csrf = await operator.csrf();

    // Act
    const badLine = await operator.send('POST', `/incidents/${DRIFT_INCIDENT}/postmortem`, {
      csrf,
      ...POSTMORTEM,
      followUps: 'Add refund cases — ana\nno owner here',
    });
    const empty = await operator.send('POST', `/incidents/${DRIFT_INCIDENT}/postmortem`, {
      csrf,
      ...POSTMORTEM,
      fix: ' ',
    });

    // Assess
    expect(badLine.statusCode).toBe(400);
    expect(badLine.text).toContain('role="alert"');
    expect(badLine.text).toContain('&quot;Follow-up actions&quot; line 2: &quot;no owner here&quot; is not');
    expect(badLine.text).toContain('Prompt v8 misread &lt;refund&gt; requests.</textarea>');
    expect(empty.statusCode).toBe(400);
    expect(empty.text).toContain('&quot;The fix&quot; is empty');
    expect(console.postmortems.items.size).toBe(0);
  });

  it('takes a role on every workflow a master-flag incident stopped, and a CSRF token', async () => {
    // Prepare
    const partial = await person(console, 'operator', 'support-triage', 'operator-a');
    const everywhere = await person(console, 'reviewer', '*', 'reviewer-all');
    const csrf = await partial.csrf();

    // Act
    const refused = await partial.send('POST', `/incidents/${MASTER_INCIDENT}/postmortem`, {
      csrf,
      ...POSTMORTEM,
    });
    const forged = await everywhere.send('POST', `/incidents/${MASTER_INCIDENT}/postmortem`, {
      csrf: 'x',
      ...POSTMORTEM,
    });
    const saved = await everywhere.send('POST', `/incidents/${MASTER_INCIDENT}/postmortem`, {
      csrf: await everywhere.csrf(),
      ...POSTMORTEM,
    });

    // Assess
    expect(refused.statusCode).toBe(403);
    expect(refused.text).toContain('code-review');
    expect(forged.statusCode).toBe(403);
    expect(saved.statusCode).toBe(303);
    expect(console.postmortems.items.get(MASTER_INCIDENT)?.writtenBy).toBe('reviewer-all');
  });
});
