import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { defineLedgerApp } from '../../infra/ledger-app.ts';
import { cdkJsonContext, SKIP_BUNDLING } from './helpers.ts';

/** The app exactly as `infra/app.ts` builds it: cdk-nag's AwsSolutions and Serverless packs on. */
function appWithNag(): App {
  const app = new App({
    context: {
      ...cdkJsonContext(),
      ...SKIP_BUNDLING,
      // Flip policies attached to principals, so their attachments are checked too
      killSwitchFlippers: { 'support-triage': ['arn:aws:iam::111122223333:role/oncall'] },
    },
  });
  defineLedgerApp(app);
  return app;
}

interface PluginReport {
  pluginName: string;
  violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
}

describe('cdk-nag on the whole app', () => {
  it('synthesizes with no unacknowledged finding: no error (which would throw) and no warning', () => {
    // Prepare
    const app = appWithNag();

    // Act: with an unacknowledged error, synth throws and its message is cdk-nag's report
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));

    // Assess: warnings do not fail a synth, so they are read from the validation report
    const findings = (report.pluginReports as PluginReport[]).flatMap((plugin) =>
      plugin.violations.map(
        (violation) =>
          `${plugin.pluginName} ${violation.severity} ${violation.ruleName} at ${violation.violatingConstructs.map((c) => c.constructPath).join(', ')}`,
      ),
    );
    expect(findings).toEqual([]);
  });

  it('fails the synth on an unacknowledged error, so the test above cannot pass by not running cdk-nag', () => {
    // Prepare: a bucket without access logs or a TLS-only policy
    const app = appWithNag();
    new s3.Bucket(new Stack(app, 'Canary'), 'PlainBucket');

    // Act / Assess
    expect(() => app.synth()).toThrow(/Canary\/PlainBucket\/Resource[\s\S]*AwsSolutions-S1'/);
  });

  it('acknowledges exactly these findings, each with its own specific reason', () => {
    // Prepare
    const app = appWithNag();

    // Act: acknowledgments of wildcard object ARNs are recorded during synth, after references resolve
    app.synth();
    const acknowledgments = app.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
        .map(([id, reason]) => ({
          id: id
            .replace(/^Annotation::/i, '')
            .replace(/Resource::\{.*\}\/raw\/\*/, 'Resource::<archive bucket>/raw/*')
            .replace(
              /Resource::arn:.*\/hostedconfigurationversion\/\*/,
              'Resource::<kill-switch profile>/hostedconfigurationversion/*',
            )
            .replace(/Resource::\{.*\}\/governance\/\*/, 'Resource::<reports bucket>/governance/*')
            .replace(/Resource::arn:.*\/deployment\/\*/, 'Resource::<kill-switch environment>/deployment/*')
            .replace(/Resource::<KillSwitchSyncFunction[0-9A-F]{8}\.Arn>:\*/, 'Resource::<sync function>:*')
            .replace(
              /Resource::\{.*FinanceReportsBucket.*\}\/cost-per-unit\/\*/,
              'Resource::<reports bucket>/cost-per-unit/*',
            )
            .replace(
              /Resource::<FinanceReportsBucket[0-9A-F]{8}\.Arn>\/cost-per-unit\/\*/,
              'Resource::<reports bucket>/cost-per-unit/*',
            )
            .replace(/Resource::\{.*FinanceReportsBucket.*\}\/\*\]$/, 'Resource::<reports bucket>/*]')
            .replace(
              /Resource::\{.*FinanceAthenaResultsBucket.*\}\/archive-reads\/\*/,
              'Resource::<Athena results bucket>/archive-reads/*',
            )
            .replace(
              /Resource::<FinanceAthenaResultsBucket[0-9A-F]{8}\.Arn>\/\*/,
              'Resource::<Athena results bucket>/*',
            )
            .replace(
              /Resource::<Jobs(Kpi|Drift|Reports)JobFunction[0-9A-F]{8}\.Arn>:\*/,
              'Resource::<$1 job function>:*',
            ),
          at: construct.node.path.replace(/^AgentLedger-dev-/, ''),
          reason,
        })),
    );

    // Assess
    expect(acknowledgments.map(({ id, at }) => `${id} @ ${at}`).sort()).toEqual(
      [
        'AwsSolutions-S1 @ Stateful/EventStore/AccessLogBucket',
        'AwsSolutions-SMG4 @ Stateful/EventStore/ActorHashKey',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs] @ Stateless/IngestApi/Api/CloudWatchRole',
        'AwsSolutions-APIG3 @ Stateless/IngestApi/Api/DeploymentStage.dev',
        'AwsSolutions-APIG4 @ Stateless/IngestApi/Api/Default/healthz/GET',
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/healthz/GET',
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/v1/events/POST',
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/v1/workflows/{workflowId}/events/GET',
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/iam/v1/events/POST',
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/iam/v1/workflows/{workflowId}/events/GET',
        // OTLP traces, beside the events
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/v1/traces/POST',
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/iam/v1/traces/POST',
        ...[
          'IngestApi/Ingest',
          'IngestApi/Traces',
          'IngestApi/ReadEvents',
          'IngestApi/Healthz',
          'IngestApi/Authorizer',
          'KillSwitchApi/Autonomy',
          'KillSwitchApi/KillSwitch',
        ].flatMap((fn) => [
          `AwsSolutions-IAM5[Resource::*] @ Stateless/${fn}/Role/DefaultPolicy`,
          `Serverless-LambdaDLQ @ Stateless/${fn}/Function`,
        ]),
        'AwsSolutions-IAM5[Resource::<archive bucket>/raw/*] @ Stateless/IngestApi/Ingest/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<archive bucket>/raw/*] @ Stateless/IngestApi/Traces/Role/DefaultPolicy',
        // Reads past the hot window, and ingest's idempotency past it: the archive, read by Athena with the
        // function's credentials (a second grant on raw/*, to read), and the archive workgroup's results
        'AwsSolutions-IAM5[Resource::<archive bucket>/raw/*] @ Stateless/IngestApi/Ingest/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<archive bucket>/raw/*] @ Stateless/IngestApi/Traces/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<archive bucket>/raw/*] @ Stateless/IngestApi/ReadEvents/Role/DefaultPolicy',
        ...['Ingest', 'Traces', 'ReadEvents'].map(
          (fn) =>
            `AwsSolutions-IAM5[Resource::<Athena results bucket>/archive-reads/*] @ Stateless/IngestApi/${fn}/Role/DefaultPolicy`,
        ),
        // The kill switch (test/infra/kill-switch.test.ts)
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/v1/workflows/{workflowId}/autonomy/GET',
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/iam/v1/workflows/{workflowId}/autonomy/GET',
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/iam/v1/workflows/{workflowId}/kill-switch/POST',
        ...['KillSwitchApi/KillSwitch', 'FlipRecorder/Function'].flatMap((fn) => [
          `AwsSolutions-IAM5[Resource::<kill-switch profile>/hostedconfigurationversion/*] @ Stateless/${fn}/Role/DefaultPolicy`,
          `AwsSolutions-IAM5[Resource::<kill-switch environment>/deployment/*] @ Stateless/${fn}/Role/DefaultPolicy`,
        ]),
        // Its flags, synced with the registry by a custom resource (test/infra/kill-switch.test.ts)
        'AwsSolutions-IAM5[Resource::*] @ Stateful/KillSwitch/Sync/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<kill-switch profile>/hostedconfigurationversion/*] @ Stateful/KillSwitch/Sync/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<kill-switch environment>/deployment/*] @ Stateful/KillSwitch/Sync/Role/DefaultPolicy',
        'Serverless-LambdaDLQ @ Stateful/KillSwitch/Sync/Function',
        'AwsSolutions-IAM5[Resource::<sync function>:*] @ Stateful/KillSwitch/SyncProviderRole/DefaultPolicy',
        'Serverless-LambdaDLQ @ Stateful/KillSwitch/SyncProvider/framework-onEvent',
        'Serverless-LambdaDefaultMemorySize @ Stateful/KillSwitch/SyncProvider/framework-onEvent',
        'Serverless-LambdaTracing @ Stateful/KillSwitch/SyncProvider/framework-onEvent',
        'AwsSolutions-IAM5[Resource::*] @ Stateless/FlipRecorder/Function/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<archive bucket>/raw/*] @ Stateless/FlipRecorder/Function/Role/DefaultPolicy',
        'Serverless-SQSRedrivePolicy @ Stateless/FlipRecorder/DeadLetters',
        // Finance on Athena (test/infra/finance.test.ts)
        'AwsSolutions-IAM5[Resource::<reports bucket>/cost-per-unit/*] @ Stateful/Finance/ReadPolicy',
        'AwsSolutions-IAM5[Resource::<Athena results bucket>/*] @ Stateful/Finance/ReadPolicy',
        // The KPI route and the scheduled KPI and drift jobs (test/infra/jobs.test.ts)
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/v1/workflows/{workflowId}/kpis/GET',
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/iam/v1/workflows/{workflowId}/kpis/GET',
        ...['KpiApi/Kpis', 'Jobs/KpiJob', 'Jobs/DriftJob'].map(
          (fn) => `AwsSolutions-IAM5[Resource::*] @ Stateless/${fn}/Role/DefaultPolicy`,
        ),
        'Serverless-LambdaDLQ @ Stateless/KpiApi/Kpis/Function',
        'AwsSolutions-IAM5[Resource::<reports bucket>/cost-per-unit/*] @ Stateless/Jobs/KpiJob/Role/DefaultPolicy',
        // Units started before the hot window, and weeks recomputed after it, read in the archive
        'AwsSolutions-IAM5[Resource::<archive bucket>/raw/*] @ Stateless/Jobs/KpiJob/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<Athena results bucket>/archive-reads/*] @ Stateless/Jobs/KpiJob/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<kill-switch profile>/hostedconfigurationversion/*] @ Stateless/Jobs/DriftJob/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<kill-switch environment>/deployment/*] @ Stateless/Jobs/DriftJob/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<Kpi job function>:*] @ Stateless/Jobs/KpiJobSchedulerRole/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<Drift job function>:*] @ Stateless/Jobs/DriftJobSchedulerRole/DefaultPolicy',
        'Serverless-SQSRedrivePolicy @ Stateless/Jobs/DeadLetters',
        // The governance reports job
        'AwsSolutions-IAM5[Resource::*] @ Stateless/Jobs/ReportsJob/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<Reports job function>:*] @ Stateless/Jobs/ReportsJobSchedulerRole/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<reports bucket>/governance/*] @ Stateless/Jobs/ReportsJob/Role/DefaultPolicy',
        // Its quarterly review reads what came before the hot window from the archive, through Athena
        'AwsSolutions-IAM5[Resource::<archive bucket>/raw/*] @ Stateless/Jobs/ReportsJob/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<Athena results bucket>/archive-reads/*] @ Stateless/Jobs/ReportsJob/Role/DefaultPolicy',
        // The review queue route
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/v1/workflows/{workflowId}/reviews/GET',
        'AwsSolutions-COG4 @ Stateless/IngestApi/Api/Default/iam/v1/workflows/{workflowId}/reviews/GET',
        'AwsSolutions-IAM5[Resource::*] @ Stateless/ReviewApi/Reviews/Role/DefaultPolicy',
        'Serverless-LambdaDLQ @ Stateless/ReviewApi/Reviews/Function',
        // The console (test/infra/console.test.ts): its pages check their own session cookie
        ...[
          '',
          'sign-in/',
          'sign-in/callback/',
          'reviews/',
          'units/',
          'units/{workflowId}/{unitId}/',
          'kill-switch/',
          'reports/',
          'reports/{key+}/',
          'incidents/',
          'incidents/{incidentId}/',
          'console.js/',
        ].flatMap((path) =>
          ['AwsSolutions-APIG4', 'AwsSolutions-COG4'].map(
            (id) => `${id} @ Stateless/IngestApi/Api/Default/${path}GET`,
          ),
        ),
        ...[
          'sign-in/',
          'sign-out/',
          'units/{workflowId}/{unitId}/',
          'kill-switch/{flag}/',
          'kill-switch/{flag}/drill/',
          'incidents/{incidentId}/postmortem/',
        ].flatMap((path) =>
          ['AwsSolutions-APIG4', 'AwsSolutions-COG4'].map(
            (id) => `${id} @ Stateless/IngestApi/Api/Default/${path}POST`,
          ),
        ),
        'AwsSolutions-COG8 @ Stateful/ConsoleUsers/UserPool',
        'AwsSolutions-SMG4 @ Stateless/Console/SessionKey',
        'AwsSolutions-IAM5[Resource::*] @ Stateless/Console/Function/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<archive bucket>/raw/*] @ Stateless/Console/Function/Role/DefaultPolicy',
        // A unit older than the hot window is read in the archive: a second grant on raw/*, to read, and Athena's results
        'AwsSolutions-IAM5[Resource::<archive bucket>/raw/*] @ Stateless/Console/Function/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<Athena results bucket>/archive-reads/*] @ Stateless/Console/Function/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<reports bucket>/*] @ Stateless/Console/Function/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<kill-switch profile>/hostedconfigurationversion/*] @ Stateless/Console/Function/Role/DefaultPolicy',
        'AwsSolutions-IAM5[Resource::<kill-switch environment>/deployment/*] @ Stateless/Console/Function/Role/DefaultPolicy',
        'Serverless-LambdaDLQ @ Stateless/Console/Function/Function',
      ].sort(),
    );
    for (const { reason } of acknowledgments) {
      expect(reason.length).toBeGreaterThan(100);
    }
  });
});
