import { describe, expect, it } from 'vitest';
import { DRIFT_JOB_IDENTITY } from '#lib/drift/job.ts';
import { UnknownIncidentError } from '#lib/errors.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { deriveIncidents, impactSummary, incidentIdOf, incidentImpact } from '#lib/incidents/incidents.ts';
import {
  InvalidPostmortemError,
  parsePostmortemMarkdown,
  postmortemFromForm,
} from '#lib/incidents/postmortem.ts';
import { findIncident, incidentsWithPostmortems, writePostmortem } from '#lib/incidents/service.ts';
import { type Flip, rollbackEventsFor } from '#lib/kill-switch/flips.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import { drillFlipReason } from '#lib/kill-switch/run-drill.ts';
import type { StoredEvent } from '#lib/ports.ts';
import {
  incidentPostmortems,
  renderIncidentPostmortems,
} from '#lib/reports/autonomy-risk-review/incidents.ts';
import { InMemoryEventIndex, InMemoryPostmortemStore } from '../support/in-memory-stores.ts';

const WORKFLOWS = ['code-review', 'support-triage'];
const DRIFT_REASON = 'drift: defect rate 12.0% (6/50) vs 8.0% (4/50), +50.0% (limit +25%)';

function stored(event: LedgerEvent): StoredEvent {
  return {
    event,
    occurredAtMs: Date.parse(event.occurredAt),
    receivedAt: event.occurredAt,
    contentHash: `hash-${event.eventId}`,
    expiresAt: 4_000_000_000,
    archiveKey: 'archive/key',
  };
}

/** The rollback events the flip recorder writes for one deployment's flip. */
function flipped(
  deploymentNumber: number,
  at: string,
  flag: string,
  enabled: boolean,
  reason: string,
  by: string,
) {
  const flip: Flip = { flag, from: !enabled, to: enabled, value: { enabled, reason, changedBy: by } };
  return rollbackEventsFor([flip], {
    workflowIds: WORKFLOWS,
    environment: 'local',
    deploymentNumber,
    at,
    configurationVersion: String(deploymentNumber),
  }).map(stored);
}

const history = () => [
  // A drill: off and back on within seconds; no incident.
  ...flipped(
    2,
    '2026-05-11T08:00:00Z',
    'support-triage',
    false,
    drillFlipReason('drill-20260511T080000-a1b2'),
    'ops',
  ),
  ...flipped(
    3,
    '2026-05-11T08:00:02Z',
    'support-triage',
    true,
    drillFlipReason('drill-20260511T080000-a1b2'),
    'ops',
  ),
  // A drift pause, turned back on by a person two hours later.
  ...flipped(4, '2026-05-12T06:00:00Z', 'support-triage', false, DRIFT_REASON, DRIFT_JOB_IDENTITY),
  ...flipped(5, '2026-05-12T08:00:00Z', 'support-triage', true, 'prompt rolled back', 'ana'),
  // An operator's pause of every lane, still off.
  ...flipped(6, '2026-05-14T10:00:00Z', MASTER_FLAG, false, 'vendor outage', 'bo'),
];

describe('deriving incidents from the ledger', () => {
  it('opens one per lane switched off other than by a drill, with its cause, and closes it when turned on', () => {
    // Act
    const incidents = deriveIncidents(history());

    // Assess
    expect(
      incidents.map((i) => [i.workflowIds, i.scope, i.openedAt, i.openedBy, i.cause, i.reason, i.closedAt]),
    ).toEqual([
      [
        ['support-triage'],
        'workflow',
        '2026-05-12T06:00:00Z',
        DRIFT_JOB_IDENTITY,
        'drift',
        DRIFT_REASON,
        '2026-05-12T08:00:00Z',
      ],
      [WORKFLOWS, 'all-workflows', '2026-05-14T10:00:00Z', 'bo', 'operator', 'vendor outage', null],
    ]);
  });

  it('never opens one for a drill, even a drill that left the lane off', () => {
    const drillOnly = flipped(
      2,
      '2026-05-11T08:00:00Z',
      'code-review',
      false,
      drillFlipReason('drill-x'),
      'ops',
    );
    expect(deriveIncidents(drillOnly)).toEqual([]);
  });

  it('derives a stable, URL-safe ID from the opening rollback event', () => {
    const [first] = deriveIncidents(history());
    const [again] = deriveIncidents([...history()].reverse());
    expect(first?.incidentId).toBe('inc-kill-switch-local-4-support-triage');
    expect(first?.incidentId).toBe(incidentIdOf('kill-switch:local:4:support-triage'));
    expect(again?.incidentId).toBe(first?.incidentId);
    expect(first?.incidentId).toMatch(/^[A-Za-z0-9._-]+$/);
  });
});

