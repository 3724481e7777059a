import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, parsePrincipalArn, readLedgerConfig } from '../../infra/config.ts';
import { synthesizeLedger } from './helpers.ts';

const ONCALL = 'arn:aws:iam::111122223333:role/ops/oncall';
const RELEASE_BOT = 'arn:aws:iam::111122223333:user/release-bot';

describe('LedgerConfig', () => {
  it('defaults to stage dev, rate 500, burst 1000 and a managed API Gateway account role', () => {
    expect(readLedgerConfig(new App())).toEqual({
      stage: 'dev',
      throttle: { rateLimit: 500, burstLimit: 1000 },
      manageApiGatewayAccountRole: true,
      killSwitchFlippers: {},
    });
  });

  it('reads overrides given as strings, the way `cdk -c key=value` passes them', () => {
    // Prepare
    const app = new App({
      context: {
        stage: 'prod',
        throttleRateLimit: '50',
        throttleBurstLimit: '80',
        apiGatewayCloudWatchRole: 'false',
        killSwitchFlippers: `{"support-triage":["${ONCALL}","${ONCALL}","${RELEASE_BOT}"],"allAutonomousLanes":["${ONCALL}"]}`,
        hotIndexDays: '60',
      },
    });

    // Act
    const config = readLedgerConfig(app);

    // Assess
    expect(config).toEqual({
      stage: 'prod',
      throttle: { rateLimit: 50, burstLimit: 80 },
      manageApiGatewayAccountRole: false,
      killSwitchFlippers: { 'support-triage': [ONCALL, RELEASE_BOT], allAutonomousLanes: [ONCALL] },
      hotIndexDays: 60,
    });
  });

  it.each([
    [{ stage: 'Prod_1' }, /context "stage" is "Prod_1"/],
    [{ throttleRateLimit: 'fast' }, /context "throttleRateLimit" is "fast": use a positive integer/],
    [{ throttleBurstLimit: 0 }, /context "throttleBurstLimit" is "0"/],
    [{ apiGatewayCloudWatchRole: 'yes' }, /use true or false/],
    [
      { hotIndexDays: '0' },
      /context "hotIndexDays" is "0": must be a whole number of days from 1 to 750, not '0' \(e.g. -c hotIndexDays=60\)/,
    ],
    [{ killSwitchFlippers: '{"support-triage":' }, /"killSwitchFlippers" is not JSON/],
    [{ killSwitchFlippers: [ONCALL] }, /must be an object of workflow ID to ARN list/],
    [
      { killSwitchFlippers: { billing: [ONCALL] } },
      /names workflow "billing", which is not registered: use one of support-triage, code-review, allAutonomousLanes/,
    ],
    [{ killSwitchFlippers: { 'code-review': ONCALL } }, /"killSwitchFlippers.code-review" must be a list/],
    [
      { killSwitchFlippers: { 'code-review': ['oncall'] } },
      /has "oncall", which is not an IAM role or user ARN/,
    ],
    [
      { killSwitchFlippers: { 'code-review': ['arn:aws:sts::111122223333:assumed-role/oncall/alice'] } },
      /not an IAM role or user ARN: .*not an assumed-role session's/,
    ],
    [
      { killSwitchFlippers: { 'code-review': ['arn:aws:iam::1111:role/oncall'] } },
      /not an IAM role or user ARN/,
    ],
  ])('rejects %o, saying what to pass instead', (context, message) => {
    expect(() => readLedgerConfig(new App({ context }))).toThrow(InvalidConfigError);
    expect(() => readLedgerConfig(new App({ context }))).toThrow(message);
  });
});

describe('parsePrincipalArn', () => {
  it('reads the kind and the name (without its path) that IAM attaches policies to', () => {
    expect(parsePrincipalArn(ONCALL)).toEqual({
      partition: 'aws',
      account: '111122223333',
      kind: 'role',
      name: 'oncall',
    });
    expect(parsePrincipalArn('arn:aws-cn:iam::111122223333:user/release-bot')).toMatchObject({
      partition: 'aws-cn',
      kind: 'user',
      name: 'release-bot',
    });
    expect(parsePrincipalArn('arn:aws:iam::111122223333:group/ops')).toBeUndefined();
    expect(parsePrincipalArn('arn:aws:iam::111122223333:role/')).toBeUndefined();
  });
});

describe('defineLedgerApp', () => {
  it('creates a stateful and a stateless stack per stage; data never depends on code', () => {
    // Act
    const { stateful, stateless, statefulTemplate } = synthesizeLedger();

    // Assess
    expect(stateful.stackName).toBe('AgentLedger-dev-Stateful');
    expect(stateless.stackName).toBe('AgentLedger-dev-Stateless');
    expect(stateless.dependencies).toEqual([stateful]);
    expect(stateful.dependencies).toEqual([]);
    expect(JSON.stringify(statefulTemplate.toJSON())).not.toMatch(
      /Fn::GetStackOutput|Fn::ImportValue|Stateless/,
    );
  });

  it('keeps every stateful resource on stack deletion or replacement', () => {
    // Act
    const { statefulTemplate } = synthesizeLedger();
    const resources = Object.entries(
      statefulTemplate.toJSON().Resources as Record<string, Record<string, unknown>>,
    );
    const dataResources = resources.filter(([, resource]) =>
      [
        'AWS::DynamoDB::Table',
        'AWS::S3::Bucket',
        'AWS::KMS::Key',
        'AWS::SecretsManager::Secret',
        'AWS::SNS::Topic',
        'AWS::Cognito::UserPool',
        'AWS::Cognito::UserPoolGroup',
      ].includes(resource.Type as string),
    );

    // Assess: table, archive, access logs, data key, actor-hash key; reports, Athena results; drift topic and
    // its key; the console's user pool and its groups (3 roles on every workflow, and on each of the 2)
    expect(dataResources).toHaveLength(9 + 1 + 3 + 3 * 2);
    for (const [, resource] of dataResources) {
      expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('follows the stage, the throttling and the account-role switch from context', () => {
    // Act
    const { stateful, stateless, statelessTemplate } = synthesizeLedger({
      context: {
        stage: 'prod',
        throttleRateLimit: '50',
        throttleBurstLimit: '100',
        apiGatewayCloudWatchRole: 'false',
      },
    });

    // Assess
    expect([stateful.stackName, stateless.stackName]).toEqual([
      'AgentLedger-prod-Stateful',
      'AgentLedger-prod-Stateless',
    ]);
    expect(stateful.terminationProtection).toBe(true);
    statelessTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })],
    });
    statelessTemplate.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('gives every function the hot window the deployment sets, and none when it sets none', () => {
    // Act
    const withWindow = synthesizeLedger({ context: { hotIndexDays: '60' } }).statelessTemplate;
    const without = synthesizeLedger().statelessTemplate;

    // Assess
    const functions = Object.values(withWindow.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(10);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables.LEDGER_HOT_INDEX_DAYS).toBe('60');
    }
    for (const fn of Object.values(without.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment?.Variables?.LEDGER_HOT_INDEX_DAYS).toBeUndefined();
    }
  });

  it('tags every stack with the project and the stage', () => {
    // Act
    const { statefulTemplate } = synthesizeLedger();

    // Assess
    statefulTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
      Tags: Match.arrayWith([
        { Key: 'project', Value: 'agent-ledger' },
        { Key: 'stage', Value: 'dev' },
      ]),
    });
  });
});
