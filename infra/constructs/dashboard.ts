import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INGEST_METRICS } from '#functions/commons/ingest-metrics.ts';
import { JOB_METRICS, WORKFLOW_DIMENSION } from '#functions/commons/job-metrics.ts';
import { REGISTRY_STALE_METRIC } from '#lib/registry/names.ts';
import type { IngestApi } from './ingest-api.ts';
import { type LedgerFunction, METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from './ledger-function.ts';
import type { ScheduledJobs } from './scheduled-jobs.ts';

/** `agent-ledger-<stage>`: the dashboard's name, and the prefix of every alarm's name. */
export function dashboardName(stage: string): string {
  return `agent-ledger-${stage}`;
}

/** The KPI charts' time range: the last 12 ISO weeks, as on the local dashboard. */
export const KPI_RANGE = Duration.days(7 * 12);

/** Job metrics are one datapoint per run (daily); a day per datapoint shows each run's figure. */
const JOB_METRIC_PERIOD = Duration.days(1);
const FIVE_MINUTES = Duration.minutes(5);
/** Violations are charted per week, as the reports count them (CloudWatch's 7-day bins, not ISO weeks). */
const WEEK = Duration.days(7);

export interface LedgerDashboardProps {
  /** Names the dashboard (`agent-ledger-<stage>`) and prefixes the alarm names. */
  readonly stageName: string;
  /** The registered workflows: a row of KPI widgets and a drift-pause alarm each. */
  readonly workflowIds: readonly string[];
  readonly ingestApi: IngestApi;
  readonly jobs: ScheduledJobs;
  /** The flip recorder's dead-letter queue: flips that were never recorded in the ledger. */
  readonly flipRecorderDeadLetters: sqs.IQueue;
  /** From the stateful stack: where every alarm notifies operators (the drift topic). */
  readonly alarmTopic: sns.ITopic;
}

/**
 * The CloudWatch dashboard `agent-ledger-<stage>` and the alarms operators are paged by. Per registered
 * workflow, the weekly cost per unit and defect rate (the KPI job's EMF metrics: namespace `AgentLedger`,
 * dimensions `service` and `workflowId`); then ingest errors (API Gateway 5XX and the ingest function's
 * errors), the 4XX rate, drift pauses, the week's kill-switch, boundary and rollout-phase violations, the
 * jobs' errors, the dead-letter queues and a workflow registry the handlers cannot use. Every alarm notifies the drift SNS topic, whose key and policy
 * let CloudWatch publish (`allowAlarmNotifications`).
 */
export class LedgerDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: {
    readonly api5xx: cloudwatch.Alarm;
    readonly ingestErrors: cloudwatch.Alarm;
    readonly kpiJobErrors: cloudwatch.Alarm;
    readonly driftJobErrors: cloudwatch.Alarm;
    readonly reportsJobErrors: cloudwatch.Alarm;
    readonly jobDeadLetters: cloudwatch.Alarm;
    readonly flipRecorderDeadLetters: cloudwatch.Alarm;
    /** A handler could not use the deployed workflow registry (RegistryStale, from the functions' logs). */
    readonly registryStale: cloudwatch.Alarm;
    /** One per workflow: its lane was paused by drift. */
    readonly driftPauses: ReadonlyMap<string, cloudwatch.Alarm>;
    /** One per workflow: the KPI job found an eval due (new prompt, model or tools, or a run over 30 days old). */
    readonly evalDue: ReadonlyMap<string, cloudwatch.Alarm>;
    /**
     * Agents acted outside their autonomy boundary, autonomously while their lane was off, or in a lane
     * their workflow's rollout phase has not opened.
     */
    readonly boundaryViolations: cloudwatch.Alarm;
    readonly killSwitchViolations: cloudwatch.Alarm;
    readonly rolloutPhaseViolations: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: LedgerDashboardProps) {
    super(scope, id);
    const name = dashboardName(props.stageName);
    const stage = props.ingestApi.api.deploymentStage;
    const ingest = props.ingestApi.functions.ingest.function;
    const notify = new actions.SnsAction(props.alarmTopic);

    /** Named `agent-ledger-<stage>-<suffix>`: the name `allowAlarmNotifications` lets publish. */
    const alarm = (
      alarmId: string,
      suffix: string,
      options: Omit<cloudwatch.CreateAlarmOptions, 'alarmName' | 'evaluationPeriods'> & {
        metric: cloudwatch.IMetric;
      },
    ): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${name}-${suffix}`,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      created.addAlarmAction(notify);
      return created;
    };

    // Alarms take the metrics as they are; graphs the same metrics with a label (an alarm on a labelled
    // metric would be rendered as metric math).
    const api5xxMetric = stage.metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM });
    const ingestErrorsMetric = ingest.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM });
    /** The ingest function's own EMF counts (Powertools: namespace AgentLedger, dimension `service`). */
    const ingestMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: POWERTOOLS_SERVICE_NAME },
        period: FIVE_MINUTES,
        statistic: cloudwatch.Stats.SUM,
      });
    const jobErrors = (job: LedgerFunction) =>
      job.function.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM });
    const deadLetters = (queue: sqs.IQueue) =>
      queue.metricApproximateNumberOfMessagesVisible({
        period: FIVE_MINUTES,
        statistic: cloudwatch.Stats.MAXIMUM,
      });
    const kpiJobErrorsMetric = jobErrors(props.jobs.kpiJob);
    const driftJobErrorsMetric = jobErrors(props.jobs.driftJob);
    const reportsJobErrorsMetric = jobErrors(props.jobs.reportsJob);
    const jobDeadLettersMetric = deadLetters(props.jobs.deadLetterQueue);
    const flipDeadLettersMetric = deadLetters(props.flipRecorderDeadLetters);

    const driftPauses = new Map<string, cloudwatch.Alarm>();
    for (const workflowId of props.workflowIds) {
      driftPauses.set(
        workflowId,
        alarm(`DriftPause-${workflowId}`, `drift-pause-${workflowId}`, {
          alarmDescription: `The drift job paused the autonomous lane of ${workflowId}: its defect rate rose by more than 25% week on week. Only a person turns it back on: agent-ledger kill-switch on ${workflowId} --reason "…"`,
          metric: jobMetric(
            JOB_METRICS.driftPauses,
            workflowId,
            Duration.hours(1),
            cloudwatch.Stats.SUM,
            null,
          ),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        }),
      );
    }

    const evalDue = new Map<string, cloudwatch.Alarm>();
    for (const workflowId of props.workflowIds) {
      evalDue.set(
        workflowId,
        alarm(`EvalDue-${workflowId}`, `eval-due-${workflowId}`, {
          alarmDescription: `An eval of ${workflowId} is due: its actions ran on a prompt, model or tool set its latest eval run was not run on, or that run is over 30 days old. The KPI record's evalDue.reasons (console overview, weekly review) say which; record a run on the current versions with agent-ledger evals run <file>.`,
          // The daily KPI run emits it; the maximum over a day is whether the latest run found it due.
          metric: jobMetric(
            JOB_METRICS.evalDue,
            workflowId,
            JOB_METRIC_PERIOD,
            cloudwatch.Stats.MAXIMUM,
            null,
          ),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        }),
      );
    }

    this.alarms = {
      api5xx: alarm('Api5xx', 'api-5xx', {
        alarmDescription:
          'The ledger API answered 5XX in the last 5 minutes: the API never answers 5xx for anything a client sent, so events may not have been stored. Check the ingest function and API Gateway execution logs.',
        metric: api5xxMetric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      boundaryViolations: alarm('BoundaryViolations', 'boundary-violations', {
        alarmDescription:
          'An agent action broke its autonomy boundary (a CANNOT rule, or a tool call without its required approval) in the last 5 minutes. The action is stored: list it with GET /v1/workflows/<id>/events?violations=boundary.',
        metric: ingestMetric(INGEST_METRICS.boundaryViolations),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      killSwitchViolations: alarm('KillSwitchViolations', 'kill-switch-violations', {
        alarmDescription:
          'An agent acted on the autonomous lane while its kill switch was off, in the last 5 minutes. The action is stored: list it with GET /v1/workflows/<id>/events?violations=kill-switch.',
        metric: ingestMetric(INGEST_METRICS.killSwitchViolations),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      rolloutPhaseViolations: alarm('RolloutPhaseViolations', 'rollout-phase-violations', {
        alarmDescription:
          "An agent acted in a lane its workflow's rollout phase has not opened (autonomous before the autonomous phase, hitl in baseline), in the last 5 minutes. The action is stored: list it with GET /v1/workflows/<id>/events?violations=rollout-phase, and check the agent reads GET /v1/workflows/<id>/autonomy before acting.",
        metric: ingestMetric(INGEST_METRICS.rolloutPhaseViolations),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      registryStale: alarm('RegistryStale', 'registry-stale', {
        alarmDescription:
          'A handler could not use the deployed workflow registry in the last 5 minutes: a version that does not validate, or AppConfig unreachable. It serves the last good registry, or answers 503 when it has none. Check the function logs for "workflow registry not refreshed" or "workflow registry unavailable", and deploy a valid registry (npx agent-ledger registry validate <file>, then npx cdk deploy).',
        metric: new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: REGISTRY_STALE_METRIC,
          period: FIVE_MINUTES,
          statistic: cloudwatch.Stats.SUM,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      ingestErrors: alarm('IngestErrors', 'ingest-errors', {
        alarmDescription:
          'The ingest function failed (an error Lambda counted) in the last 5 minutes: agent events may have been refused. Check its logs.',
        metric: ingestErrorsMetric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      kpiJobErrors: alarm('KpiJobErrors', 'kpi-job-errors', {
        alarmDescription:
          'The KPI job failed: weekly KPIs and cost-per-unit reports may be missing or stale. Run it again with agent-ledger jobs kpi --stage <stage> once the cause is fixed.',
        metric: kpiJobErrorsMetric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      driftJobErrors: alarm('DriftJobErrors', 'drift-job-errors', {
        alarmDescription:
          'The drift job failed: a drifting workflow may not have been paused. Run it again with agent-ledger jobs drift --stage <stage> once the cause is fixed.',
        metric: driftJobErrorsMetric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      reportsJobErrors: alarm('ReportsJobErrors', 'reports-job-errors', {
        alarmDescription:
          'The governance reports job failed: the weekly Agent Ops Review, the monthly and quarterly reviews or the runbooks may be missing or stale. Run it again with agent-ledger jobs reports --stage <stage> once the cause is fixed.',
        metric: reportsJobErrorsMetric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      // Missing data keeps the state: SQS stops reporting a queue nobody touches, messages or not.
      jobDeadLetters: alarm('JobDeadLetters', 'job-dead-letters', {
        alarmDescription:
          'A KPI, drift or reports job run failed every retry (or its schedule could not deliver it) and sits in the jobs dead-letter queue. Inspect it, fix the cause, run the job again, then purge the queue.',
        metric: jobDeadLettersMetric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      flipRecorderDeadLetters: alarm('FlipRecorderDeadLetters', 'flip-recorder-dead-letters', {
        alarmDescription:
          'A kill-switch flip could not be recorded in the ledger (the flip recorder failed every retry): the audit trail lacks a rollback event. Inspect the flip recorder dead-letter queue and replay it.',
        metric: flipDeadLettersMetric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      driftPauses,
      evalDue,
    };

    const kpiRows = props.workflowIds.flatMap((workflowId) => [
      new cloudwatch.SingleValueWidget({
        title: `${workflowId}: newest computed week`,
        metrics: [
          jobMetric(
            JOB_METRICS.costPerUnit,
            workflowId,
            JOB_METRIC_PERIOD,
            cloudwatch.Stats.MAXIMUM,
            'cost per unit (USD)',
          ),
          jobMetric(
            JOB_METRICS.defectRate,
            workflowId,
            JOB_METRIC_PERIOD,
            cloudwatch.Stats.MAXIMUM,
            'defect rate (0–1)',
          ),
          jobMetric(
            JOB_METRICS.throughput,
            workflowId,
            JOB_METRIC_PERIOD,
            cloudwatch.Stats.MAXIMUM,
            'throughput (units)',
          ),
        ],
        width: 6,
        height: 6,
        fullPrecision: false,
        sparkline: true,
      }),
      new cloudwatch.GraphWidget({
        title: `${workflowId}: cost per unit (USD)`,
        left: [
          jobMetric(
            JOB_METRICS.costPerUnit,
            workflowId,
            JOB_METRIC_PERIOD,
            cloudwatch.Stats.MAXIMUM,
            'cost per unit',
          ),
        ],
        leftYAxis: { min: 0, label: 'USD per unit', showUnits: false },
        legendPosition: cloudwatch.LegendPosition.HIDDEN,
        width: 9,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: `${workflowId}: defect rate (share of reviewed units)`,
        left: [
          jobMetric(
            JOB_METRICS.defectRate,
            workflowId,
            JOB_METRIC_PERIOD,
            cloudwatch.Stats.MAXIMUM,
            'defect rate',
          ),
        ],
        leftYAxis: { min: 0, max: 1, label: '0–1', showUnits: false },
        legendPosition: cloudwatch.LegendPosition.HIDDEN,
        width: 9,
        height: 6,
      }),
    ]);

    const everyAlarm = [
      this.alarms.api5xx,
      this.alarms.ingestErrors,
      ...driftPauses.values(),
      ...evalDue.values(),
      this.alarms.kpiJobErrors,
      this.alarms.driftJobErrors,
      this.alarms.reportsJobErrors,
      this.alarms.jobDeadLetters,
      this.alarms.flipRecorderDeadLetters,
      this.alarms.boundaryViolations,
      this.alarms.killSwitchViolations,
      this.alarms.rolloutPhaseViolations,
      this.alarms.registryStale,
    ];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: name,
      defaultInterval: KPI_RANGE,
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: [
              `# Agent Ledger (${props.stageName})`,
              'Cost per unit and defect rate per workflow, as the KPI job computed them for the last complete ISO week (Monday 00:00 UTC to Monday 00:00 UTC); the job runs weekly and recomputes daily for late reviews, so each point is one run. Defect rate is a share of the reviewed units (0–1). The KPI records themselves: `GET /v1/workflows/{workflowId}/kpis?week=YYYY-Www`; finance queries: Athena workgroup of this stage.',
            ].join('\n\n'),
            width: 24,
            height: 3,
          }),
        ],
        kpiRows,
        [
          new cloudwatch.GraphWidget({
            title: 'Ingest errors',
            left: [
              api5xxMetric.with({ label: 'API 5XX responses' }),
              ingestErrorsMetric.with({ label: 'ingest function errors' }),
            ],
            leftYAxis: { min: 0, label: 'count per 5 min', showUnits: false },
            width: 8,
            height: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'API 4XX rate (share of requests)',
            left: [
              stage.metricClientError({
                period: FIVE_MINUTES,
                statistic: cloudwatch.Stats.AVERAGE,
                label: '4XX rate',
              }),
            ],
            leftYAxis: { min: 0, max: 1, label: '0–1', showUnits: false },
            width: 8,
            height: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'Drift pauses',
            left: props.workflowIds.map((workflowId) =>
              jobMetric(
                JOB_METRICS.driftPauses,
                workflowId,
                JOB_METRIC_PERIOD,
                cloudwatch.Stats.SUM,
                workflowId,
              ),
            ),
            leftYAxis: { min: 0, label: 'lanes paused per day', showUnits: false },
            width: 8,
            height: 6,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Autonomy violations (actions per week)',
            left: [
              ingestMetric(INGEST_METRICS.killSwitchViolations).with({
                period: WEEK,
                label: 'kill-switch violations',
              }),
              ingestMetric(INGEST_METRICS.boundaryViolations).with({
                period: WEEK,
                label: 'boundary violations',
              }),
              ingestMetric(INGEST_METRICS.rolloutPhaseViolations).with({
                period: WEEK,
                label: 'rollout-phase violations',
              }),
            ],
            leftYAxis: { min: 0, label: 'actions per week', showUnits: false },
            width: 24,
            height: 6,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Job errors',
            left: [
              kpiJobErrorsMetric.with({ label: 'KPI job errors' }),
              driftJobErrorsMetric.with({ label: 'drift job errors' }),
              reportsJobErrorsMetric.with({ label: 'reports job errors' }),
            ],
            leftYAxis: { min: 0, showUnits: false },
            width: 8,
            height: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'Dead-letter queues (messages waiting)',
            left: [
              jobDeadLettersMetric.with({ label: 'scheduled job dead letters' }),
              flipDeadLettersMetric.with({ label: 'flip recorder dead letters' }),
            ],
            leftYAxis: { min: 0, showUnits: false },
            width: 8,
            height: 6,
          }),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: everyAlarm,
            width: 8,
            height: 6,
          }),
        ],
      ],
    });
  }
}

/** A job metric of one workflow, with the dimensions Powertools gives it (`service` and `workflowId`). */
export function jobMetric(
  metricName: string,
  workflowId: string,
  period: Duration,
  statistic: string,
  /** The legend; `null` for none (an alarm's metric). */
  label: string | null = workflowId,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: POWERTOOLS_SERVICE_NAME, [WORKFLOW_DIMENSION]: workflowId },
    period,
    statistic,
    ...(label === null ? {} : { label }),
  });
}

/**
 * Lets CloudWatch alarms named `agent-ledger-<stage>-*` of this account and region publish to the topic
 * (its policy) and use the key it is encrypted with (its key policy): without the key grant CloudWatch
 * cannot publish to a KMS-encrypted topic, and the alarms would fire into nothing. Called by the stack that
 * owns the topic and key, so the stateless stack never edits stateful resources.
 */
export function allowAlarmNotifications(topic: sns.Topic, key: kms.IKey, stage: string): void {
  const stack = Stack.of(topic);
  const alarms = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
  const conditions = {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: {
      'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${dashboardName(stage)}-*`,
    },
  };
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [alarms],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions,
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsUseKey',
      principals: [alarms],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions,
    }),
  );
}
