import { Readable } from 'node:stream';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { basePath, parseVerdictForm } from '#functions/console/make-handler.ts';
import { issueToken } from '#lib/auth/tokens.ts';
import type { ReportsReader } from '#lib/console/overview/reports.ts';
import { eventSchema } from '#lib/events/schema.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import { archiveObjectKey } from '#lib/storage/archive-bucket.ts';
import {
  CONSOLE_HASHER,
  CONSOLE_NOW,
  ConsoleBrowser,
  type ConsoleUnderTest,
  consoleUnderTest,
  signedInPerson,
} from '../support/console-harness.ts';
import { actionEvent } from '../support/events.ts';

class MapReports implements ReportsReader {
  constructor(readonly objects = new Map<string, string>()) {}
  async listKeys(prefix: string, max: number) {
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
    return { keys: keys.slice(0, max), truncated: keys.length > max };
  }
  async open(key: string) {
    const text = this.objects.get(key);
    if (text === undefined) return undefined;
    return { body: Readable.from([Buffer.from(text)]), contentType: undefined, contentLength: text.length };
  }
}

const NOW = CONSOLE_NOW;
const HASHER = CONSOLE_HASHER;
const Browser = ConsoleBrowser;
type Console = ConsoleUnderTest;

/** The console with a reports bucket holding a governance index and two workflows' Parquet. */
function consoleWithReports() {
  const reports = new MapReports(
    new Map([
      ['governance/index.json', '{"reports":[]}'],
      ['cost-per-unit/week=2026-W48/workflow=code-review/cost-per-unit.parquet', 'PAR1'],
      ['cost-per-unit/week=2026-W48/workflow=support-triage/cost-per-unit.parquet', 'PAR1'],
    ]),
  );
  return { ...consoleUnderTest({ reports }), reports };
}

const person = (console: Console, roles: string, workflows?: string, label?: string) =>
  signedInPerson(console, roles, workflows, label);

/** A sampled unit waiting for review, with an action whose output holds markup. */
async function pendingUnit(console: Console, unitId: string, completedAt = '2026-12-01T09:00:00Z') {
  await console.reviews.enqueue({
    workflowId: 'support-triage',
    unitId,
    completedAt,
    sampledAt: completedAt,
    lane: 'hitl',
  });
  await console.index.putIfAbsent([
    {
      event: {
        workflowId: 'support-triage',
        unitId,
        eventId: `${unitId}-a`,
        type: 'action',
        occurredAt: '2026-12-01T08:30:00Z',
        lane: 'hitl',
        prompt: { templateId: 'triage', templateVersion: 7 },
        model: { provider: 'openai', name: 'gpt-test' },
        toolCalls: [{ name: 'crm.lookup', parameters: { id: '<i>42</i>' }, outcome: 'success' }],
        output: { text: 'Reply: <b>refund</b><script>alert(1)</script>', confidence: 0.82 },
      },
      occurredAtMs: Date.parse('2026-12-01T08:30:00Z'),
      receivedAt: '2026-12-01T08:30:01Z',
      contentHash: 'x',
      expiresAt: 4_000_000_000,
      archiveKey: 'raw/x',
    },
  ]);
}

