import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { AppConfigData } from '@aws-sdk/client-appconfigdata';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { AppConfigDataFlagReader } from '#lib/adapters/appconfig-flags.ts';
import { locateKillSwitch } from '#lib/adapters/appconfig-locate.ts';
import { makeDocumentClient, sdkObjects } from '#lib/adapters/aws-clients.ts';
import { DuckDbArchivedEvents } from '#lib/adapters/duckdb-archived-events.ts';
import { DynamoDbDrillStore } from '#lib/adapters/dynamodb-drill-store.ts';
import { DynamoDbEvalStore } from '#lib/adapters/dynamodb-eval-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { S3EventArchive } from '#lib/adapters/s3-event-archive.ts';
import { S3ReportStore } from '#lib/adapters/s3-report-store.ts';
import { ActorHasher } from '#lib/events/actor-hashing.ts';
import { ingestEvents } from '#lib/ingest/ingest-events.ts';
import { LOCAL_ENVIRONMENT } from '#lib/kill-switch/names.ts';
import { runKpiJob } from '#lib/kpi/job.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { type ReportsJobDependencies, runReportsJob } from '#lib/reports/job.ts';
import { DEFAULT_HOT_INDEX_DAYS } from '#lib/storage/ledger-table.ts';
import {
  LOCAL_ARCHIVE_BUCKET,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_REPORTS_BUCKET,
  LOCAL_TABLE_NAME,
} from '#local-stack/settings.ts';
import { apiClient } from '../support/api.ts';
import { type ReviewedUnit, reviewedUnit, TEST_PRICES } from '../support/reviewed-unit.ts';

