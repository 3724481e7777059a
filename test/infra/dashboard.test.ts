import { Metrics } from '@aws-lambda-powertools/metrics';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JOB_METRICS, publishDriftMetrics, publishKpiMetrics } from '#functions/commons/job-metrics.ts';
import { makeKpiJob } from '#functions/kpi-job/make-handler.ts';
import { WeeklyKpis } from '#lib/kpi/compute.ts';
import type { KpiRecord } from '#lib/kpi/record.ts';
import { lastCompleteWeek } from '#lib/kpi/weeks.ts';
import { PriceBook } from '#lib/pricing/price-table.ts';
import { defaultRegistry, demoWorkflows } from '#lib/registry/default-registry.ts';
import { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from '../../infra/constructs/ledger-function.ts';
import { defineLedgerApp } from '../../infra/ledger-app.ts';
import { InMemoryEventIndex } from '../support/in-memory-stores.ts';
import { asArray, type CfnProperties, cdkJsonContext, SKIP_BUNDLING, synthesizeLedger } from './helpers.ts';

// Prepare (once: every test reads the same synthesized stacks)
const { statelessTemplate: template, statefulTemplate } = synthesizeLedger();
const resources = template.toJSON().Resources as Record<string, CfnProperties>;
const WORKFLOWS = defaultRegistry.ids();

function idOf(type: string, prefix: string, from: Template = template): string {
  const ids = Object.keys(from.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}`).toHaveLength(1);
  return ids[0] as string;
}

/** The dashboard body as JSON, each CloudFormation token in it shown as `<token>`. */
function dashboardBody(from: Template): { widgets: CfnProperties[] } {
  const dashboards = Object.values(from.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]?.Properties.DashboardBody as CfnProperties;
  const parts = (body['Fn::Join']?.[1] ?? [body]) as unknown[];
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : '<token>')).join(''));
}

/** Every metric the dashboard charts, as `namespace metricName dim=value …` (options left out). */
function chartedMetrics(body: { widgets: CfnProperties[] }): Set<string> {
  const charted = new Set<string>();
  for (const widget of body.widgets) {
    for (const line of (widget.properties.metrics ?? []) as unknown[][]) {
      const fields = line.filter((field) => typeof field === 'string') as string[];
      const [namespace, metricName, ...dimensions] = fields;
      const pairs: string[] = [];
      for (let i = 0; i + 1 < dimensions.length; i += 2) pairs.push(`${dimensions[i]}=${dimensions[i + 1]}`);
      charted.add([namespace, metricName, ...pairs.sort()].join(' '));
    }
  }
  return charted;
}

const alarms = () =>
  Object.entries(template.findResources('AWS::CloudWatch::Alarm')) as [string, CfnProperties][];

function alarmNamed(name: string): CfnProperties {
  const found = alarms().filter(([, alarm]) => alarm.Properties.AlarmName === name);
  expect(
    found.map(([id]) => id),
    name,
  ).toHaveLength(1);
  return (found[0] as [string, CfnProperties])[1].Properties;
}

/** The drift topic's ARN as the stateless stack reads it from the stateful stack. */
const driftTopicArn = {
  'Fn::GetStackOutput': expect.objectContaining({
    StackName: 'AgentLedger-dev-Stateful',
    OutputName: expect.stringMatching(/^PublishOutput.*DriftNotificationsTopic/),
  }),
};

describe('LedgerDashboard: the CloudWatch dashboard', () => {
  const body = dashboardBody(template);
  const charted = chartedMetrics(body);

  it('is named agent-ledger-<stage> and shows the last 12 weeks', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'agent-ledger-dev' });
    expect(body).toMatchObject({ start: '-P84D' });
    template.hasOutput('DashboardName', { Value: 'agent-ledger-dev' });
  });

  it.each(WORKFLOWS)(
    'charts the cost per unit and defect rate of %s, from the KPI job metrics',
    (workflowId) => {
      const dimensions = `service=${POWERTOOLS_SERVICE_NAME} workflowId=${workflowId}`;
      for (const name of [JOB_METRICS.costPerUnit, JOB_METRICS.defectRate, JOB_METRICS.throughput]) {
        expect(charted).toContain(`AgentLedger ${name} ${dimensions}`);
      }
      const titles = body.widgets.map((widget) => widget.properties.title as string | undefined);
      expect(titles).toContain(`${workflowId}: cost per unit (USD)`);
      expect(titles).toContain(`${workflowId}: defect rate (share of reviewed units)`);
    },
  );

  it('charts ingest errors (API 5XX, ingest function errors), the 4XX rate, drift pauses, job errors and dead letters', () => {
    const graphs = new Map(
      body.widgets.map((widget) => [widget.properties.title as string, widget.properties as CfnProperties]),
    );
    const lines = (title: string) => (graphs.get(title)?.metrics ?? []) as unknown[][];
    const metricNames = (title: string) => lines(title).map((line) => `${line[0]} ${line[1]}`);

    expect(metricNames('Ingest errors')).toEqual(['AWS/ApiGateway 5XXError', 'AWS/Lambda Errors']);
    expect(metricNames('API 4XX rate (share of requests)')).toEqual(['AWS/ApiGateway 4XXError']);
    // The average of 4XXError (0 or 1 per request) is the share of requests answered 4XX
    const rateOptions = lines('API 4XX rate (share of requests)')[0]?.at(-1) as CfnProperties;
    expect(rateOptions.stat ?? 'Average').toBe('Average');
    expect(metricNames('Drift pauses')).toEqual(
      WORKFLOWS.map(() => `AgentLedger ${JOB_METRICS.driftPauses}`),
    );
    expect(metricNames('Job errors')).toEqual([
      'AWS/Lambda Errors',
      'AWS/Lambda Errors',
      'AWS/Lambda Errors',
    ]);
    expect(metricNames('Dead-letter queues (messages waiting)')).toEqual([
      'AWS/SQS ApproximateNumberOfMessagesVisible',
      'AWS/SQS ApproximateNumberOfMessagesVisible',
    ]);
    const alarmWidget = body.widgets.find((widget) => widget.type === 'alarm');
    expect(alarmWidget?.properties.alarms).toHaveLength(alarms().length);
  });

  it('charts the kill-switch, boundary and rollout-phase violations per week, from the ingest function', () => {
    const graph = body.widgets.find(
      (widget) => widget.properties.title === 'Autonomy violations (actions per week)',
    );
    const lines = (graph?.properties.metrics ?? []) as unknown[][];
    expect(lines.map((line) => `${line[0]} ${line[1]} ${line[2]}=${line[3]}`)).toEqual([
      `AgentLedger KillSwitchViolations service=${POWERTOOLS_SERVICE_NAME}`,
      `AgentLedger BoundaryViolations service=${POWERTOOLS_SERVICE_NAME}`,
      `AgentLedger RolloutPhaseViolations service=${POWERTOOLS_SERVICE_NAME}`,
    ]);
    for (const line of lines) expect(line.at(-1)).toMatchObject({ period: 604_800, stat: 'Sum' });
  });

  it('gives every registered workflow its row of KPI widgets and its drift alarm', () => {
    // Prepare: a third workflow in the registry
    const first = demoWorkflows[0] as (typeof demoWorkflows)[number];
    const registry = WorkflowRegistry.parse([...demoWorkflows, { ...first, workflowId: 'lead-qualify' }]);
    const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });

    // Act
    const ledger = defineLedgerApp(app, { nag: false, registry });
    const stateless = Template.fromStack(ledger.stateless);

    // Assess
    const titles = dashboardBody(stateless).widgets.map((widget) => widget.properties.title);
    expect(titles).toContain('lead-qualify: cost per unit (USD)');
    expect(titles).toContain('lead-qualify: defect rate (share of reviewed units)');
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'agent-ledger-dev-drift-pause-lead-qualify',
    });
  });
});

describe('LedgerDashboard: alarms', () => {
  it('alarms on any API 5XX within 5 minutes', () => {
    const apiName = resources[idOf('AWS::ApiGateway::RestApi', 'IngestApi')]?.Properties.Name;
    const stageId = idOf('AWS::ApiGateway::Stage', 'IngestApiDeploymentStage');
    expect(alarmNamed('agent-ledger-dev-api-5xx')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: expect.arrayContaining([
        { Name: 'ApiName', Value: apiName },
        { Name: 'Stage', Value: { Ref: stageId } },
      ]),
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on any error of the ingest function, and of the KPI, drift and reports jobs', () => {
    for (const [name, functionPrefix] of [
      ['agent-ledger-dev-ingest-errors', 'IngestApiIngestFunction'],
      ['agent-ledger-dev-kpi-job-errors', 'JobsKpiJobFunction'],
      ['agent-ledger-dev-drift-job-errors', 'JobsDriftJobFunction'],
      ['agent-ledger-dev-reports-job-errors', 'JobsReportsJobFunction'],
    ] as const) {
      const functionId = idOf('AWS::Lambda::Function', functionPrefix);
      const alarm = alarmNamed(name);
      expect(alarm, name).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
      });
      // More than 0 and at least 1 are the same test on a count
      expect([alarm.Threshold, alarm.ComparisonOperator]).toSatisfy(
        ([threshold, operator]: [number, string]) =>
          (threshold === 0 && operator === 'GreaterThanThreshold') ||
          (threshold === 1 && operator === 'GreaterThanOrEqualToThreshold'),
      );
    }
  });

  it.each(WORKFLOWS)('alarms when drift pauses %s (DriftPauses ≥ 1)', (workflowId) => {
    expect(alarmNamed(`agent-ledger-dev-drift-pause-${workflowId}`)).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: JOB_METRICS.driftPauses,
      Dimensions: expect.arrayContaining([
        { Name: 'service', Value: POWERTOOLS_SERVICE_NAME },
        { Name: 'workflowId', Value: workflowId },
      ]),
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it.each(WORKFLOWS)('alarms when an eval of %s is due (EvalDue ≥ 1 on the latest KPI run)', (workflowId) => {
    expect(alarmNamed(`agent-ledger-dev-eval-due-${workflowId}`)).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: JOB_METRICS.evalDue,
      Dimensions: expect.arrayContaining([
        { Name: 'service', Value: POWERTOOLS_SERVICE_NAME },
        { Name: 'workflowId', Value: workflowId },
      ]),
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms while the jobs dead-letter queue (and the flip recorder one) holds a message', () => {
    for (const [name, queuePrefix] of [
      ['agent-ledger-dev-job-dead-letters', 'JobsDeadLetters'],
      ['agent-ledger-dev-flip-recorder-dead-letters', 'FlipRecorderDeadLetters'],
    ] as const) {
      const queueId = idOf('AWS::SQS::Queue', queuePrefix);
      expect(alarmNamed(name), name).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        // SQS stops reporting an untouched queue: missing data must not clear the alarm
        TreatMissingData: 'ignore',
      });
    }
  });

  it.each([
    ['boundary-violations', 'BoundaryViolations', 'violations=boundary'],
    ['kill-switch-violations', 'KillSwitchViolations', 'violations=kill-switch'],
    ['rollout-phase-violations', 'RolloutPhaseViolations', 'violations=rollout-phase'],
  ])('alarms on any %s the ingest function counts (%s > 0 in 5 minutes)', (suffix, metricName, query) => {
    const alarm = alarmNamed(`agent-ledger-dev-${suffix}`);
    expect(alarm).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: metricName,
      Dimensions: [{ Name: 'service', Value: POWERTOOLS_SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarm.AlarmDescription).toContain(query);
  });

  it('notifies the drift topic from every alarm, each named agent-ledger-<stage>-…', () => {
    // 7 operational alarms, a drift pause and an eval due per workflow, boundary, kill-switch and
    // rollout-phase violations, and a registry the handlers cannot use
    expect(alarms()).toHaveLength(11 + 2 * WORKFLOWS.length);
    for (const [id, alarm] of alarms()) {
      expect(alarm.Properties.AlarmName, id).toMatch(/^agent-ledger-dev-[a-z0-9-]+$/);
      expect(alarm.Properties.AlarmActions, id).toEqual([driftTopicArn]);
      expect((alarm.Properties.AlarmDescription as string).length, id).toBeGreaterThan(60);
    }
  });
});

describe('allowAlarmNotifications: the stateful drift topic accepts the alarms', () => {
  const topicId = idOf('AWS::SNS::Topic', 'DriftNotificationsTopic', statefulTemplate);
  const keyId = idOf('AWS::KMS::Key', 'DriftNotificationsKey', statefulTemplate);
  const onlyThisStagesAlarms = {
    StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    ArnLike: {
      'aws:SourceArn': {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':cloudwatch:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':alarm:agent-ledger-dev-*',
          ],
        ],
      },
    },
  };

  it('lets CloudWatch publish alarms of this stage, account and region to the topic', () => {
    statefulTemplate.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'CloudWatchAlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: onlyThisStagesAlarms,
          },
        ]),
      },
    });
  });

  it('lets CloudWatch use the topic key for those alarms only (it cannot publish to an encrypted topic otherwise)', () => {
    const statements = asArray<CfnProperties>(
      statefulTemplate.toJSON().Resources[keyId].Properties.KeyPolicy.Statement,
    );
    const forAlarms = statements.filter((statement) => statement.Sid === 'CloudWatchAlarmsUseKey');
    expect(forAlarms).toEqual([
      {
        Sid: 'CloudWatchAlarmsUseKey',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: onlyThisStagesAlarms,
      },
    ]);
  });
});

describe('the jobs emit the metrics the dashboard charts (EMF through Powertools)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  /** A Powertools Metrics as the functions configure it, printing EMF to a list instead of stdout. */
  function capturingMetrics(): { metrics: Metrics; emitted: CfnProperties[] } {
    vi.stubEnv('POWERTOOLS_DEV', 'true'); // print through the global console…
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false'); // …and do not turn metrics off for it
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: POWERTOOLS_SERVICE_NAME });
    const emitted: CfnProperties[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      if (typeof line === 'string' && line.includes('"_aws"')) emitted.push(JSON.parse(line));
    });
    return { metrics, emitted };
  }

  /** Each metric of an EMF document as CloudWatch names it: namespace, name and its dimension values. */
  function cloudWatchMetrics(emf: CfnProperties): string[] {
    return (emf._aws.CloudWatchMetrics as CfnProperties[]).flatMap((directive) =>
      (directive.Metrics as { Name: string }[]).flatMap((metric) =>
        (directive.Dimensions as string[][]).map((set) =>
          [directive.Namespace, metric.Name, ...set.map((name) => `${name}=${emf[name]}`).sort()].join(' '),
        ),
      ),
    );
  }

  const record = (workflowId: string, week: string): KpiRecord => ({
    ...new WeeklyKpis(workflowId, week, new PriceBook([])).finish(),
    throughput: 20,
    reviewedUnits: 20,
    defectiveUnits: 8,
    defectRate: 0.4,
    costPerUnitUsd: 3.008,
  });

  it('emits cost per unit, defect rate and throughput per workflow, each a metric the dashboard charts', () => {
    // Prepare
    const { metrics, emitted } = capturingMetrics();
    const charted = chartedMetrics(dashboardBody(template));

    // Act
    publishKpiMetrics(
      metrics,
      WORKFLOWS.map((workflowId) => record(workflowId, '2026-W47')),
    );

    // Assess
    expect(emitted).toHaveLength(WORKFLOWS.length);
    for (const [i, workflowId] of WORKFLOWS.entries()) {
      const emf = emitted[i] as CfnProperties;
      expect(emf).toMatchObject({
        workflowId,
        week: '2026-W47',
        [JOB_METRICS.costPerUnit]: 3.008,
        [JOB_METRICS.defectRate]: 0.4,
        [JOB_METRICS.throughput]: 20,
      });
      expect(cloudWatchMetrics(emf)).toHaveLength(3);
      for (const metric of cloudWatchMetrics(emf)) expect(charted).toContain(metric);
    }
  });

  it('leaves out cost per unit and defect rate when they are null (no units, nothing reviewed)', () => {
    const { metrics, emitted } = capturingMetrics();
    publishKpiMetrics(metrics, [new WeeklyKpis('code-review', '2026-W47', new PriceBook([])).finish()]);
    expect(emitted).toHaveLength(1);
    expect(cloudWatchMetrics(emitted[0] as CfnProperties)).toEqual([
      `${METRICS_NAMESPACE} ${JOB_METRICS.throughput} service=${POWERTOOLS_SERVICE_NAME} workflowId=code-review`,
    ]);
  });

  it('emits only the newest week of a recompute run from the KPI job', async () => {
    // Prepare
    const { metrics, emitted } = capturingMetrics();
    const now = new Date('2026-11-24T02:30:00Z');
    const stored: KpiRecord[] = [];
    const job = makeKpiJob({
      index: new InMemoryEventIndex(),
      prices: { listTables: async () => [], putTable: async () => {} },
      kpis: { putRecord: async (r) => void stored.push(r), getRecord: async () => undefined },
      reports: { putObject: async () => {} },
      registry: defaultRegistry,
      clock: () => now,
      metrics,
    });

    // Act
    await job({ recomputeWeeks: 4 });

    // Assess: four weeks stored per workflow, one EMF document per workflow, of the newest week
    expect(stored).toHaveLength(4 * WORKFLOWS.length);
    expect(emitted.map((emf) => [emf.workflowId, emf.week])).toEqual(
      WORKFLOWS.map((workflowId) => [workflowId, lastCompleteWeek(now.getTime())]),
    );
  });

  it('emits DriftPauses per workflow: 1 for a lane the drift job paused, 0 otherwise, as the drift alarm reads it', () => {
    // Prepare
    const { metrics, emitted } = capturingMetrics();

    // Act
    publishDriftMetrics(metrics, [
      { workflowId: 'code-review', week: '2026-W47', action: 'paused', reason: 'drift' },
      { workflowId: 'support-triage', week: '2026-W47', action: 'none', reason: 'steady' },
    ]);

    // Assess
    expect(emitted.map((emf) => [emf.workflowId, emf[JOB_METRICS.driftPauses]])).toEqual([
      ['code-review', 1],
      ['support-triage', 0],
    ]);
    const alarm = alarmNamed('agent-ledger-dev-drift-pause-code-review');
    const alarmMetric = [
      alarm.Namespace,
      alarm.MetricName,
      ...(alarm.Dimensions as { Name: string; Value: string }[]).map((d) => `${d.Name}=${d.Value}`).sort(),
    ].join(' ');
    expect(cloudWatchMetrics(emitted[0] as CfnProperties)).toEqual([alarmMetric]);
  });

  it('emits EvalDue 1 or 0 from a judged KPI record, as the eval-due alarm reads it, and nothing unjudged', () => {
    const { metrics, emitted } = capturingMetrics();
    const record = new WeeklyKpis('code-review', '2026-W47', new PriceBook([])).finish();
    publishKpiMetrics(metrics, [
      {
        ...record,
        evalDue: { due: true, reasons: ['prompt review 3 seen since 2026-11-17'], lastRunAt: null },
      },
      { ...record, workflowId: 'support-triage', evalDue: { due: false, reasons: [], lastRunAt: null } },
      { ...record, workflowId: 'lead-qualify' },
    ]);
    expect(emitted.map((emf) => [emf.workflowId, emf[JOB_METRICS.evalDue]])).toEqual([
      ['code-review', 1],
      ['support-triage', 0],
      ['lead-qualify', undefined],
    ]);
  });
});