describe('the console: sign-in', () => {
  let console: Console;
  beforeEach(() => {
    console = consoleUnderTest();
  });

  it('sends a visitor without a session to the sign-in page, and gives them a session for its CSRF token', async () => {
    const browser = new Browser(console);
    const page = await browser.get('/reviews?lane=shadow');
    expect(page.statusCode).toBe(303);
    expect(page.headers?.location).toBe('/sign-in?returnTo=%2Freviews%3Flane%3Dshadow');
    expect(browser.cookie).toMatch(/^agent-ledger-session=/);
    const signIn = await browser.get('/sign-in?returnTo=%2Freviews');
    expect(signIn.text).toContain('<label for="token">Token</label>');
    expect(signIn.text).toContain('<button type="submit">Sign in</button>');
  });

  it('signs a person in with their token, back to where they were going, with a new CSRF token', async () => {
    const { token, record } = issueToken({
      workflows: 'support-triage',
      roles: 'reviewer',
      label: 'reviewer-a',
      now: NOW,
    });
    await console.tokens.putToken(record);
    const browser = new Browser(console);
    await browser.get('/sign-in');
    const before = /name="csrf" value="([^"]+)"/.exec((await browser.get('/sign-in')).text)?.[1] as string;
    const signedIn = await browser.send('POST', '/sign-in', { csrf: before, token, returnTo: '/reviews' });
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers?.location).toBe('/reviews');
    const page = await browser.get('/reviews');
    expect(page.statusCode).toBe(200);
    expect(page.text).toContain('Signed in as <strong data-testid="signed-in-as">reviewer-a</strong>');
    expect(await browser.csrf()).not.toBe(before);
  });

  it("refuses an agent service's token (no roles), an unknown token, and a return path off the console", async () => {
    const agent = issueToken({ workflows: '*', label: 'agent', now: NOW });
    await console.tokens.putToken(agent.record);
    const browser = new Browser(console);
    await browser.get('/sign-in');
    const csrf = /name="csrf" value="([^"]+)"/.exec((await browser.get('/sign-in')).text)?.[1] as string;
    const refused = await browser.send('POST', '/sign-in', { csrf, token: agent.token, returnTo: '/' });
    expect(refused.statusCode).toBe(401);
    expect(refused.text).toContain('agent service');
    const unknown = await browser.send('POST', '/sign-in', {
      csrf,
      token: 'alt_0000000000000000_x',
      returnTo: '/',
    });
    expect(unknown.statusCode).toBe(401);

    const { token, record } = issueToken({ workflows: '*', roles: 'viewer', label: 'v', now: NOW });
    await console.tokens.putToken(record);
    const offsite = await browser.send('POST', '/sign-in', { csrf, token, returnTo: '//evil.example/x' });
    expect(offsite.headers?.location).toBe('/');
  });

  it('signs in from the link npm start prints, and drops the token from the address', async () => {
    const { token, record } = issueToken({
      workflows: '*',
      roles: 'viewer,reviewer,operator',
      label: 'dev',
      now: NOW,
    });
    await console.tokens.putToken(record);
    const browser = new Browser(console);
    const link = await browser.get(`/kill-switch?token=${token}&x=1`);
    expect(link.statusCode).toBe(303);
    expect(link.headers?.location).toBe('/kill-switch?x=1');
    expect((await browser.get('/kill-switch')).statusCode).toBe(200);
  });

  it('signs out, and ends the session of a token revoked since', async () => {
    const { browser, tokenId } = await person(console, 'reviewer');
    const out = await browser.send('POST', '/sign-out', { csrf: await browser.csrf() });
    expect(out.headers?.location).toBe('/sign-in?signedOut=1');
    expect((await browser.get('/reviews')).statusCode).toBe(303);

    const again = await person(console, 'reviewer', 'support-triage', 'reviewer-b');
    expect((await again.browser.get('/reviews')).statusCode).toBe(200);
    await console.tokens.deleteToken(again.tokenId);
    expect((await again.browser.get('/reviews')).headers?.location).toBe('/sign-in?returnTo=%2Freviews');
    expect(tokenId).not.toBe(again.tokenId);
  });

  it('treats a forged or foreign session cookie as none', async () => {
    const browser = new Browser(console);
    browser.cookie = 'agent-ledger-session=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC';
    expect((await browser.get('/')).statusCode).toBe(303);
    const other = await person(consoleUnderTest(), 'viewer');
    browser.cookie = other.browser.cookie;
    expect((await browser.get('/')).statusCode).toBe(303);
  });
});

