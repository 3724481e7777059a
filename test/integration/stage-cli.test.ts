import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfigClient, ListConfigurationProfilesCommand } from '@aws-sdk/client-appconfig';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { locateKillSwitch } from '#lib/adapters/appconfig-locate.ts';
import {
  STATEFUL_OUTPUTS,
  STATELESS_OUTPUTS,
  statefulStackName,
  statelessStackName,
} from '#lib/deployment/stacks.ts';
import { LOCAL_ENVIRONMENT } from '#lib/kill-switch/names.ts';
import { REGISTRY_PROFILE } from '#lib/registry/names.ts';
import {
  LOCAL_ARCHIVE_BUCKET,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_REPORTS_BUCKET,
  LOCAL_TABLE_NAME,
} from '#local-stack/settings.ts';
import { run } from '../../cli/main.ts';

/**
 * Every `--stage` path of the CLI, run once before any first deploy runs it: against the local services
 * wherever they can answer (DynamoDB, S3, AppConfig and AppConfigData, the API), with mocks only for what
 * no local part provides (CloudFormation's stack outputs, STS, Athena, SNS).
 */
const STAGE = 'stagetest';
const stack = inject('localStack');
const cloudFormation = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const athena = mockClient(AthenaClient);
const sns = mockClient(SNSClient);
const environment: Record<string, string> = {
  AWS_REGION: LOCAL_REGION,
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodb,
  AWS_ENDPOINT_URL_S3: stack.s3,
  AWS_ENDPOINT_URL_APPCONFIG: stack.appconfig,
  AWS_ENDPOINT_URL_APPCONFIGDATA: stack.appconfig,
  LEDGER_S3_FORCE_PATH_STYLE: 'true',
  AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  LEDGER_TOKEN: stack.token,
};
const saved: Record<string, string | undefined> = {};
const files = mkdtempSync(join(tmpdir(), 'agent-ledger-stage-'));