const stack = inject('localStack');
const api = apiClient(stack.api, stack.token);
const local = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
const documents = makeDocumentClient(new DynamoDBClient({ ...local, endpoint: stack.dynamodb }));
const s3 = new S3Client({
  ...local,
  endpoint: stack.s3,
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const kpiStore = new DynamoDbKpiStore(documents, LOCAL_TABLE_NAME);
const index = new DynamoDbEventIndex(documents, LOCAL_TABLE_NAME);
const reports = new S3ReportStore(s3, LOCAL_REPORTS_BUCKET);
const archivedEvents = new DuckDbArchivedEvents(s3, LOCAL_ARCHIVE_BUCKET);

// 2026-W19 starts Monday 4 May, 2026-W20 Monday 11 May: weeks no other integration test uses.
const W19 = '2026-05-04T00:00:00Z';
const W20 = '2026-05-11T00:00:00Z';
const HOSTILE_CATEGORY = '<script>alert(1)</script>';

/** A unit of `workflowId` completed on day `day` of the week starting `monday`, as in the KPI test. */
function unit(
  workflowId: string,
  monday: string,
  day: number,
  n: number,
  options: Omit<ReviewedUnit, 'workflowId' | 'unitId' | 'dayMs'> = {},
) {
  const unitId = `reports-${workflowId}-${monday.slice(0, 10)}-${n}`;
  return reviewedUnit({ workflowId, unitId, dayMs: Date.parse(monday) + day * 86_400_000, ...options });
}

async function post(events: unknown[]) {
  for (let i = 0; i < events.length; i += 400) {
    const response = await api.postEvents({ events: events.slice(i, i + 400) });
    expect(response.status).toBe(202);
  }
}

async function readObject(key: string): Promise<{ body: string; contentType: string | undefined }> {
  const response = await s3.send(new GetObjectCommand({ Bucket: LOCAL_REPORTS_BUCKET, Key: key }));
  return { body: (await response.Body?.transformToString('utf8')) ?? '', contentType: response.ContentType };
}
const readJson = async (key: string) => JSON.parse((await readObject(key)).body) as Record<string, any>;

async function reportsDeps(): Promise<ReportsJobDependencies> {
  const location = await locateKillSwitch(
    new AppConfigClient({ ...local, endpoint: stack.appconfig }),
    LOCAL_ENVIRONMENT,
  );
  if (!location) throw new Error('the local stack has no kill switch');
  return {
    index,
    kpis: kpiStore,
    prices: kpiStore,
    drills: new DynamoDbDrillStore(documents, LOCAL_TABLE_NAME),
    evals: new DynamoDbEvalStore(documents, LOCAL_TABLE_NAME),
    registry: defaultRegistry,
    flags: new AppConfigDataFlagReader(
      new AppConfigData({ ...local, endpoint: stack.appconfig }),
      location,
      0,
    ),
    reports,
    archive: { events: archivedEvents, hotIndexDays: DEFAULT_HOT_INDEX_DAYS },
    // Wednesday of 2026-W21: 2026-W20 is the last complete week, so the run moves the index.
    clock: () => new Date('2026-05-20T06:00:00Z'),
    killSwitchEnvironment: LOCAL_ENVIRONMENT,
  };
}

describe('governance reports on the local stack', () => {
  let result: Awaited<ReturnType<typeof runReportsJob>>;

  beforeAll(async () => {
    // The same table as the KPI test's, so whichever file runs first, both see the same prices. gpt-5 has
    // no price in it: the quarterly review must list it as unpriced.
    await kpiStore.putTable(TEST_PRICES);
    // support-triage: W19 10 units on anthropic, 1 defect; W20 10 units, half on openai, 3 defects (two with a
    // hostile category), two refunds failing with TIMEOUT. code-review: 5 units a week, anthropic only.
    const support19 = Array.from({ length: 10 }, (_, n) =>
      unit('support-triage', W19, n % 5, n, n === 0 ? { verdict: 'defect', category: 'wrong-priority' } : {}),
    ).flat();
    const support20 = Array.from({ length: 10 }, (_, n) =>
      unit('support-triage', W20, n % 5, n, {
        provider: n % 2 === 0 ? 'openai' : 'anthropic',
        ...(n < 2
          ? { verdict: 'defect', category: HOSTILE_CATEGORY }
          : n === 2
            ? { verdict: 'defect', category: 'tone' }
            : {}),
        ...(n >= 8 ? { failingTool: { name: 'refund', errorCode: 'TIMEOUT' } } : {}),
      }),
    ).flat();
    const code = [W19, W20].flatMap((monday) =>
      Array.from({ length: 5 }, (_, n) => unit('code-review', monday, n, n)).flat(),
    );
    // The lane of support-triage was switched off for half an hour on Wednesday of W20 (recorded flips),
    // and an autonomous action during it is a kill-switch violation; a refund of $600 breaks a CANNOT rule.
    const flips = [
      { to: 'disabled', from: 'enabled', minute: 0, reason: 'refund loop <b>incident</b>', by: 'ops-oncall' },
      { to: 'enabled', from: 'disabled', minute: 30, reason: 'fixed', by: 'ops-oncall' },
    ].map((flip, i) => ({
      eventId: `reports-it-flip-${i}`,
      type: 'rollback',
      workflowId: 'support-triage',
      unitId: 'kill-switch',
      occurredAt: new Date(Date.parse('2026-05-13T10:00:00Z') + flip.minute * 60_000).toISOString(),
      reason: flip.reason,
      initiatedBy: flip.by,
      lane: 'autonomous',
      from: flip.from,
      to: flip.to,
      metadata: { flag: 'support-triage', scope: 'workflow' },
    }));
    await post([...support19, ...support20, ...code, ...flips]);
    await post([
      {
        eventId: 'reports-it-rogue',
        type: 'action',
        workflowId: 'support-triage',
        unitId: 'reports-rogue-ticket',
        occurredAt: '2026-05-13T10:15:00Z',
        lane: 'autonomous',
        model: { provider: 'anthropic', name: 'claude-sonnet', version: '2026-05' },
        usage: { inputTokens: 100, outputTokens: 10 },
        toolCalls: [
          { name: 'refund', endpoint: 'billing.refund', parameters: { amount: 600 }, outcome: 'success' },
        ],
      },
    ]);
    // Received on 2 April, so 45 days later the index let it go: by the run's clock (20 May) it is in the
    // archive only, and the quarter's mix must still count it (issue 12: reads past the hot window).
    const received = await ingestEvents(
      {
        events: [
          {
            eventId: 'reports-it-early-april',
            type: 'action',
            workflowId: 'support-triage',
            unitId: 'reports-early-april-ticket',
            occurredAt: '2026-04-02T10:00:00Z',
            lane: 'hitl',
            model: { provider: 'mistral', name: 'large', version: '2026-03' },
            usage: { inputTokens: 700, outputTokens: 70 },
            toolCalls: [],
          },
        ],
      },
      { principal: 'test', workflows: '*' },
      {
        index,
        archive: new S3EventArchive(sdkObjects(s3), LOCAL_ARCHIVE_BUCKET),
        archivedEvents,
        registry: defaultRegistry,
        hasher: new ActorHasher(
          Buffer.from(readFileSync(join(stack.dataDir, 'actor-hash-key'), 'utf8').trim(), 'hex'),
        ),
        clock: () => new Date('2026-04-02T10:01:00Z'),
      },
    );
    expect(received.accepted + received.duplicates).toBe(1);
    await new DynamoDbDrillStore(documents, LOCAL_TABLE_NAME).putDrill({
      drillId: 'drill-reports-it',
      workflowId: 'support-triage',
      startedAt: '2026-05-12T08:00:00.000Z',
      by: 'ops-oncall',
      target: 'the local stack',
      offEffectMs: 850,
      onEffectMs: 920,
      outcome: 'passed',
    });
    const kpiDeps = { index, prices: kpiStore, kpis: kpiStore, reports, clock: () => new Date() };
    for (const week of ['2026-W19', '2026-W20'])
      for (const workflowId of defaultRegistry.ids()) await runKpiJob(workflowId, week, kpiDeps);

    result = await runReportsJob({ week: '2026-W20' }, await reportsDeps());
  });

  it('writes every report and an index of the latest to the reports bucket', async () => {
    const indexFile = await readJson('governance/index.json');
    expect(result.indexUpdated).toBe(true);
    expect(indexFile.week).toBe('2026-W20');
    expect(indexFile.reports.map((entry: any) => [entry.kind, entry.period, entry.json])).toEqual([
      ['agent-ops-review', '2026-W20', 'governance/weekly/2026-W20/agent-ops-review.json'],
      ['autonomy-risk-review', '2026-05', 'governance/monthly/2026-05/autonomy-risk-review.json'],
      ['vendor-model-strategy', '2026-Q2', 'governance/quarterly/2026-Q2/vendor-model-strategy.json'],
      ['runbook', null, 'governance/runbooks/support-triage.json'],
      ['runbook', null, 'governance/runbooks/code-review.json'],
    ]);
    for (const key of result.keys) {
      const object = await readObject(key);
      expect(object.contentType).toBe(
        key.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
      );
    }
    expect(result.keys).toContain('governance/runbooks/support-triage.html');
  });

  it('the weekly review has KPIs week over week, the top failures, and the violations', async () => {
    const weekly = await readJson('governance/weekly/2026-W20/agent-ops-review.json');
    const support = weekly.workflows.find((w: any) => w.workflowId === 'support-triage');
    const kpi = (metric: string) => support.kpis.find((k: any) => k.metric === metric);
    expect(kpi('throughput')).toMatchObject({ previous: 10, current: 10, change: 0 });
    expect(kpi('defectRate')).toMatchObject({ previous: 0.1, current: 0.3, change: 0.2, trend: 'worse' });
    expect(support.charts.defectRate).toHaveLength(12);
    expect(support.charts.defectRate.at(-2)).toEqual({ week: '2026-W19', value: 0.1, recorded: true });
    expect(support.unpriced.models).toEqual(['openai/gpt-5']);
    expect(weekly.topFailures.slice(0, 3).map((f: any) => [f.workflowId, f.label, f.count])).toEqual([
      ['support-triage', `review defect: ${HOSTILE_CATEGORY}`, 2],
      ['support-triage', 'refund failed (TIMEOUT)', 2],
      ['support-triage', 'review defect: tone', 1],
    ]);
    expect(weekly.violations.find((v: any) => v.workflowId === 'support-triage')).toMatchObject({
      killSwitchViolations: 1,
      boundaryViolations: 1,
      // One action, two rules: the CANNOT rule, and the approval refunds over $100 need.
      byRule: [
        { kind: 'approval', ruleId: 'refund-over-100', tool: 'refund', count: 1 },
        { kind: 'cannot', ruleId: 'refund-over-500', tool: 'refund', count: 1 },
      ],
    });
    const html = (await readObject('governance/weekly/2026-W20/agent-ops-review.html')).body;
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('the monthly review lists the flips with who and why, and the drills with their times to effect', async () => {
    const monthly = await readJson('governance/monthly/2026-05/autonomy-risk-review.json');
    expect(monthly.killSwitch.readable).toBe(true);
    expect(monthly.rollbacks.filter((r: any) => r.eventId.startsWith('reports-it-flip'))).toMatchObject([
      {
        direction: 'off',
        initiatedBy: 'ops-oncall',
        reason: 'refund loop <b>incident</b>',
        incident: true,
        offForSeconds: 1800,
      },
      { direction: 'on', reason: 'fixed' },
    ]);
    const support = monthly.workflows.find((w: any) => w.workflowId === 'support-triage');
    expect(support.drills).toContainEqual(
      expect.objectContaining({ drillId: 'drill-reports-it', offEffectMs: 850 }),
    );
    expect(support.killSwitch.flippers).toContain('support-ops on-call');
    expect(['none', 'recorded']).toContain(support.evals.status);
    const html = (await readObject('governance/monthly/2026-05/autonomy-risk-review.html')).body;
    expect(html).toContain('refund loop &lt;b&gt;incident&lt;/b&gt;');
  });

  it('the quarterly review gives the model mix and says which workflow has no tested fallback', async () => {
    const quarterly = await readJson('governance/quarterly/2026-Q2/vendor-model-strategy.json');
    const sonnet = quarterly.models.find((m: any) => m.model === 'anthropic/claude-sonnet');
    // support-triage 10 (W19) + 5 (W20), code-review 5 + 5, and the rogue action: 26 actions.
    expect(sonnet).toMatchObject({ actions: 26, inputTokens: 25_100, outputTokens: 5010 });
    expect(quarterly.models.find((m: any) => m.model === 'openai/gpt-5')).toMatchObject({
      actions: 5,
      costUsd: null,
    });
    // From the archive: the action of 2 April, which the index no longer holds.
    expect(quarterly.models.find((m: any) => m.model === 'mistral/large')).toMatchObject({
      actions: 1,
      inputTokens: 700,
      outputTokens: 70,
    });
    expect(quarterly.unpriced.models).toEqual(['openai/gpt-5', 'mistral/large']);
    const fallback = Object.fromEntries(quarterly.fallback.map((f: any) => [f.workflowId, f]));
    expect(fallback['support-triage'].status).toBe('multi-provider');
    expect(fallback['code-review']).toMatchObject({
      status: 'single-provider',
      statement: 'single provider: no tested fallback (every model call went to anthropic)',
    });
  });

  it('the runbook says where the switch is, who flips it, how, and the last drills', async () => {
    const runbook = await readJson('governance/runbooks/support-triage.json');
    expect(runbook.killSwitch.appConfig).toEqual({
      application: 'agent-ledger',
      profile: 'kill-switch',
      environment: 'local',
      flagKey: 'support-triage',
      masterFlagKey: 'allAutonomousLanes',
    });
    expect(runbook.commands.off).toBe(
      'agent-ledger kill-switch off support-triage --reason "<what happened>"',
    );
    expect(runbook.drills.length).toBeLessThanOrEqual(10);
    expect(runbook.drills).toContainEqual(expect.objectContaining({ drillId: 'drill-reports-it' }));
    expect(runbook.boundary.approvals.map((rule: any) => rule.id)).toEqual([
      'refund-over-100',
      'enterprise-reply',
    ]);
  });
});