describe('what the ledger says about an incident', () => {
  it('counts the units and escaped defects while the lane was off, and the events around the flip', async () => {
    // Prepare
    const index = new InMemoryEventIndex();
    index.add(...history());
    const event = (eventId: string, unitId: string, occurredAt: string, escaped?: boolean): LedgerEvent =>
      escaped === undefined
        ? { type: 'unit.started', eventId, workflowId: 'support-triage', unitId, occurredAt }
        : {
            type: 'review.verdict',
            eventId,
            workflowId: 'support-triage',
            unitId,
            occurredAt,
            reviewerId: 'r1',
            verdict: 'defect',
            reviewMinutes: 3,
            escaped,
          };
    index.add(
      stored(event('before', 'u-0', '2026-05-12T05:30:00Z')), // around, not while off
      stored(event('long-before', 'u-9', '2026-05-12T04:00:00Z')), // neither
      stored(event('e1', 'u-1', '2026-05-12T06:05:00Z')), // around and while off
      stored(event('e2', 'u-2', '2026-05-12T07:00:00Z', true)),
      stored(event('e3', 'u-3', '2026-05-12T07:10:00Z', false)),
      stored(event('after', 'u-4', '2026-05-12T09:00:00Z')), // after it closed
    );
    const [drift] = deriveIncidents(history());

    // Act
    const impact = await incidentImpact(
      drift as NonNullable<typeof drift>,
      index,
      Date.parse('2026-05-20T00:00:00Z'),
    );

    // Assess
    expect(impact).toEqual([{ workflowId: 'support-triage', units: 3, escapedDefects: 1, eventsAround: 2 }]);
    expect(impactSummary(impact)).toContain('3 unit(s) touched while the lane was off, 1 escaped defect(s)');
  });
});

const GOOD_MARKDOWN = `# Postmortem: support-triage drift pause

## What happened
The new prompt (v8) misread refund requests.
Defect rate rose from 8% to 12%.

## Impact
41 units while off; 1 escaped defect.

## The fix
Prompt rolled back to v7.

## Follow-up actions
- Add refund cases to the eval set — ana
- Alert on refund-category defects -- bo
`;