describe('the console: every page is a policy-bound page of the console', () => {
  it('serves pages with a strict policy (no inline script or style), never cached or framed', async () => {
    const console = consoleUnderTest();
    const { browser } = await person(console, 'viewer,reviewer,operator', '*', 'dev');
    for (const path of ['/', '/reviews', '/kill-switch', '/reports']) {
      const page = await browser.get(path);
      expect(page.statusCode, path).toBe(200);
      const csp = String(page.headers?.['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
      expect(csp).not.toContain('unsafe-inline');
      expect(page.headers?.['cache-control']).toBe('no-store');
      expect(page.headers?.['x-frame-options']).toBe('DENY');
      expect(page.text).toContain('<base href="/">');
      expect(page.text).not.toMatch(/<script(?! src="console.js" defer>)/);
    }
    const script = await browser.get('/console.js');
    expect(script.headers?.['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it("resolves the console's root behind API Gateway's stage path", () => {
    const event = (path: string, full: string) =>
      ({ path, requestContext: { path: full } }) as unknown as APIGatewayProxyEvent;
    expect(basePath(event('/reviews', '/prod/reviews'))).toBe('/prod/');
    expect(basePath(event('/', '/prod/'))).toBe('/prod/');
    expect(basePath(event('/reviews', '/reviews'))).toBe('/');
  });

  it('refuses a form without its CSRF token, or with another session’s, and stores nothing', async () => {
    const console = consoleUnderTest();
    await pendingUnit(console, 'u-1');
    const { browser } = await person(console, 'reviewer');
    const other = await person(console, 'reviewer', 'support-triage', 'reviewer-b');
    const fields = { verdict: 'pass', verdictId: '11111111-1111-4111-8111-111111111111', minutes: '2' };
    expect((await browser.send('POST', '/units/support-triage/u-1', fields)).statusCode).toBe(403);
    const foreign = await browser.send('POST', '/units/support-triage/u-1', {
      ...fields,
      csrf: await other.browser.csrf(),
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.text).toContain('did not come from the console');
    expect(console.index.items.size).toBe(1);
  });
});

describe('the console: reviews and verdicts', () => {
  let console: Console;
  beforeEach(async () => {
    console = consoleUnderTest();
    await pendingUnit(console, 'u-2', '2026-12-01T10:00:00Z');
    await pendingUnit(console, 'u-1', '2026-12-01T09:00:00Z');
    await pendingUnit(console, 'u-3', '2026-12-01T11:00:00Z');
    // First by its ID, last by its completion: the queue is oldest first, never in ID order.
    await pendingUnit(console, 'a-late', '2026-12-01T12:00:00Z');
  });

  it("lists the pending sample of the person's workflows, oldest first, each unit a link named by its ID", async () => {
    const { browser } = await person(console, 'reviewer');
    const page = await browser.get('/reviews');
    const links = [...page.text.matchAll(/<a href="units\/support-triage\/([^"]+)">([^<]+)<\/a>/g)];
    expect(links.map((link) => link[2])).toEqual(['u-1', 'u-2', 'u-3', 'a-late']);
    expect(page.text).toContain('<option value="support-triage">support-triage</option>');
    expect(page.text).not.toContain('<option value="code-review"');
    expect((await browser.get('/reviews?workflowId=code-review')).statusCode).toBe(400);
    expect((await browser.get('/reviews?lane=sideways')).statusCode).toBe(400);
  });

  it('replays a unit with its output as text, never markup', async () => {
    const { browser } = await person(console, 'reviewer');
    const page = await browser.get('/units/support-triage/u-1');
    expect(page.statusCode).toBe(200);
    expect(page.text).toContain('Reply: &lt;b&gt;refund&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<b>refund</b>');
    expect(page.text).toContain('&lt;i&gt;42&lt;/i&gt;');
    expect(page.text).toContain('triage v7');
    for (const label of ['Pass', 'Defect', 'Category', 'Escaped', 'Minutes', 'Submit verdict'])
      expect(page.text).toContain(label);
  });

  it('replays a unit whose events left the index from the archive, and says so', async () => {
    // Prepare: a ticket of 400 days ago, kept by the archive only (the index let it go after 45 days)
    const occurredAt = new Date(NOW.getTime() - 400 * 86_400_000).toISOString();
    const event = eventSchema.parse(
      actionEvent({ unitId: 'T old/1', occurredAt, output: { text: 'Refunded <b>in full</b>' } }),
    );
    const archiveKey = archiveObjectKey({
      retentionMonths: 24,
      workflowId: 'support-triage',
      receivedAt: new Date(occurredAt),
      requestId: 'req-old',
    });
    console.archive.objects.set(archiveKey, [
      {
        event,
        occurredAtMs: Date.parse(occurredAt),
        receivedAt: occurredAt,
        contentHash: 'h-old',
        expiresAt: Math.floor(NOW.getTime() / 1000) + 86_400,
        archiveKey,
      },
    ]);
    const { browser } = await person(console, 'reviewer');

    // Act
    const page = await browser.get('/units/support-triage/T%20old%2F1');

    // Assess
    expect(page.statusCode).toBe(200);
    expect(page.text).toContain('Read from the archive: the index keeps an event 45 days after it arrived');
    expect(page.text).toContain(event.eventId);
    expect(page.text).toContain('Refunded &lt;b&gt;in full&lt;/b&gt;');
  });

  it('says when neither the index nor the archive holds a unit', async () => {
    const { browser } = await person(console, 'reviewer');
    const page = await browser.get('/units/support-triage/never-sent');
    expect(page.statusCode).toBe(200);
    expect(page.text).toContain('The ledger holds no events of this unit: neither the index (45 days');
    expect(page.text).not.toContain('Read from the archive');
  });

  it("stores a verdict as the signed-in reviewer's, once however often it is sent, and moves on to the next unit", async () => {
    const { browser } = await person(console, 'reviewer');
    const csrf = await browser.csrf();
    const fields = {
      csrf,
      verdictId: '22222222-2222-4222-8222-222222222222',
      openedAt: String(NOW.getTime() - 60_000),
      verdict: 'defect',
      category: 'wrong-answer',
      escaped: 'true',
      minutes: '4',
      // A typed reviewer is ignored: who judged is who is signed in.
      reviewerId: 'someone-else',
    };
    const first = await browser.send('POST', '/units/support-triage/u-1', fields);
    expect(first.statusCode).toBe(303);
    expect(first.headers?.location).toMatch(/^\/units\/support-triage\/u-2\?done=/);
    const again = await browser.send('POST', '/units/support-triage/u-1', fields);
    expect(again.statusCode).toBe(303);
    const verdicts = [...console.index.items.values()].filter(
      (stored) => stored.event.type === 'review.verdict',
    );
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]?.event).toMatchObject({
      type: 'review.verdict',
      unitId: 'u-1',
      reviewerId: HASHER.hash('reviewerId', 'reviewer-a'),
      verdict: 'defect',
      reviewMinutes: 4,
      category: 'wrong-answer',
      escaped: true,
    });
    expect(console.reviews.items.get('support-triage#u-1')?.status).toBe('reviewed');
    const queue = await browser.get('/reviews');
    expect(queue.text).not.toContain('>u-1</a>');
    // The reviewer's own verdict reads as theirs on the unit's page.
    expect((await browser.get('/units/support-triage/u-1')).text).toContain('<dt>reviewer</dt><dd>you</dd>');
  });

  it('says what is wrong with a verdict form, in the page, and stores nothing', async () => {
    const { browser } = await person(console, 'reviewer');
    const csrf = await browser.csrf();
    const verdictId = '33333333-3333-4333-8333-333333333333';
    const noChoice = await browser.send('POST', '/units/support-triage/u-1', {
      csrf,
      verdictId,
      minutes: '3',
    });
    expect(noChoice.statusCode).toBe(400);
    expect(noChoice.text).toContain('Choose Pass or Defect.');
    const badMinutes = await browser.send('POST', '/units/support-triage/u-1', {
      csrf,
      verdictId,
      verdict: 'pass',
      minutes: 'abc',
    });
    expect(badMinutes.text).toContain('Minutes must be a number');
    const passWithCategory = await browser.send('POST', '/units/support-triage/u-1', {
      csrf,
      verdictId,
      verdict: 'pass',
      category: 'tone',
      minutes: '1',
    });
    expect(passWithCategory.text).toContain('Category and Escaped are for defects');
    expect(
      [...console.index.items.values()].filter((stored) => stored.event.type === 'review.verdict'),
    ).toHaveLength(0);
  });

  it('takes the time the page was open when Minutes is left empty', () => {
    const form = new URLSearchParams({
      verdict: 'pass',
      verdictId: '44444444-4444-4444-8444-444444444444',
      openedAt: String(NOW.getTime() - 150_000),
      minutes: '',
    });
    expect(parseVerdictForm(form, NOW.getTime())).toMatchObject({ minutes: 2.5, verdict: 'pass' });
  });

  it('lets a viewer read a unit but not judge it, and a reviewer judge only their workflows', async () => {
    const viewer = await person(console, 'viewer', 'support-triage', 'viewer-a');
    const page = await viewer.browser.get('/units/support-triage/u-1');
    expect(page.statusCode).toBe(200);
    expect(page.text).not.toContain('Submit verdict');
    const fields = {
      csrf: await viewer.browser.csrf(),
      verdict: 'pass',
      verdictId: '55555555-5555-4555-8555-555555555555',
      minutes: '1',
    };
    expect((await viewer.browser.send('POST', '/units/support-triage/u-1', fields)).statusCode).toBe(403);

    const other = await person(console, 'reviewer', 'code-review', 'reviewer-c');
    expect((await other.browser.get('/units/support-triage/u-1')).statusCode).toBe(403);
    const theirs = { ...fields, csrf: await other.browser.csrf() };
    expect((await other.browser.send('POST', '/units/support-triage/u-1', theirs)).statusCode).toBe(403);
    expect((await other.browser.get('/units/no-such-workflow/u-1')).statusCode).toBe(404);
  });
});

describe('the console: the kill switch', () => {
  let console: Console;
  beforeEach(() => {
    console = consoleUnderTest();
  });

  it('lets an operator turn a lane off and on, with a reason, recorded as them', async () => {
    const { browser } = await person(console, 'operator', 'support-triage', 'oncall-b');
    const page = await browser.get('/kill-switch');
    expect(page.text).toContain('Turn off');
    expect(page.text).toContain('Run drill');
    const csrf = await browser.csrf();
    const off = await browser.send('POST', '/kill-switch/support-triage', {
      csrf,
      reason: 'incident 7',
      enabled: 'false',
    });
    expect(off.statusCode).toBe(303);
    expect(console.flags.flips.at(-1)).toEqual({
      flag: 'support-triage',
      change: { enabled: false, reason: 'incident 7', changedBy: 'oncall-b' },
    });
    const after = await browser.get(String(off.headers?.location));
    expect(after.text).toContain('The autonomous lane of support-triage is now off');
    const on = await browser.send('POST', '/kill-switch/support-triage', {
      csrf,
      reason: 'fixed',
      enabled: 'true',
    });
    expect(on.statusCode).toBe(303);
    expect(console.flags.values['support-triage']?.enabled).toBe(true);
  });

  it('refuses a flip without a reason (400, nothing flipped), by a reviewer (403), or of the master flag by a one-workflow operator', async () => {
    const operator = await person(console, 'operator', 'support-triage', 'oncall-b');
    const csrf = await operator.browser.csrf();
    const empty = await operator.browser.send('POST', '/kill-switch/support-triage', {
      csrf,
      reason: '  ',
      enabled: 'false',
    });
    expect(empty.statusCode).toBe(400);
    expect(empty.text).toContain('must say why');
    expect(
      (
        await operator.browser.send('POST', `/kill-switch/${MASTER_FLAG}`, {
          csrf,
          reason: 'x',
          enabled: 'false',
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await operator.browser.send('POST', '/kill-switch/code-review', {
          csrf,
          reason: 'x',
          enabled: 'false',
        })
      ).statusCode,
    ).toBe(403);

    const reviewer = await person(console, 'reviewer');
    expect((await reviewer.browser.get('/kill-switch')).text).not.toContain('Turn off');
    const refused = await reviewer.browser.send('POST', '/kill-switch/support-triage', {
      csrf: await reviewer.browser.csrf(),
      reason: 'x',
      enabled: 'false',
    });
    expect(refused.statusCode).toBe(403);
    expect(console.flags.flips).toEqual([]);

    const admin = await person(console, 'operator', '*', 'admin');
    const master = await admin.browser.send('POST', `/kill-switch/${MASTER_FLAG}`, {
      csrf: await admin.browser.csrf(),
      reason: 'stop everything',
      enabled: 'false',
    });
    expect(master.statusCode).toBe(303);
    expect(console.flags.flips).toHaveLength(1);
  });

  it('runs a drill through the same code as the CLI, and shows its result', async () => {
    const { browser } = await person(console, 'operator', 'support-triage', 'oncall-b');
    const drill = await browser.send('POST', '/kill-switch/support-triage/drill', {
      csrf: await browser.csrf(),
    });
    expect(drill.statusCode).toBe(303);
    expect(decodeURIComponent(String(drill.headers?.location))).toMatch(
      /passed: off took effect in \d+ ms, on again in \d+ ms/,
    );
    const [record] = await console.drills.listDrills('support-triage', 1);
    expect(record).toMatchObject({ outcome: 'passed', by: 'oncall-b', target: 'the unit test' });
    expect(console.flags.flips.map(({ change }) => change.enabled)).toEqual([false, true]);
    expect((await browser.get('/kill-switch')).text).toMatch(/passed .*off in \d+ ms/);
  });
});

describe('the console: reports', () => {
  it("serves governance reports to anyone signed in, and a workflow's cost-per-unit report to its people only", async () => {
    const console = consoleWithReports();
    const { browser } = await person(console, 'viewer', 'support-triage', 'viewer-a');
    const index = await browser.get('/reports/governance/index.json');
    expect(index.statusCode).toBe(200);
    expect(index.text).toBe('{"reports":[]}');
    expect(
      (
        await browser.get(
          '/reports/cost-per-unit/week=2026-W48/workflow=support-triage/cost-per-unit.parquet',
        )
      ).statusCode,
    ).toBe(200);
    expect(
      (await browser.get('/reports/cost-per-unit/week=2026-W48/workflow=code-review/cost-per-unit.parquet'))
        .statusCode,
    ).toBe(403);
    expect((await browser.get('/reports/governance/missing.html')).statusCode).toBe(404);
    const listing = await browser.get('/reports');
    expect(listing.text).toContain('workflow=support-triage');
    expect(listing.text).not.toContain('workflow=code-review');
    expect((await new Browser(console).get('/reports/governance/index.json')).statusCode).toBe(303);
  });

  it('answers a reports bucket that does not answer with a 503 page that says a retry is safe', async () => {
    const console = consoleWithReports();
    const { browser } = await person(console, 'viewer', 'support-triage', 'viewer-a');
    console.reports.open = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3002'), { code: 'ECONNREFUSED' });
    };
    const page = await browser.get('/reports/governance/index.json');
    expect(page.statusCode).toBe(503);
    expect(page.headers?.['retry-after']).toBe('1');
    expect(page.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('retrying it is safe');
    expect(page.text).not.toContain('ECONNREFUSED');
  });
});
