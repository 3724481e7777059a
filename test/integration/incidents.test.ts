import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isoWeekOf, shiftWeek, weekBounds } from '#lib/kpi/weeks.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_REPORTS_BUCKET } from '#local-stack/settings.ts';
import { apiClient } from '../support/api.ts';
import { cliOn, cliResultOn } from '../support/cli.ts';
import { reviewedUnit, TEST_PRICES } from '../support/reviewed-unit.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const cli = cliOn(stack.dataDir);
const cliResult = cliResultOn(stack.dataDir);
const s3 = new S3Client({
  region: LOCAL_REGION,
  credentials: LOCAL_CREDENTIALS,
  endpoint: stack.s3,
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

interface ListedIncident {
  incidentId: string;
  workflowIds: string[];
  openedAt: string;
  openedBy: string;
  cause: string;
  reason: string;
  closedAt: string | null;
  postmortem: boolean;
}

const listIncidents = (): ListedIncident[] =>
  cli('incidents', 'list', '--json', '--workflow', 'code-review')
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));

/** The flip recorder runs after each deployment: wait until the ledger holds what `until` looks for. */
async function waitFor<T>(read: () => T, until: (value: T) => boolean): Promise<T> {
  let value = read();
  for (let i = 0; i < 100 && !until(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = read();
  }
  return value;
}

/** Two weeks of code-review, 20 reviewed units each: 5 defects, then 8 (+60%, over the +25% limit). */
function weeks() {
  const week = (monday: string, defects: number) =>
    Array.from({ length: 20 }, (_, n) =>
      reviewedUnit({
        workflowId: 'code-review',
        unitId: `incident-${monday.slice(0, 10)}-${n}`,
        dayMs: Date.parse(monday) + (n % 5) * 86_400_000,
        verdict: n < defects ? 'defect' : 'pass',
      }),
    ).flat();
  return [...week('2026-08-31T00:00:00Z', 5), ...week('2026-09-07T00:00:00Z', 8)];
}

const POSTMORTEM = `# code-review drift pause

## What happened
The review prompt v8 stopped flagging missing tests; the defect rate rose from 25% to 40%.

## Impact
One escaped defect reached a customer while the lane was off.

## The fix
Prompt rolled back to v7; the lane was turned back on after a clean eval run.

## Follow-up actions
- Add missing-test cases to the eval set — ana
- Alert on the defect rate mid-week — platform team
`;

describe('incidents and postmortems', () => {
  let incident: ListedIncident;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    writeFileSync(join(dir, 'prices.json'), JSON.stringify(TEST_PRICES));
    cli('prices', 'import', join(dir, 'prices.json'));
    const events = weeks();
    for (let i = 0; i < events.length; i += 400) {
      expect((await api.postEvents({ events: events.slice(i, i + 400) })).status).toBe(202);
    }
  });

  afterAll(() => {
    cliResult('kill-switch', 'on', 'code-review', '--reason', 'test cleanup');
  });

  it('opens none for a drill, and one for a drift pause, listed without a postmortem', async () => {
    // Prepare: a drill first, while the lane is on (its flips must not open an incident).
    const before = listIncidents().map((row) => row.incidentId);
    expect(cli('drill', 'code-review')).toMatch(/passed/);
    cli('jobs', 'kpi', '--week', '2026-W36');
    cli('jobs', 'kpi', '--week', '2026-W37');

    // Act
    expect(cli('jobs', 'drift', '--week', '2026-W37')).toContain('code-review 2026-W37: paused');
    const listed = await waitFor(listIncidents, (rows) => rows.length > before.length);

    // Assess: exactly one new incident, the drift pause, with its figures.
    const added = listed.filter((row) => !before.includes(row.incidentId));
    expect(added).toHaveLength(1);
    incident = added[0] as ListedIncident;
    expect(incident).toMatchObject({
      workflowIds: ['code-review'],
      openedBy: 'agent-ledger drift job',
      cause: 'drift',
      closedAt: null,
      postmortem: false,
    });
    expect(incident.reason).toContain(
      '40.0% (8 of 20 reviewed) in 2026-W37 vs 25.0% (5 of 20 reviewed) in 2026-W36',
    );
    expect(listed.some((row) => row.reason.startsWith('kill-switch drill'))).toBe(false);
  });

  it('counts an escaped defect while the lane is off in the incident’s impact', async () => {
    // Prepare: a verdict after the pause marking a defect that reached a customer.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const occurredAt = new Date(Date.parse(incident.openedAt) + 500).toISOString();
    const posted = await api.postEvents({
      events: [
        {
          type: 'review.verdict',
          eventId: 'incident-escape-1',
          workflowId: 'code-review',
          unitId: 'incident-escaped-unit',
          occurredAt,
          reviewerId: 'reviewer-a',
          verdict: 'defect',
          reviewMinutes: 4,
          escaped: true,
        },
      ],
    });
    expect(posted.status).toBe(202);

    // Act
    const shown = JSON.parse(cli('incidents', 'show', incident.incidentId, '--json'));

    // Assess
    expect(shown.impact).toEqual([
      expect.objectContaining({ workflowId: 'code-review', units: 1, escapedDefects: 1 }),
    ]);
    expect(shown.postmortem).toBeNull();
  });

  it('refuses a postmortem file missing a section or with a bad follow-up line, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'postmortem-'));
    const missing = join(dir, 'missing.md');
    writeFileSync(missing, POSTMORTEM.replace(/## The fix\n.*\n\n/, ''));
    const badLine = join(dir, 'bad.md');
    writeFileSync(badLine, `${POSTMORTEM}- Rewrite the runbook\n`);

    const refusedMissing = cliResult('incidents', 'postmortem', incident.incidentId, '--file', missing);
    const refusedLine = cliResult('incidents', 'postmortem', incident.incidentId, '--file', badLine);

    expect(refusedMissing.status).toBe(2);
    expect(refusedMissing.stderr).toContain('is not a valid postmortem: the section "## The fix" is missing');
    expect(refusedLine.status).toBe(2);
    expect(refusedLine.stderr).toContain('"- Rewrite the runbook" is not a follow-up action');
    expect(refusedLine.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('stores a postmortem from Markdown, shown by incidents list and show', () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'postmortem-')), 'postmortem.md');
    writeFileSync(file, POSTMORTEM);

    // Act
    const output = cli('incidents', 'postmortem', incident.incidentId, '--file', file, '--as', 'ana');

    // Assess
    expect(output).toContain(`Postmortem v1 of ${incident.incidentId} stored`);
    expect(listIncidents().find((row) => row.incidentId === incident.incidentId)?.postmortem).toBe(true);
    const shown = JSON.parse(cli('incidents', 'show', incident.incidentId, '--json'));
    expect(shown.postmortem).toMatchObject({
      writtenBy: 'ana',
      version: 1,
      fix: 'Prompt rolled back to v7; the lane was turned back on after a clean eval run.',
      followUps: [
        { action: 'Add missing-test cases to the eval set', owner: 'ana' },
        { action: 'Alert on the defect rate mid-week', owner: 'platform team' },
      ],
    });
    // Written again, it replaces the stored one as its next version.
    expect(cli('incidents', 'postmortem', incident.incidentId, '--file', file, '--as', 'bo')).toContain(
      `Postmortem v2 of ${incident.incidentId} stored`,
    );
    expect(JSON.parse(cli('incidents', 'show', incident.incidentId, '--json')).postmortem).toMatchObject({
      writtenBy: 'bo',
      version: 2,
    });
  });

  it('is closed by turning the lane back on', async () => {
    cli('kill-switch', 'on', 'code-review', '--reason', 'prompt v7 restored');
    const closed = await waitFor(
      () => listIncidents().find((row) => row.incidentId === incident.incidentId),
      (row) => row?.closedAt !== null,
    );
    expect(closed?.closedAt).not.toBeNull();
  });

  it('is listed with its postmortem in the monthly Autonomy + Risk Review', async () => {
    // Prepare: a week whose Monday is in the incident's month, so the month's review covers it.
    const openedMs = Date.parse(incident.openedAt);
    const month = incident.openedAt.slice(0, 7);
    let week = isoWeekOf(openedMs);
    if (new Date(weekBounds(week).startMs).toISOString().slice(0, 7) !== month) week = shiftWeek(week, 1);

    // Act
    cli('jobs', 'reports', '--week', week);
    const key = `governance/monthly/${month}/autonomy-risk-review`;
    const read = async (ext: string) =>
      (await (
        await s3.send(new GetObjectCommand({ Bucket: LOCAL_REPORTS_BUCKET, Key: `${key}.${ext}` }))
      ).Body?.transformToString('utf8')) ?? '';
    const model = JSON.parse(await read('json'));
    const html = await read('html');

    // Assess
    expect(model.incidentPostmortems.status).toBe('recorded');
    const row = model.incidentPostmortems.rows.find(
      (r: { incidentId: string }) => r.incidentId === incident.incidentId,
    );
    expect(row).toMatchObject({
      cause: 'drift',
      postmortemOverdue: false,
      postmortem: {
        writtenBy: 'bo',
        version: 2,
        followUps: [
          { action: 'Add missing-test cases to the eval set', owner: 'ana' },
          { action: 'Alert on the defect rate mid-week', owner: 'platform team' },
        ],
      },
    });
    expect(row.closedAt).not.toBeNull();
    expect(html).toContain('<h2>Incidents and postmortems</h2>');
    expect(html).toContain('Add missing-test cases to the eval set — ana');
  });
});