describe('the postmortem Markdown', () => {
  it('reads the four sections and the follow-up actions with their owners', () => {
    expect(parsePostmortemMarkdown(GOOD_MARKDOWN)).toEqual({
      whatHappened: 'The new prompt (v8) misread refund requests.\nDefect rate rose from 8% to 12%.',
      impact: '41 units while off; 1 escaped defect.',
      fix: 'Prompt rolled back to v7.',
      followUps: [
        { action: 'Add refund cases to the eval set', owner: 'ana' },
        { action: 'Alert on refund-category defects', owner: 'bo' },
      ],
    });
  });

  it.each(['What happened', 'Impact', 'The fix', 'Follow-up actions'])(
    'names the missing section "## %s"',
    (heading) => {
      const without = GOOD_MARKDOWN.replace(new RegExp(`## ${heading}\\n[\\s\\S]*?(?=\\n## |$)`), '');
      expect(() => parsePostmortemMarkdown(without)).toThrow(
        new InvalidPostmortemError(`the section "## ${heading}" is missing`),
      );
    },
  );

  it('names a follow-up line without an owner, by its line number', () => {
    const bad = `${GOOD_MARKDOWN}- Rewrite the runbook\n`;
    expect(() => parsePostmortemMarkdown(bad)).toThrow(
      'line 16: "- Rewrite the runbook" is not a follow-up action; write "- <action> — <owner>"',
    );
  });

  it('refuses an empty section, an unknown or repeated heading, and text before the first section', () => {
    expect(() => parsePostmortemMarkdown(GOOD_MARKDOWN.replace('Prompt rolled back to v7.', ''))).toThrow(
      '"The fix" is empty: write it',
    );
    expect(() => parsePostmortemMarkdown(`${GOOD_MARKDOWN}\n## Root cause\nBob\n`)).toThrow(
      'line 17: unknown section "## Root cause"',
    );
    expect(() => parsePostmortemMarkdown(`${GOOD_MARKDOWN}\n## Impact\nmore\n`)).toThrow(
      'line 17: section "## Impact" appears twice',
    );
    expect(() => parsePostmortemMarkdown(`Notes\n${GOOD_MARKDOWN}`)).toThrow(
      'line 1: text before the first section',
    );
    expect(() =>
      parsePostmortemMarkdown(
        GOOD_MARKDOWN.replace(/## Follow-up actions[\s\S]*$/, '## Follow-up actions\n'),
      ),
    ).toThrow('"Follow-up actions" lists none');
  });

  it('reads the console form the same way, naming a bad follow-up line', () => {
    const form = { whatHappened: 'w', impact: 'i', fix: 'f', followUps: 'one — ana\r\n\r\n- two — bo' };
    expect(postmortemFromForm(form).followUps).toEqual([
      { action: 'one', owner: 'ana' },
      { action: 'two', owner: 'bo' },
    ]);
    expect(() => postmortemFromForm({ ...form, followUps: 'one — ana\nno owner' })).toThrow(
      '"Follow-up actions" line 2: "no owner" is not "<action> — <owner>"',
    );
  });
});

describe('writing a postmortem', () => {
  it('stores it against the incident, shows it in the list, and versions a rewrite', async () => {
    // Prepare
    const index = new InMemoryEventIndex();
    index.add(...history());
    const deps = {
      index,
      postmortems: new InMemoryPostmortemStore(),
      clock: () => new Date('2026-05-20T00:00:00Z'),
    };
    const [master, drift] = await incidentsWithPostmortems(WORKFLOWS, deps);
    expect([master?.postmortem, drift?.postmortem]).toEqual([null, null]);
    const incident = await findIncident(drift?.incidentId as string, WORKFLOWS, deps);

    // Act
    await writePostmortem(incident, parsePostmortemMarkdown(GOOD_MARKDOWN), 'ana', deps);
    const second = await writePostmortem(incident, parsePostmortemMarkdown(GOOD_MARKDOWN), 'bo', deps);

    // Assess
    expect(second).toMatchObject({ version: 2, writtenBy: 'bo', writtenAt: '2026-05-20T00:00:00.000Z' });
    const listed = await incidentsWithPostmortems(['support-triage'], deps);
    expect(listed.map((i) => [i.incidentId, i.postmortem?.version ?? null])).toEqual([
      [master?.incidentId, null],
      [drift?.incidentId, 2],
    ]);
    await expect(findIncident('inc-nope', WORKFLOWS, deps)).rejects.toThrow(UnknownIncidentError);
  });
});

describe('the monthly review section', () => {
  it('lists each incident with its postmortem and flags those without one after 7 days, escaped', async () => {
    // Prepare
    const [drift, master] = deriveIncidents(history());
    const postmortems = new InMemoryPostmortemStore();
    const written = await postmortems.putPostmortem(
      drift?.incidentId as string,
      { ...parsePostmortemMarkdown(GOOD_MARKDOWN), fix: 'Rolled <b>back</b>' },
      { writtenBy: 'ana', writtenAt: '2026-05-13T00:00:00Z' },
    );

    // Act
    const early = incidentPostmortems(history(), postmortems.items, Date.parse('2026-05-20T00:00:00Z'));
    const late = incidentPostmortems(history(), postmortems.items, Date.parse('2026-05-21T10:00:01Z'));

    // Assess
    if (early.status !== 'recorded' || late.status !== 'recorded') throw new Error('expected rows');
    expect(early.rows.map((r) => [r.incidentId, r.postmortem?.version ?? null, r.postmortemOverdue])).toEqual(
      [
        [drift?.incidentId, written.version, false],
        [master?.incidentId, null, false],
      ],
    );
    expect(late.rows.map((r) => r.postmortemOverdue)).toEqual([false, true]);
    const html = renderIncidentPostmortems(late, '2026-05').toString();
    expect(html).toContain('Rolled &lt;b&gt;back&lt;/b&gt;');
    expect(html).toContain('Add refund cases to the eval set — ana');
    expect(html).toContain('1 incident(s) still have no postmortem 7 days after opening.');
    expect(incidentPostmortems(history(), undefined, 0)).toEqual({ status: 'not-connected' });
  });
});
