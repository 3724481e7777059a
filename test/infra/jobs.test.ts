import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ledgerTableDesign } from '#lib/storage/ledger-table.ts';
import { JOB_SCHEDULES } from '../../infra/constructs/scheduled-jobs.ts';
import { apiMethods, asArray, type CfnProperties, REGISTRY_VARIABLES, synthesizeLedger } from './helpers.ts';

// Prepare (once: every test reads the same synthesized stateless stack)
const { statelessTemplate: template } = synthesizeLedger();
const resources = template.toJSON().Resources as Record<string, CfnProperties>;

function idOf(type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}`).toHaveLength(1);
  return ids[0] as string;
}

const kpiJobId = idOf('AWS::Lambda::Function', 'JobsKpiJobFunction');
const driftJobId = idOf('AWS::Lambda::Function', 'JobsDriftJobFunction');
const reportsJobId = idOf('AWS::Lambda::Function', 'JobsReportsJobFunction');
const kpisId = idOf('AWS::Lambda::Function', 'KpiApiKpisFunction');
const queueId = idOf('AWS::SQS::Queue', 'JobsDeadLetters');
const groupId = idOf('AWS::Scheduler::ScheduleGroup', 'JobsGroup');

function variablesOf(functionId: string): string[] {
  return Object.keys(resources[functionId]?.Properties.Environment.Variables ?? {})
    .filter((key) => !key.startsWith('POWERTOOLS_') && key !== 'NODE_OPTIONS')
    .sort();
}

function statementsOf(rolePrefix: string): CfnProperties[] {
  const id = idOf('AWS::IAM::Policy', `${rolePrefix}RoleDefaultPolicy`);
  return resources[id]?.Properties.PolicyDocument.Statement as CfnProperties[];
}

function statementWith(statements: CfnProperties[], action: string): CfnProperties {
  const found = statements.filter((statement) => asArray<string>(statement.Action).includes(action));
  expect(found, action).toHaveLength(1);
  return found[0] as CfnProperties;
}

const actionsOf = (statements: CfnProperties[]): string[] =>
  statements.flatMap((statement) => asArray<string>(statement.Action)).sort();

/** A value the stateless stack reads from a stateful-stack output, by the output's name prefix. */
const fromStateful = (outputPrefix: string) => ({
  'Fn::GetStackOutput': expect.objectContaining({
    StackName: 'AgentLedger-dev-Stateful',
    OutputName: expect.stringMatching(`^PublishOutput${outputPrefix}`),
  }),
});

describe('ScheduledJobs: EventBridge Scheduler', () => {
  const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map(
    (schedule) => schedule as CfnProperties,
  );
  const scheduleNamed = (name: string): CfnProperties => {
    const found = schedules.find((schedule) => schedule.Properties.Name === name);
    expect(found, name).toBeDefined();
    return found as CfnProperties;
  };

  it('runs the KPI job weekly and daily, then the drift job daily, in UTC', () => {
    expect(schedules.map((schedule) => schedule.Properties.Name).sort()).toEqual([
      'drift-daily',
      'kpi-daily-recompute',
      'kpi-weekly',
      'reports-weekly',
    ]);
    expect(scheduleNamed('kpi-weekly').Properties).toMatchObject({
      ScheduleExpression: 'cron(0 2 ? * MON *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: { Arn: { 'Fn::GetAtt': [kpiJobId, 'Arn'] } },
    });
    // Weekly: the week that ended and the three before it (late reviews); daily: the week drift judges.
    expect(JSON.parse(scheduleNamed('kpi-weekly').Properties.Target.Input)).toEqual({ recomputeWeeks: 4 });
    expect(scheduleNamed('kpi-daily-recompute').Properties).toMatchObject({
      ScheduleExpression: 'cron(30 2 * * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: { Arn: { 'Fn::GetAtt': [kpiJobId, 'Arn'] }, Input: '{}' },
    });
    expect(scheduleNamed('drift-daily').Properties).toMatchObject({
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: { Arn: { 'Fn::GetAtt': [driftJobId, 'Arn'] }, Input: '{}' },
    });
    expect(scheduleNamed('reports-weekly').Properties).toMatchObject({
      ScheduleExpression: 'cron(30 3 ? * MON *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: { Arn: { 'Fn::GetAtt': [reportsJobId, 'Arn'] }, Input: '{}' },
    });
  });

  it('runs on time (no flexible window), retries delivery for an hour, then dead-letters it', () => {
    for (const schedule of schedules) {
      expect(schedule.Properties).toMatchObject({
        State: 'ENABLED',
        GroupName: 'agent-ledger-dev',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        },
      });
      expect(schedule.DependsOn).toContain(groupId);
    }
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'agent-ledger-dev' });
    expect(JOB_SCHEDULES).toHaveLength(schedules.length);
  });

  it.each([
    ['KpiJob', () => kpiJobId],
    ['DriftJob', () => driftJobId],
  ])('lets Scheduler invoke the %s only, from this account and schedule group only', (job, functionId) => {
    const roleId = idOf('AWS::IAM::Role', `Jobs${job}SchedulerRole`);
    expect(resources[roleId]?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            'aws:SourceArn': { 'Fn::GetAtt': [groupId, 'Arn'] },
          },
        },
      },
    ]);
    const statements = statementsOf(`Jobs${job}Scheduler`);
    expect(actionsOf(statements)).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
    expect(JSON.stringify(statementWith(statements, 'lambda:InvokeFunction').Resource)).not.toMatch(
      job === 'KpiJob' ? /DriftJob/ : /KpiJob/,
    );
    expect(JSON.stringify(statementWith(statements, 'lambda:InvokeFunction').Resource)).toContain(
      functionId(),
    );
    for (const schedule of schedules.filter(
      (s) => s.Properties.Target.Arn['Fn::GetAtt'][0] === functionId(),
    )) {
      expect(schedule.Properties.Target.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    }
  });

  it('dead-letters into an encrypted, TLS-only queue kept 14 days, shared with the functions', () => {
    expect(resources[queueId]?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
    for (const id of [kpiJobId, driftJobId]) {
      expect(resources[id]?.Properties.DeadLetterConfig).toEqual({
        TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      });
    }
  });
});

describe('ScheduledJobs: KPI job', () => {
  const statements = statementsOf('JobsKpiJob');

  it('runs up to 15 minutes with 2048 MB', () => {
    expect(resources[kpiJobId]?.Properties).toMatchObject({ Timeout: 900, MemorySize: 2048 });
  });

  it('is configured with the table, the archive and its queries, the reports bucket and the workflow registry, and nothing else', () => {
    expect(variablesOf(kpiJobId)).toEqual(
      [
        'ARCHIVE_BUCKET_NAME',
        'ARCHIVE_QUERY_DATABASE',
        'ARCHIVE_QUERY_WORKGROUP',
        'LEDGER_TABLE_NAME',
        'REPORTS_BUCKET_NAME',
        ...REGISTRY_VARIABLES,
      ].sort(),
    );
    expect(resources[kpiJobId]?.Properties.Environment.Variables).toMatchObject({
      LEDGER_TABLE_NAME: fromStateful('RefEventStoreLedgerTable'),
      REPORTS_BUCKET_NAME: fromStateful('RefFinanceReportsBucket'),
    });
  });

  it('queries the table and its indexes (events, price tables) and puts KPI records', () => {
    const table = statementWith(statements, 'dynamodb:Query');
    expect(asArray(table.Action).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    const resourcesText = JSON.stringify(table.Resource);
    expect(asArray(table.Resource)).toHaveLength(1 + ledgerTableDesign.globalIndexes.length);
    for (const index of ledgerTableDesign.globalIndexes) {
      expect(resourcesText).toContain(`/index/${index.indexName}`);
    }
    expect(actionsOf(statements)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/dynamodb:(Scan|UpdateItem|DeleteItem|BatchWriteItem)/)]),
    );
  });

  it('writes under cost-per-unit/ of the reports bucket, and reads or deletes nothing there', () => {
    const onReports = statements.filter((statement) =>
      JSON.stringify(statement.Resource).includes('FinanceReportsBucket'),
    );
    expect(onReports).toEqual([
      expect.objectContaining({
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [fromStateful('FnGetAttFinanceReportsBucket'), '/cost-per-unit/*']] },
      }),
    ]);
  });

  it('reads the archive (never writes it), through Athena, for what the hot window let go of', () => {
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 's3:GetObject']));
    expect(actions.filter((action) => /^s3:Delete/.test(action))).toEqual([]);
    const onArchive = statements.filter((statement) =>
      JSON.stringify(statement.Resource).includes('EventStoreArchiveBucket'),
    );
    expect(actionsOf(onArchive)).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  it('may invoke itself and no other function (a run of several weeks fans out, one workflow week each)', () => {
    const fanOutId = idOf('AWS::IAM::Policy', 'JobsKpiJobFanOut');
    const role = resources[kpiJobId]?.Properties.Role as { 'Fn::GetAtt': [string, string] };
    expect(resources[fanOutId]?.Properties).toMatchObject({
      Roles: [{ Ref: role['Fn::GetAtt'][0] }],
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [kpiJobId, 'Arn'] } },
        ],
      },
    });
    const rolesPolicies = Object.values(resources).filter(
      (resource) =>
        resource.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: role['Fn::GetAtt'][0] }]),
    );
    const invoking = rolesPolicies.filter((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('lambda:'),
    );
    expect(invoking).toEqual([resources[fanOutId]]);
    // The function must not wait for the policy that names it (a circular dependency).
    expect(asArray(resources[kpiJobId]?.DependsOn ?? [])).not.toContain(fanOutId);
  });
});

describe('ScheduledJobs: reports job', () => {
  const statements = statementsOf('JobsReportsJob');

  it('reads the archive through Athena, for the part of the quarter before the hot window', () => {
    expect(variablesOf(reportsJobId)).toEqual(
      expect.arrayContaining(['ARCHIVE_BUCKET_NAME', 'ARCHIVE_QUERY_DATABASE', 'ARCHIVE_QUERY_WORKGROUP']),
    );
    expect(resources[reportsJobId]?.Properties.Environment.Variables.ARCHIVE_QUERY_WORKGROUP).toBe(
      'agent-ledger-dev-archive',
    );
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 's3:GetObject']));
    // Reads only: it writes its reports and Athena's results (under their prefixes), nothing to the archive.
    expect(actions.filter((action) => /^s3:Delete|^glue:(Create|Update|Delete)/.test(action))).toEqual([]);
    const puts = statements
      .filter((statement) => asArray<string>(statement.Action).includes('s3:PutObject'))
      .map((statement) => JSON.stringify(statement.Resource));
    expect(puts).toHaveLength(2);
    expect(puts.find((resource) => resource.includes('/governance/*'))).toBeDefined();
    expect(puts.find((resource) => resource.includes('/archive-reads/*'))).toBeDefined();
  });
});

describe('ScheduledJobs: drift job', () => {
  const statements = statementsOf('JobsDriftJob');

  it('is configured with the table, the kill switch (to flip), the drift topic and the workflow registry', () => {
    expect(variablesOf(driftJobId)).toEqual(
      [
        'DRIFT_TOPIC_ARN',
        'FLAG_POLL_SECONDS',
        'KILL_SWITCH_PROFILE_ID',
        'KILL_SWITCH_STRATEGY_ID',
        'LEDGER_TABLE_NAME',
        ...REGISTRY_VARIABLES,
      ].sort(),
    );
    expect(resources[driftJobId]?.Properties.Environment.Variables.DRIFT_TOPIC_ARN).toEqual(
      fromStateful('RefDriftNotificationsTopic'),
    );
  });

  it('publishes to the drift topic only, using its key through SNS only', () => {
    expect(statementWith(statements, 'sns:Publish')).toEqual({
      Effect: 'Allow',
      Action: 'sns:Publish',
      Resource: fromStateful('RefDriftNotificationsTopic'),
    });
    expect(statementWith(statements, 'kms:GenerateDataKey')).toEqual({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: fromStateful('FnGetAttDriftNotificationsKey'),
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Join': ['', ['sns.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        },
      },
    });
  });

  it('reads KPI records, writes nothing to the table, and can flip the kill switch', () => {
    const actions = actionsOf(statements);
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions).toEqual(
      expect.arrayContaining(['appconfig:CreateHostedConfigurationVersion', 'appconfig:StartDeployment']),
    );
    expect(actions.filter((action) => action.startsWith('s3:'))).toEqual([]);
  });
});

describe('KpiApi: GET /v1/workflows/{workflowId}/kpis', () => {
  const methods = apiMethods(template);
  const [authorizerId] = Object.keys(template.findResources('AWS::ApiGateway::Authorizer'));
  const integrationOf = (route: string): string => JSON.stringify(methods.get(route)?.Integration?.Uri ?? '');

  it('is served with the token authorizer under /v1 and with IAM under /iam/v1', () => {
    expect(methods.get('GET /v1/workflows/{workflowId}/kpis')).toMatchObject({
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
    });
    expect(methods.get('GET /iam/v1/workflows/{workflowId}/kpis')?.AuthorizationType).toBe('AWS_IAM');
    expect(methods.get('GET /iam/v1/workflows/{workflowId}/kpis')?.AuthorizerId).toBeUndefined();
  });

  it('requires the workflowId, takes an optional week, and proxies to the kpis function', () => {
    for (const route of ['GET /v1/workflows/{workflowId}/kpis', 'GET /iam/v1/workflows/{workflowId}/kpis']) {
      expect(methods.get(route)).toMatchObject({
        RequestValidatorId: { Ref: expect.stringMatching(/RequestValidator/) },
        RequestParameters: {
          'method.request.path.workflowId': true,
          'method.request.querystring.week': false,
        },
        Integration: { Type: 'AWS_PROXY' },
      });
      expect(integrationOf(route)).toContain(kpisId);
    }
  });

  it('reads the table and the workflow registry, and nothing else', () => {
    expect(variablesOf(kpisId)).toEqual(['LEDGER_TABLE_NAME', ...REGISTRY_VARIABLES].sort());
    const actions = actionsOf(statementsOf('KpiApiKpis'));
    expect(actions.filter((action) => !/^(logs|xray|kms):/.test(action))).toEqual([
      'appconfig:GetLatestConfiguration',
      'appconfig:StartConfigurationSession',
      'dynamodb:BatchGetItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    expect(resources[kpisId]?.Properties.Timeout).toBeLessThan(29);
  });
});
