import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { STATELESS_OUTPUTS } from '#lib/deployment/stacks.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { LedgerConfig } from '../config.ts';
import { LedgerConsole } from '../constructs/console.ts';
import { dashboardName, LedgerDashboard } from '../constructs/dashboard.ts';
import type { EventStore } from '../constructs/event-store.ts';
import type { ArchiveQueryIds } from '../constructs/finance.ts';
import { FlipRecorder } from '../constructs/flip-recorder.ts';
import { IngestApi } from '../constructs/ingest-api.ts';
import type { KillSwitchIds } from '../constructs/kill-switch.ts';
import { KillSwitchApi } from '../constructs/kill-switch-api.ts';
import { KpiApi } from '../constructs/kpi-api.ts';
import { ReviewApi } from '../constructs/review-api.ts';
import { ScheduledJobs } from '../constructs/scheduled-jobs.ts';
import type { WorkflowRegistryIds } from '../constructs/workflow-registry.ts';

export interface StatelessStackProps extends StackProps {
  readonly config: LedgerConfig;
  /** From the stateful stack: referenced, never owned, by this one. */
  readonly eventStore: EventStore;
  /** From the stateful stack: referenced, never owned, by this one. */
  readonly killSwitch: KillSwitchIds;
  /** From the stateful stack: the workflow registry's AppConfig profile, read by every handler that needs it. */
  readonly registry: WorkflowRegistryIds;
  /** From the stateful stack: the finance reports the KPI job writes. */
  readonly reportsBucket: s3.IBucket;
  /** From the stateful stack: Athena over the event archive (reads past the index's hot window). */
  readonly archiveQueries: ArchiveQueryIds;
  /** From the stateful stack: where the drift job and every alarm notify operators. */
  readonly driftTopic: sns.ITopic;
  /** From the stateful stack: the people who sign in to the console. */
  readonly consoleUserPool: cognito.IUserPool;
  /** The registered workflows: each gets a flip policy, next to the master flag's, and dashboard widgets. */
  readonly workflowIds: readonly string[];
}

/**
 * Code, APIs, schedules, the dashboard and alarms, and the console with its sign-in settings (the user
 * pool's app client and managed login domain) and session key: safe to redeploy, replace or destroy at any time. */
export class StatelessStack extends Stack {
  public readonly ingestApi: IngestApi;
  public readonly killSwitchApi: KillSwitchApi;
  public readonly flipRecorder: FlipRecorder;
  public readonly kpiApi: KpiApi;
  public readonly reviewApi: ReviewApi;
  public readonly console: LedgerConsole;
  public readonly jobs: ScheduledJobs;
  public readonly dashboard: LedgerDashboard;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config, eventStore, killSwitch } = props;

    this.ingestApi = new IngestApi(this, 'IngestApi', {
      stageName: config.stage,
      table: eventStore.table,
      archiveBucket: eventStore.archiveBucket,
      actorHashKey: eventStore.actorHashKey,
      archiveQueries: props.archiveQueries,
      throttle: config.throttle,
      manageAccountCloudWatchRole: config.manageApiGatewayAccountRole,
    });

    this.killSwitchApi = new KillSwitchApi(this, 'KillSwitchApi', {
      ingestApi: this.ingestApi,
      stageName: config.stage,
      table: eventStore.table,
      killSwitch,
      workflowIds: props.workflowIds,
      flippers: config.killSwitchFlippers,
    });

    this.flipRecorder = new FlipRecorder(this, 'FlipRecorder', {
      stageName: config.stage,
      table: eventStore.table,
      archiveBucket: eventStore.archiveBucket,
      actorHashKey: eventStore.actorHashKey,
      killSwitch,
    });

    this.kpiApi = new KpiApi(this, 'KpiApi', { ingestApi: this.ingestApi, table: eventStore.table });
    this.reviewApi = new ReviewApi(this, 'ReviewApi', { ingestApi: this.ingestApi, table: eventStore.table });

    this.console = new LedgerConsole(this, 'Console', {
      ingestApi: this.ingestApi,
      stageName: config.stage,
      userPool: props.consoleUserPool,
      table: eventStore.table,
      archiveBucket: eventStore.archiveBucket,
      archiveQueries: props.archiveQueries,
      actorHashKey: eventStore.actorHashKey,
      reportsBucket: props.reportsBucket,
      killSwitch,
    });

    this.jobs = new ScheduledJobs(this, 'Jobs', {
      stageName: config.stage,
      table: eventStore.table,
      archiveBucket: eventStore.archiveBucket,
      archiveQueries: props.archiveQueries,
      reportsBucket: props.reportsBucket,
      driftTopic: props.driftTopic,
      killSwitch,
    });

    // Every handler that looks a workflow up reads the deployed registry (healthz and the authorizer do not).
    for (const fn of [
      this.ingestApi.functions.ingest,
      this.ingestApi.functions.traces,
      this.ingestApi.functions.readEvents,
      this.killSwitchApi.functions.autonomy,
      this.killSwitchApi.functions.killSwitch,
      this.flipRecorder.function,
      this.kpiApi.function,
      this.reviewApi.function,
      this.console.function,
      this.jobs.kpiJob,
      this.jobs.driftJob,
      this.jobs.reportsJob,
    ]) {
      fn.useRegistry(props.registry);
    }

    this.dashboard = new LedgerDashboard(this, 'Dashboard', {
      stageName: config.stage,
      workflowIds: props.workflowIds,
      ingestApi: this.ingestApi,
      jobs: this.jobs,
      flipRecorderDeadLetters: this.flipRecorder.deadLetterQueue,
      alarmTopic: props.driftTopic,
    });

    // One hot window for every function that writes or reads the index, when the deployment sets one.
    if (config.hotIndexDays !== undefined) {
      for (const node of this.node.findAll()) {
        if (node instanceof lambda.Function) {
          node.addEnvironment(FUNCTION_ENV.hotIndexDays, String(config.hotIndexDays));
        }
      }
    }

    new CfnOutput(this, STATELESS_OUTPUTS.apiUrl, {
      value: this.ingestApi.apiUrl,
      description: 'Base URL of the ledger API (ends in /): append v1/events, healthz, …',
    });
    new CfnOutput(this, STATELESS_OUTPUTS.consoleUrl, {
      value: this.console.url,
      description:
        'The console (reviews, units, kill switch, reports): open it in a browser and sign in with the console user pool',
    });
    new CfnOutput(this, STATELESS_OUTPUTS.dashboardName, {
      value: dashboardName(config.stage),
      description:
        'CloudWatch dashboard (console: CloudWatch > Dashboards): weekly cost per unit and defect rate per workflow, ingest errors, drift pauses, alarms',
    });
    for (const [workflowId, policy] of this.killSwitchApi.flipPolicies) {
      new CfnOutput(this, `${STATELESS_OUTPUTS.flipPolicyArnPrefix}${pascalCase(workflowId)}`, {
        value: policy.managedPolicyArn,
        description: `IAM managed policy that allows flipping the kill switch of ${workflowId === MASTER_FLAG ? 'every autonomous lane (the master flag)' : workflowId}: attach it to whoever may`,
      });
    }
  }
}

/** `support-triage` → `SupportTriage`: output IDs allow letters and digits only. */
export function pascalCase(id: string): string {
  return id
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