beforeAll(async () => {
  for (const [name, value] of Object.entries(environment)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  // The stacks' outputs, as CloudFormation would give them for a stage deployed on these services.
  const appconfig = new AppConfigClient({});
  const killSwitch = await locateKillSwitch(appconfig, LOCAL_ENVIRONMENT);
  if (!killSwitch) throw new Error('the local stack has no kill switch');
  const profiles = await appconfig.send(
    new ListConfigurationProfilesCommand({ ApplicationId: killSwitch.application }),
  );
  const registryProfile = profiles.Items?.find((item) => item.Name === REGISTRY_PROFILE)?.Id as string;
  const stateful: Record<string, string> = {
    [STATEFUL_OUTPUTS.ledgerTableName]: LOCAL_TABLE_NAME,
    [STATEFUL_OUTPUTS.archiveBucketName]: LOCAL_ARCHIVE_BUCKET,
    [STATEFUL_OUTPUTS.reportsBucketName]: LOCAL_REPORTS_BUCKET,
    [STATEFUL_OUTPUTS.killSwitchApplicationId]: killSwitch.application,
    [STATEFUL_OUTPUTS.killSwitchEnvironmentId]: killSwitch.environment,
    [STATEFUL_OUTPUTS.killSwitchProfileId]: killSwitch.profile,
    [STATEFUL_OUTPUTS.killSwitchStrategyId]: killSwitch.strategy,
    [STATEFUL_OUTPUTS.registryProfileId]: registryProfile,
    [STATEFUL_OUTPUTS.athenaWorkgroup]: `agent-ledger-${STAGE}`,
    [STATEFUL_OUTPUTS.glueDatabase]: `agent_ledger_${STAGE}`,
    [STATEFUL_OUTPUTS.driftTopicArn]: `arn:aws:sns:us-east-1:000000000000:agent-ledger-${STAGE}-drift`,
  };
  const outputs = (values: Record<string, string>) => ({
    Stacks: [
      {
        StackName: 'x',
        StackStatus: 'CREATE_COMPLETE' as const,
        CreationTime: new Date(),
        Outputs: Object.entries(values).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  cloudFormation
    .on(DescribeStacksCommand, { StackName: statefulStackName(STAGE) })
    .resolves(outputs(stateful));
  cloudFormation
    .on(DescribeStacksCommand, { StackName: statelessStackName(STAGE) })
    .resolves(outputs({ [STATELESS_OUTPUTS.apiUrl]: `${stack.api}/` }));
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::000000000000:assumed-role/oncall/alice' });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
  athena.on(GetQueryResultsCommand).resolves({
    ResultSet: {
      ResultSetMetadata: {
        ColumnInfo: [
          { Name: 'workflow_id', Type: 'varchar' },
          { Name: 'week', Type: 'varchar' },
        ],
      },
      Rows: [
        { Data: [{ VarCharValue: 'workflow_id' }, { VarCharValue: 'week' }] },
        { Data: [{ VarCharValue: 'support-triage' }, { VarCharValue: '2026-W47' }] },
      ],
    },
  });
  // The jobs' reads past the hot window, in the archive's own workgroup: nothing archived before it here.
  athena
    .on(StartQueryExecutionCommand, { WorkGroup: `agent-ledger-${STAGE}-archive` })
    .resolves({ QueryExecutionId: 'archive-q' });
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'archive-q' }).resolves({
    ResultSet: { Rows: [{ Data: [{ VarCharValue: 'path' }, { VarCharValue: 'line' }] }] },
  });
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
});

afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  cloudFormation.restore();
  sts.restore();
  athena.restore();
  sns.restore();
});

/** `agent-ledger <args> --stage stagetest` in process: its exit code, printed lines and error lines. */
async function onStage(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const error = console.error;
  console.error = (line: string) => void err.push(String(line));
  try {
    const code = await run([...args, '--stage', STAGE], (line) => void out.push(line));
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.error = error;
  }
}

describe(`the CLI with --stage, on the local services`, () => {
  it('finds the stage by its stack outputs, and names a stage that is not deployed', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: statefulStackName('missing') }).rejects(
      Object.assign(new Error('Stack with id AgentLedger-missing-Stateful does not exist'), {
        name: 'ValidationError',
      }),
    );
    const out: string[] = [];
    const err: string[] = [];
    const error = console.error;
    console.error = (line: string) => void err.push(line);
    const code = await run(['tokens', 'list', '--stage', 'missing'], (line) => void out.push(line)).finally(
      () => {
        console.error = error;
      },
    );
    expect(code).toBe(1);
    expect(err.join('\n')).toContain("Is stage 'missing' deployed");
  });

  it('tokens: create, list, revoke', async () => {
    const created = await onStage(
      'tokens',
      'create',
      '--workflows',
      'support-triage',
      '--label',
      'stage-cli',
    );
    expect(created.code, created.err).toBe(0);
    const tokenId = /alt_([0-9a-f]{16})_/.exec(created.out)?.[1] as string;
    expect(tokenId).toBeDefined();
    expect((await onStage('tokens', 'list')).out).toContain(tokenId);
    expect((await onStage('tokens', 'revoke', tokenId)).code).toBe(0);
  });

  it('access: grant, show, revoke', async () => {
    const arn = 'arn:aws:iam::123456789012:role/stage-cli-bot';
    expect((await onStage('access', 'grant', arn, '--workflows', 'code-review')).code).toBe(0);
    expect((await onStage('access', 'show', arn)).out).toContain('code-review');
    expect((await onStage('access', 'revoke', arn)).code).toBe(0);
  });

  it('prices: import, list', async () => {
    const file = join(files, 'prices.json');
    writeFileSync(
      file,
      JSON.stringify({
        effectiveFrom: '2020-01-01',
        currency: 'USD',
        models: { 'stage/cli': { inputPerMillion: 1, outputPerMillion: 2 } },
        tools: {},
        humanReviewPerHour: 1,
      }),
    );
    expect((await onStage('prices', 'import', file)).code).toBe(0);
    expect((await onStage('prices', 'list')).out).toContain('2020-01-01');
  });

  it('registry: show, and deploy says the stacks deploy it', async () => {
    const shown = await onStage('registry', 'show');
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toContain('support-triage');
    const deploy = await onStage('registry', 'deploy', 'config/workflow-registry.json');
    expect(deploy.code).not.toBe(0);
    expect(deploy.err).toContain(`cdk deploy --all -c stage=${STAGE}`);
  });

  it('kill switch: off, status, on, as the caller STS names', async () => {
    const off = await onStage('kill-switch', 'off', 'support-triage', '--reason', 'stage CLI test');
    expect(off.code, off.err).toBe(0);
    const status = await onStage('kill-switch', 'status', '--json');
    expect(status.code, status.err).toBe(0);
    const on = await onStage('kill-switch', 'on', 'support-triage', '--reason', 'stage CLI test done');
    expect(on.code, on.err).toBe(0);
    // STS names an assumed role; the ledger records the role, as it does for every SigV4 caller.
    expect(off.out + on.out).toContain('by arn:aws:iam::000000000000:role/oncall');
  });

  it('drill: off and on again through the stage API URL, recorded', async () => {
    const drill = await onStage('drill', 'code-review', '--timeout', '30');
    expect(drill.code, drill.err).toBe(0);
    expect(drill.out).toMatch(/Drill drill-\S+ passed/);
  });

  it('jobs: kpi, drift, reports', async () => {
    const kpi = await onStage('jobs', 'kpi', '--week', '2026-W47', '--workflow', 'support-triage');
    expect(kpi.code, kpi.err).toBe(0);
    expect(kpi.out).toContain('support-triage 2026-W47:');
    const drift = await onStage('jobs', 'drift', '--week', '2026-W47');
    expect(drift.code, drift.err).toBe(0);
    const reports = await onStage('jobs', 'reports', '--week', '2026-W47');
    expect(reports.code, reports.err).toBe(0);
    expect(reports.out).toContain('governance/');
    // Both read what came before the hot window in the stage's archive workgroup (Athena is mocked here).
    const archiveReads = athena
      .commandCalls(StartQueryExecutionCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.WorkGroup === `agent-ledger-${STAGE}-archive`);
    expect(archiveReads.length).toBeGreaterThan(0);
    for (const input of archiveReads)
      expect(input.QueryExecutionContext).toEqual({ Database: `agent_ledger_${STAGE}` });
  });

  it('query: runs the SQL in the stage workgroup (Athena) and prints the rows', async () => {
    const query = await onStage('query', 'SELECT workflow_id, week FROM cost_per_unit', '--json');
    expect(query.code, query.err).toBe(0);
    expect(query.out).toContain('"workflow_id":"support-triage"');
    const queries = athena
      .commandCalls(StartQueryExecutionCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.QueryString?.includes('cost_per_unit'));
    expect(queries).toEqual([
      expect.objectContaining({
        WorkGroup: `agent-ledger-${STAGE}`,
        QueryExecutionContext: { Database: `agent_ledger_${STAGE}` },
      }),
    ]);
  });

  it('evals: list', async () => {
    const list = await onStage('evals', 'list', 'support-triage');
    expect(list.code, list.err).toBe(0);
  });
});
