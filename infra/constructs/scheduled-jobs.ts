import { Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { functionEntry } from '../paths.ts';
import { deadLetterQueue } from './dead-letter-queue.ts';
import type { ArchiveQueryIds } from './finance.ts';
import type { KillSwitchIds } from './kill-switch.ts';
import { LedgerFunction } from './ledger-function.ts';

/**
 * How many weeks the weekly run computes (the week that ended and the ones before it), so late reviews land
 * in the KPIs (SPEC "KPIs"). The daily run recomputes only the last complete week, the one drift judges:
 * each run reads its weeks' events again, and that read is most of the ledger's own read cost (issue 12).
 */
export const RECOMPUTE_WEEKS = 4;

/** One job run on a schedule: which job, when (UTC), with what input. */
export interface JobSchedule {
  readonly name: string;
  readonly job: 'kpi' | 'drift' | 'reports';
  readonly description: string;
  readonly cron: scheduler.CronOptionsWithTimezone;
  readonly input: Record<string, unknown>;
}

/**
 * The weekly KPI run computes the week that ended at Monday 00:00 UTC; the daily run recomputes the last
 * weeks; the drift job judges the last complete week after both, from the recomputed figures.
 */
export const JOB_SCHEDULES: readonly JobSchedule[] = [
  {
    name: 'kpi-weekly',
    job: 'kpi',
    description: `Agent Ledger: KPIs and cost-per-unit reports of the week that just ended and the ${RECOMPUTE_WEEKS - 1} before it, for late reviews (Monday 02:00 UTC)`,
    cron: { weekDay: 'MON', hour: '2', minute: '0', timeZone: TimeZone.ETC_UTC },
    input: { recomputeWeeks: RECOMPUTE_WEEKS },
  },
  {
    name: 'kpi-daily-recompute',
    job: 'kpi',
    description:
      'Agent Ledger: recomputes the last complete week, the one drift judges, with the reviews that came since (daily 02:30 UTC)',
    cron: { hour: '2', minute: '30', timeZone: TimeZone.ETC_UTC },
    input: {},
  },
  {
    name: 'drift-daily',
    job: 'drift',
    description: 'Agent Ledger: pauses autonomous lanes whose defect rate drifted (daily 03:00 UTC)',
    cron: { hour: '3', minute: '0', timeZone: TimeZone.ETC_UTC },
    input: {},
  },
  {
    name: 'reports-weekly',
    job: 'reports',
    description:
      'Agent Ledger: the weekly Agent Ops Review, monthly and quarterly reviews and runbooks (Monday 03:30 UTC)',
    cron: { weekDay: 'MON', hour: '3', minute: '30', timeZone: TimeZone.ETC_UTC },
    input: {},
  },
];

/**
 * Scheduler delivery: retried for up to an hour (throttling, a Lambda service error), then dead-lettered
 * so a missed run is visible the same morning. The function's own failures are Lambda's to retry.
 */
export const SCHEDULE_RETRY = { retryAttempts: 5, maxEventAge: Duration.hours(1) } as const;

export interface ScheduledJobsProps {
  /** Names the schedule group (schedule names are unique per group). */
  readonly stageName: string;
  readonly table: dynamodb.ITable;
  /** From the stateful stack: the raw event archive, and how to query it (reads past the hot window). */
  readonly archiveBucket: s3.IBucket;
  readonly archiveQueries: ArchiveQueryIds;
  /** From the stateful stack: where the KPI job writes the cost-per-unit Parquet. */
  readonly reportsBucket: s3.IBucket;
  /** From the stateful stack: where the drift job tells operators it paused a lane. */
  readonly driftTopic: sns.ITopic;
  /** From the stateful stack: the drift job flips a drifted lane off. */
  readonly killSwitch: KillSwitchIds;
}

/**
 * The KPI job (`functions/kpi-job`) and the drift job (`functions/drift-job`), run by EventBridge Scheduler
 * in UTC. Scheduler invokes asynchronously, so a run that still fails after Lambda's two retries, and a
 * delivery Scheduler gave up on, both land in one dead-letter queue for an operator to inspect and replay.
 */
export class ScheduledJobs extends Construct {
  public readonly kpiJob: LedgerFunction;
  public readonly driftJob: LedgerFunction;
  public readonly reportsJob: LedgerFunction;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly group: scheduler.ScheduleGroup;
  public readonly schedules: ReadonlyMap<string, scheduler.Schedule>;

  constructor(scope: Construct, id: string, props: ScheduledJobsProps) {
    super(scope, id);

    this.deadLetterQueue = deadLetterQueue(
      this,
      'DeadLetters',
      'runs of the KPI, drift and reports jobs and deliveries of their schedules that failed every retry, for an operator to inspect and run again (agent-ledger jobs kpi|drift|reports)',
    );

    this.kpiJob = new LedgerFunction(this, 'KpiJob', {
      entry: functionEntry('kpi-job'),
      description:
        'Agent Ledger: weekly KPIs and cost-per-unit reports per workflow, recomputed daily for late reviews (scheduled)',
      memorySize: 2048,
      // Lambda's maximum: a workflow's week is read in full (a run of several fans out, one week each).
      timeout: Duration.minutes(15),
      deadLetterQueue: this.deadLetterQueue,
    })
      .useLedgerTable(props.table, 'readWrite')
      // Units started before the index's hot window, and weeks recomputed after it: read in the archive.
      .useArchiveBucket(props.archiveBucket, 'read')
      .useArchiveQueries(props.archiveQueries)
      .useReportsBucket(props.reportsBucket);
    // A run of several weeks or workflows hands each workflow's week to an invocation of its own
    // (functions/kpi-job), so no run has more than one week of one workflow to read in its 15 minutes.
    // A policy of its own, not the role's default one: the function waits for that, and this names the function.
    new iam.Policy(this, 'KpiJobFanOut', {
      roles: [this.kpiJob.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [this.kpiJob.function.functionArn],
        }),
      ],
    });

    this.driftJob = new LedgerFunction(this, 'DriftJob', {
      entry: functionEntry('drift-job'),
      description:
        'Agent Ledger: pauses the autonomous lane of a workflow whose defect rate drifted, and notifies operators (scheduled)',
      memorySize: 512,
      // A flip per drifted workflow, each waiting for its AppConfig deployment (at most 20 s).
      timeout: Duration.minutes(5),
      deadLetterQueue: this.deadLetterQueue,
    })
      .useLedgerTable(props.table, 'read')
      .useKillSwitch(props.killSwitch, 'write')
      .useDriftTopic(props.driftTopic);

    this.reportsJob = new LedgerFunction(this, 'ReportsJob', {
      entry: functionEntry('reports-job'),
      description:
        'Agent Ledger: governance reports (weekly Agent Ops Review, monthly Autonomy + Risk, quarterly Vendor/Model) and runbooks (scheduled)',
      memorySize: 2048,
      // The quarterly review reads the quarter's events so far (up to 13 weeks per workflow).
      timeout: Duration.minutes(15),
      deadLetterQueue: this.deadLetterQueue,
    })
      .useLedgerTable(props.table, 'read')
      // The quarterly review reads the quarter so far: what came before the index's hot window, in the archive.
      .useArchiveBucket(props.archiveBucket, 'read')
      .useArchiveQueries(props.archiveQueries)
      .useReportsBucket(props.reportsBucket, { put: 'governance/' })
      .useKillSwitch(props.killSwitch, 'read');
    this.reportsJob.function.addEnvironment(FUNCTION_ENV.stage, props.stageName);

    this.group = new scheduler.ScheduleGroup(this, 'Group', {
      scheduleGroupName: `agent-ledger-${props.stageName}`,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const jobs = { kpi: this.kpiJob, drift: this.driftJob, reports: this.reportsJob };
    const roles = {
      kpi: this.schedulerRole('KpiJobSchedulerRole', 'the KPI job'),
      drift: this.schedulerRole('DriftJobSchedulerRole', 'the drift job'),
      reports: this.schedulerRole('ReportsJobSchedulerRole', 'the reports job'),
    };
    const schedules = new Map<string, scheduler.Schedule>();
    for (const entry of JOB_SCHEDULES) {
      const schedule = new scheduler.Schedule(this, `Schedule-${entry.name}`, {
        scheduleName: entry.name,
        scheduleGroup: this.group,
        description: entry.description,
        schedule: scheduler.ScheduleExpression.cron(entry.cron),
        timeWindow: scheduler.TimeWindow.off(),
        target: new targets.LambdaInvoke(jobs[entry.job].function, {
          role: roles[entry.job],
          input: scheduler.ScheduleTargetInput.fromObject(entry.input),
          deadLetterQueue: this.deadLetterQueue,
          ...SCHEDULE_RETRY,
        }),
      });
      // The group is named literally, so CloudFormation would not know to create it first.
      schedule.node.addDependency(this.group);
      schedules.set(entry.name, schedule);
    }
    this.schedules = schedules;

    for (const [job, role] of Object.entries(roles) as ['kpi' | 'drift' | 'reports', iam.Role][]) {
      this.acknowledgeInvokeGrant(role, jobs[job]);
    }
  }

  /** Assumable by EventBridge Scheduler only, for schedules of this account's group only (confused deputy). */
  private schedulerRole(id: string, what: string): iam.Role {
    const stack = Stack.of(this);
    return new iam.Role(this, id, {
      description: `Lets EventBridge Scheduler invoke ${what} (schedule group ${this.group.scheduleGroupName})`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': this.group.scheduleGroupArn,
          },
        },
      }),
    });
  }

  /** The LambdaInvoke target grants through grantInvoke, which also names "<function ARN>:*". */
  private acknowledgeInvokeGrant(role: iam.Role, job: LedgerFunction): void {
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (!policy) return;
    const functionId = Stack.of(this).getLogicalId(job.function.node.defaultChild as lambda.CfnFunction);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason:
        'aws-cdk-lib\'s LambdaInvoke schedule target grants lambda:InvokeFunction through grantInvoke, which also names the function\'s versions and aliases ("<function ARN>:*"); the role can invoke this one job function only, and the function publishes no version or alias.',
    });
  }
}
