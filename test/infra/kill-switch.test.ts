import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  KILL_SWITCH_APPLICATION,
  KILL_SWITCH_PROFILE,
  KILL_SWITCH_STRATEGY,
  MASTER_FLAG,
} from '#lib/kill-switch/names.ts';
import { defaultRegistry, demoWorkflows } from '#lib/registry/default-registry.ts';
import { registryDocument, registryJsonSchema } from '#lib/registry/document.ts';
import { REGISTRY_PROFILE } from '#lib/registry/names.ts';
import { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { readLedgerConfig } from '../../infra/config.ts';
import { FLAG_POLL_SECONDS, FLAG_SYNC_RESOURCE_TYPE } from '../../infra/constructs/kill-switch.ts';
import { defineLedgerApp } from '../../infra/ledger-app.ts';
import { StatefulStack } from '../../infra/stacks/stateful-stack.ts';
import { StatelessStack } from '../../infra/stacks/stateless-stack.ts';
import {
  apiMethods,
  asArray,
  type CfnProperties,
  cdkJsonContext,
  onlyResource,
  SKIP_BUNDLING,
  synthesizeLedger,
} from './helpers.ts';

// Prepare (once: every test reads the same two stacks, with flippers named in context)
const ONCALL_ROLE = 'arn:aws:iam::111122223333:role/ops/oncall';
const RELEASE_USER = 'arn:aws:iam::111122223333:user/release-bot';
const { statefulTemplate: stateful, statelessTemplate: stateless } = synthesizeLedger({
  context: { killSwitchFlippers: { 'support-triage': [ONCALL_ROLE, RELEASE_USER] } },
});
const methods = apiMethods(stateless);
const workflowIds = defaultRegistry.ids();

const only = onlyResource;

function functionOf(prefix: string, template: Template = stateless): [string, CfnProperties] {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith(prefix),
  );
  expect(found, prefix).toHaveLength(1);
  return found[0] as [string, CfnProperties];
}

function statementsOf(rolePrefix: string, template: Template = stateless): CfnProperties[] {
  const found = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
    id.startsWith(`${rolePrefix}RoleDefaultPolicy`),
  );
  expect(found, rolePrefix).toHaveLength(1);
  return found[0]?.[1].Properties.PolicyDocument.Statement as CfnProperties[];
}

/** Each AppConfig action of a role, with the resources it is allowed on (rendered as text). */
function appConfigGrants(rolePrefix: string, template: Template = stateless): Record<string, string[]> {
  const grants: Record<string, string[]> = {};
  for (const statement of statementsOf(rolePrefix, template)) {
    for (const action of asArray<string>(statement.Action).filter((a) => a.startsWith('appconfig:'))) {
      grants[action] = [...(grants[action] ?? []), ...asArray(statement.Resource).map(describeArn)].sort();
    }
  }
  return grants;
}

/**
 * An AppConfig ARN as text, its stateful-stack IDs named (as the stateless stack imports them, or as the
 * stateful stack references them): `arn:…:application/<Application>/environment/<Environment>`
 * → `application/<Application>/environment/<Environment>`.
 */
function describeArn(resource: unknown): string {
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const value = part as CfnProperties;
    if (value['Fn::Join']) return (value['Fn::Join'][1] as unknown[]).map(render).join(value['Fn::Join'][0]);
    if (value['Fn::GetStackOutput']) {
      const name = /^PublishOutputRef(KillSwitch|WorkflowRegistry)(\w+?)[A-F0-9]{16}$/.exec(
        value['Fn::GetStackOutput'].OutputName,
      );
      if (!name) return `<${JSON.stringify(value)}>`;
      return name[1] === 'WorkflowRegistry' ? `<Registry${name[2]}>` : `<${name[2]}>`;
    }
    if (typeof value.Ref === 'string' && value.Ref.startsWith('AWS::')) return `{${value.Ref}}`;
    const local = typeof value.Ref === 'string' && /^KillSwitch(\w+?)[A-F0-9]{8}$/.exec(value.Ref);
    if (local) return `<${local[1]}>`;
    return JSON.stringify(value);
  };
  return render(resource).replace(
    /^arn:\{AWS::Partition\}:appconfig:\{AWS::Region\}:\{AWS::AccountId\}:/,
    '',
  );
}

function variablesOf(prefix: string, template: Template = stateless): Record<string, unknown> {
  const variables = { ...functionOf(prefix, template)[1].Properties.Environment.Variables };
  for (const key of Object.keys(variables)) {
    if (key.startsWith('POWERTOOLS_') || key === 'NODE_OPTIONS') delete variables[key];
  }
  return variables;
}

/** The kill switch's AppConfig resources as `appConfigGrants` names them. */
const application = 'application/<Application>';
const environment = `${application}/environment/<Environment>`;
const profile = `${application}/configurationprofile/<FlagsConfigurationProfile>`;

/** What a function that flips flags may do: versions of this profile, deployed with this strategy. */
const FLAG_WRITE_GRANTS: Record<string, string[]> = {
  'appconfig:ListHostedConfigurationVersions': [application, profile].sort(),
  'appconfig:CreateHostedConfigurationVersion': [application, profile].sort(),
  'appconfig:GetHostedConfigurationVersion': [
    application,
    profile,
    `${profile}/hostedconfigurationversion/*`,
  ].sort(),
  'appconfig:StartDeployment': [
    application,
    environment,
    profile,
    'deploymentstrategy/<ImmediateStrategy>',
  ].sort(),
  'appconfig:ListDeployments': [application, environment].sort(),
  'appconfig:GetDeployment': [application, environment, `${environment}/deployment/*`].sort(),
};

/** Reading the deployed workflow registry, and nothing else of it. */
const REGISTRY_READ_GRANTS = {
  'appconfig:StartConfigurationSession': [`${environment}/configuration/<RegistryProfile>`],
  'appconfig:GetLatestConfiguration': [`${environment}/configuration/<RegistryProfile>`],
};

const stackOutput = (name: string) => ({
  'Fn::GetStackOutput': Match.objectLike({
    OutputName: Match.stringLikeRegexp(`^PublishOutputRefKillSwitch${name}`),
  }),
});

describe('KillSwitch (stateful stack): AppConfig application, environment, profile', () => {
  it('is one application named agent-ledger with an environment named after the stage', () => {
    stateful.resourceCountIs('AWS::AppConfig::Application', 1);
    stateful.hasResourceProperties('AWS::AppConfig::Application', { Name: KILL_SWITCH_APPLICATION });
    stateful.resourceCountIs('AWS::AppConfig::Environment', 1);
    stateful.hasResourceProperties('AWS::AppConfig::Environment', {
      Name: 'dev',
      ApplicationId: { Ref: only(stateful, 'AWS::AppConfig::Application')[0] },
    });
  });

  it("keeps a hosted feature-flag profile named kill-switch (next to the workflow registry's)", () => {
    stateful.resourceCountIs('AWS::AppConfig::ConfigurationProfile', 2);
    stateful.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      Name: KILL_SWITCH_PROFILE,
      Type: 'AWS.AppConfig.FeatureFlags',
      LocationUri: 'hosted',
    });
  });

  it('takes effect at once: 0-minute linear rollout to 100 %, no bake time, no replication', () => {
    stateful.resourceCountIs('AWS::AppConfig::DeploymentStrategy', 1);
    stateful.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      Name: KILL_SWITCH_STRATEGY,
      DeploymentDurationInMinutes: 0,
      GrowthFactor: 100,
      GrowthType: 'LINEAR',
      FinalBakeTimeInMinutes: 0,
      ReplicateTo: 'NONE',
    });
  });

  it('keeps the application, environment and profile (which holds every flag version) on deletion or replacement', () => {
    for (const [type, properties] of [
      ['AWS::AppConfig::Application'],
      ['AWS::AppConfig::Environment'],
      ['AWS::AppConfig::ConfigurationProfile', { Name: KILL_SWITCH_PROFILE }],
    ] as const) {
      expect(only(stateful, type, properties)[1], type).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  it('keeps the logical IDs of the profile and what it belongs to, so a stack that has flags keeps them', () => {
    // A new logical ID would create a new, empty profile (the old one is retained, not moved), which the
    // sync would then fill with every lane allowed.
    expect({
      application: only(stateful, 'AWS::AppConfig::Application')[0],
      environment: only(stateful, 'AWS::AppConfig::Environment')[0],
      profile: only(stateful, 'AWS::AppConfig::ConfigurationProfile', { Name: KILL_SWITCH_PROFILE })[0],
      strategy: only(stateful, 'AWS::AppConfig::DeploymentStrategy')[0],
    }).toEqual({
      application: 'KillSwitchApplicationB812BC94',
      environment: 'KillSwitchEnvironmentB0234A59',
      profile: 'KillSwitchFlagsConfigurationProfileA9FD9395',
      strategy: 'KillSwitchImmediateStrategy44C69782',
    });
  });

  it('publishes the IDs the CLI needs', () => {
    for (const [output, type, properties] of [
      ['KillSwitchApplicationId', 'AWS::AppConfig::Application'],
      ['KillSwitchEnvironmentId', 'AWS::AppConfig::Environment'],
      ['KillSwitchProfileId', 'AWS::AppConfig::ConfigurationProfile', { Name: KILL_SWITCH_PROFILE }],
      ['KillSwitchStrategyId', 'AWS::AppConfig::DeploymentStrategy'],
    ] as const) {
      stateful.hasOutput(output, { Value: { Ref: only(stateful, type, properties)[0] } });
    }
  });
});

describe('KillSwitch (stateful stack): flags synced with the registry, never reset', () => {
  const [syncId, sync] = only(stateful, FLAG_SYNC_RESOURCE_TYPE);
  const [syncFunctionId, syncFunction] = functionOf('KillSwitchSyncFunction', stateful);
  const [frameworkId, framework] = functionOf('KillSwitchSyncProviderframeworkonEvent', stateful);

  it('never writes or deploys a flag version through CloudFormation, in either stack', () => {
    // The only version and deployment CloudFormation makes are the workflow registry's.
    const registryProfile = only(stateful, 'AWS::AppConfig::ConfigurationProfile', {
      Name: REGISTRY_PROFILE,
    })[0];
    for (const type of ['AWS::AppConfig::HostedConfigurationVersion', 'AWS::AppConfig::Deployment']) {
      expect(only(stateful, type)[1].Properties.ConfigurationProfileId, type).toEqual({
        Ref: registryProfile,
      });
      stateless.resourceCountIs(type, 0);
    }
  });

  it('syncs through one custom resource whose only property is the sorted registered workflow IDs', () => {
    expect(sync.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [frameworkId, 'Arn'] },
      ServiceTimeout: '300',
      WorkflowIds: [...workflowIds].sort(),
    });
  });

  it('runs the sync again when a workflow is registered, but not when the registry is only reordered', () => {
    // Prepare
    const propertiesWith = (registry: WorkflowRegistry): CfnProperties => {
      const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
      const ledger = defineLedgerApp(app, { nag: false, registry });
      return Template.fromStack(ledger.stateful).findResources(FLAG_SYNC_RESOURCE_TYPE);
    };
    const reversed = WorkflowRegistry.parse([...demoWorkflows].reverse());
    const extended = WorkflowRegistry.parse([
      ...demoWorkflows,
      // A copy of a demo workflow under a new ID: only the ID matters here.
      { ...demoWorkflows[1], workflowId: 'invoice-matching', unitOfValue: 'invoice matched' },
    ]);

    // Act
    const same = propertiesWith(reversed);
    const grown = propertiesWith(extended);

    // Assess: the same logical ID either way (an Update of the resource, never a replacement)
    expect(reversed.ids()).not.toEqual(workflowIds);
    expect(same).toEqual(stateful.findResources(FLAG_SYNC_RESOURCE_TYPE));
    expect(Object.keys(grown)).toEqual([syncId]);
    expect(grown[syncId].Properties.WorkflowIds).toEqual([
      'code-review',
      'invoice-matching',
      'support-triage',
    ]);
  });

  it('runs once the environment, profile and strategy it writes to exist', () => {
    expect(sync.DependsOn).toEqual(
      expect.arrayContaining([
        only(stateful, 'AWS::AppConfig::Environment')[0],
        only(stateful, 'AWS::AppConfig::ConfigurationProfile', { Name: KILL_SWITCH_PROFILE })[0],
        only(stateful, 'AWS::AppConfig::DeploymentStrategy')[0],
      ]),
    );
  });

  it('is served by the provider framework, which invokes the sync function', () => {
    expect(framework.Properties).toMatchObject({
      FunctionName: 'agent-ledger-dev-kill-switch-sync-provider',
      Handler: 'framework.onEvent',
      Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [syncFunctionId, 'Arn'] } } },
    });
    expect(statementsOf('KillSwitchSyncProvider', stateful)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'lambda:InvokeFunction',
          Resource: expect.arrayContaining([{ 'Fn::GetAtt': [syncFunctionId, 'Arn'] }]),
        }),
      ]),
    );
  });

  it('gives the framework function a role without managed policies and logs kept 90 days', () => {
    // Act
    const roleId = framework.Properties.Role['Fn::GetAtt'][0];
    const role = stateful.findResources('AWS::IAM::Role')[roleId];
    const logGroupId = framework.Properties.LoggingConfig.LogGroup.Ref;
    const logGroup = stateful.findResources('AWS::Logs::LogGroup')[logGroupId];

    // Assess
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    expect(logGroup?.Properties.RetentionInDays).toBe(90);
    expect(framework.Properties.LoggingConfig.LogFormat).toBe('JSON');
  });

  it('configures the sync function with the kill switch and the strategy, outside any API timeout', () => {
    expect(variablesOf('KillSwitchSyncFunction', stateful)).toEqual({
      KILL_SWITCH_APPLICATION_ID: { Ref: only(stateful, 'AWS::AppConfig::Application')[0] },
      KILL_SWITCH_ENVIRONMENT_ID: { Ref: only(stateful, 'AWS::AppConfig::Environment')[0] },
      KILL_SWITCH_PROFILE_ID: {
        Ref: only(stateful, 'AWS::AppConfig::ConfigurationProfile', { Name: KILL_SWITCH_PROFILE })[0],
      },
      KILL_SWITCH_STRATEGY_ID: { Ref: only(stateful, 'AWS::AppConfig::DeploymentStrategy')[0] },
      FLAG_POLL_SECONDS: '15',
    });
    // Up to 20 s waiting for the deployment, plus the reads and writes before it
    expect(syncFunction.Properties.Timeout).toBe(60);
  });

  it('lets the sync function create and deploy versions of this profile only, with the kill-switch strategy only', () => {
    const actions = statementsOf('KillSwitchSync', stateful).flatMap((statement) =>
      asArray<string>(statement.Action),
    );
    expect(actions.filter((action) => !/^(appconfig|logs|xray):/.test(action))).toEqual([]);
    expect(appConfigGrants('KillSwitchSync', stateful)).toEqual(FLAG_WRITE_GRANTS);
  });
});

describe('KillSwitchApi: routes and auth', () => {
  it('serves autonomy with a bearer token and with SigV4, and the kill switch with SigV4 only', () => {
    // Act
    const [authorizerId] = Object.keys(stateless.findResources('AWS::ApiGateway::Authorizer'));
    // The API's routes; the console's kill-switch pages are for signed-in people (test/infra/console.test.ts)
    const killSwitchRoutes = [...methods.keys()].filter(
      (route) => / \/(v1|iam)\//.test(route) && route.includes('kill-switch'),
    );

    // Assess
    expect(methods.get('GET /v1/workflows/{workflowId}/autonomy')).toMatchObject({
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
    });
    expect(methods.get('GET /iam/v1/workflows/{workflowId}/autonomy')?.AuthorizationType).toBe('AWS_IAM');
    expect(killSwitchRoutes).toEqual(['POST /iam/v1/workflows/{workflowId}/kill-switch']);
    expect(methods.get('POST /iam/v1/workflows/{workflowId}/kill-switch')).toMatchObject({
      AuthorizationType: 'AWS_IAM',
    });
    expect(methods.get('POST /iam/v1/workflows/{workflowId}/kill-switch')?.AuthorizerId).toBeUndefined();
  });

  it('proxies autonomy to the autonomy function and the kill switch to the kill-switch function', () => {
    const integrationOf = (route: string): string =>
      JSON.stringify(methods.get(route)?.Integration?.Uri ?? '').match(/KillSwitchApi(\w+?)Function/)?.[1] ??
      '';
    expect(integrationOf('GET /v1/workflows/{workflowId}/autonomy')).toBe('Autonomy');
    expect(integrationOf('GET /iam/v1/workflows/{workflowId}/autonomy')).toBe('Autonomy');
    expect(integrationOf('POST /iam/v1/workflows/{workflowId}/kill-switch')).toBe('KillSwitch');
  });

  it('validates flips: a JSON body with a boolean enabled and a 1-500 character reason, and the workflowId', () => {
    // Act
    const flip = methods.get('POST /iam/v1/workflows/{workflowId}/kill-switch');
    const [modelId, model] = Object.entries(
      stateless.findResources('AWS::ApiGateway::Model', { Properties: { Name: 'KillSwitchRequest' } }),
    )[0] as [string, CfnProperties];

    // Assess
    expect(model.Properties.Schema).toMatchObject({
      type: 'object',
      required: ['enabled', 'reason'],
      properties: { enabled: { type: 'boolean' }, reason: { type: 'string', minLength: 1, maxLength: 500 } },
    });
    expect(flip?.RequestModels).toEqual({ 'application/json': { Ref: modelId } });
    for (const route of [
      'POST /iam/v1/workflows/{workflowId}/kill-switch',
      'GET /v1/workflows/{workflowId}/autonomy',
      'GET /iam/v1/workflows/{workflowId}/autonomy',
    ]) {
      expect(methods.get(route)?.RequestValidatorId, route).toEqual({
        Ref: expect.stringMatching(/RequestValidator/),
      });
      expect(methods.get(route)?.RequestParameters, route).toEqual({
        'method.request.path.workflowId': true,
      });
    }
  });
});

describe('KillSwitchApi: functions', () => {
  it('configures autonomy to read flags every 15 s and kill-switch to also deploy with the strategy', () => {
    const ids = {
      KILL_SWITCH_APPLICATION_ID: stackOutput('Application'),
      KILL_SWITCH_ENVIRONMENT_ID: stackOutput('Environment'),
      KILL_SWITCH_PROFILE_ID: stackOutput('FlagsConfigurationProfile'),
    };
    expect(FLAG_POLL_SECONDS).toBe(15);
    stateless.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('/autonomy'),
      Environment: { Variables: Match.objectLike({ ...ids, FLAG_POLL_SECONDS: '15' }) },
    });
    expect(Object.keys(variablesOf('KillSwitchApiAutonomyFunction')).sort()).toEqual([
      'FLAG_POLL_SECONDS',
      'KILL_SWITCH_APPLICATION_ID',
      'KILL_SWITCH_ENVIRONMENT_ID',
      'KILL_SWITCH_PROFILE_ID',
      'LEDGER_TABLE_NAME',
      'REGISTRY_POLL_SECONDS',
      'REGISTRY_PROFILE_ID',
    ]);
    stateless.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('/kill-switch'),
      Environment: {
        Variables: Match.objectLike({
          ...ids,
          FLAG_POLL_SECONDS: '15',
          KILL_SWITCH_STRATEGY_ID: stackOutput('ImmediateStrategy'),
        }),
      },
    });
    expect(Object.keys(variablesOf('KillSwitchApiKillSwitchFunction')).sort()).toEqual([
      'FLAG_POLL_SECONDS',
      'KILL_SWITCH_APPLICATION_ID',
      'KILL_SWITCH_ENVIRONMENT_ID',
      'KILL_SWITCH_PROFILE_ID',
      'KILL_SWITCH_STRATEGY_ID',
      'REGISTRY_POLL_SECONDS',
      'REGISTRY_PROFILE_ID',
    ]);
  });

  it('answers within API Gateway integration timeout', () => {
    expect(functionOf('KillSwitchApiAutonomyFunction')[1].Properties.Timeout).toBeLessThan(29);
    expect(functionOf('KillSwitchApiKillSwitchFunction')[1].Properties.Timeout).toBeLessThan(29);
  });

  it('lets autonomy only read the deployed flags and registry of this environment', () => {
    const deployed = [
      'application/<Application>/environment/<Environment>/configuration/<FlagsConfigurationProfile>',
      'application/<Application>/environment/<Environment>/configuration/<RegistryProfile>',
    ];
    expect(appConfigGrants('KillSwitchApiAutonomy')).toEqual({
      'appconfig:StartConfigurationSession': deployed,
      'appconfig:GetLatestConfiguration': deployed,
    });
  });

  it('lets kill-switch create and deploy versions of this profile only, with the kill-switch strategy only', () => {
    const actions = statementsOf('KillSwitchApiKillSwitch').flatMap((statement) =>
      asArray<string>(statement.Action),
    );
    expect(actions.filter((action) => !/^(appconfig|logs|xray):/.test(action))).toEqual([]);
    expect(appConfigGrants('KillSwitchApiKillSwitch')).toEqual({
      ...FLAG_WRITE_GRANTS,
      ...REGISTRY_READ_GRANTS,
    });
  });
});

describe('FlipRecorder: AppConfig extension at ON_DEPLOYMENT_COMPLETE', () => {
  it('calls the flip-recorder function through a role only AppConfig can assume', () => {
    // Act
    const [functionId] = functionOf('FlipRecorderFunction');
    const [, extension] = only(stateless, 'AWS::AppConfig::Extension');
    const action = extension.Properties.Actions.ON_DEPLOYMENT_COMPLETE;
    const roleId = action?.[0]?.RoleArn?.['Fn::GetAtt']?.[0];
    const role = stateless.findResources('AWS::IAM::Role')[roleId];

    // Assess
    expect(Object.keys(extension.Properties.Actions)).toEqual(['ON_DEPLOYMENT_COMPLETE']);
    expect(action).toEqual([
      expect.objectContaining({ Uri: { 'Fn::GetAtt': [functionId, 'Arn'] }, RoleArn: expect.any(Object) }),
    ]);
    expect(extension.Properties.Name).toBe('agent-ledger-dev-flip-recorder');
    expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'appconfig.amazonaws.com' } },
    ]);
    expect(
      role?.Properties.Policies.flatMap((policy: CfnProperties) => policy.PolicyDocument.Statement),
    ).toEqual([
      {
        Action: ['lambda:InvokeAsync', 'lambda:InvokeFunction'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [functionId, 'Arn'] },
      },
    ]);
  });

  it('is associated with the kill-switch profile of the stateful stack', () => {
    // Act
    const [extensionId] = only(stateless, 'AWS::AppConfig::Extension');
    const [, association] = only(stateless, 'AWS::AppConfig::ExtensionAssociation');

    // Assess
    expect(association.Properties).toMatchObject({
      ExtensionIdentifier: { 'Fn::GetAtt': [extensionId, 'Id'] },
      ExtensionVersionNumber: { 'Fn::GetAtt': [extensionId, 'VersionNumber'] },
    });
    expect(describeArn(association.Properties.ResourceIdentifier)).toBe(
      'application/<Application>/configurationprofile/<FlagsConfigurationProfile>',
    );
  });

  it('cannot be invoked by another account through a resource policy (the role is the only way in)', () => {
    const appConfigPermissions = stateless.findResources('AWS::Lambda::Permission', {
      Properties: { Principal: 'appconfig.amazonaws.com' },
    });
    expect(appConfigPermissions).toEqual({});
  });

  it('keeps a recording that failed every retry in an encrypted, TLS-only dead-letter queue for 14 days', () => {
    // Act
    const queues = Object.entries(stateless.findResources('AWS::SQS::Queue')).filter(([id]) =>
      id.startsWith('FlipRecorder'),
    );
    expect(queues).toHaveLength(1);
    const [queueId, queue] = queues[0] as [string, CfnProperties];
    const [, fn] = functionOf('FlipRecorderFunction');

    // Assess
    expect(fn.Properties.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    stateless.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
  });

  it('writes rollback events (table, archive, actor hashing) and reads deployments and their versions', () => {
    expect(Object.keys(variablesOf('FlipRecorderFunction')).sort()).toEqual([
      'ACTOR_HASH_KEY_SECRET_ARN',
      'ARCHIVE_BUCKET_NAME',
      'KILL_SWITCH_APPLICATION_ID',
      'KILL_SWITCH_ENVIRONMENT_ID',
      'KILL_SWITCH_PROFILE_ID',
      'LEDGER_TABLE_NAME',
      'REGISTRY_POLL_SECONDS',
      'REGISTRY_PROFILE_ID',
    ]);
    expect(appConfigGrants('FlipRecorderFunction')).toEqual({
      'appconfig:GetHostedConfigurationVersion': FLAG_WRITE_GRANTS['appconfig:GetHostedConfigurationVersion'],
      'appconfig:ListDeployments': FLAG_WRITE_GRANTS['appconfig:ListDeployments'],
      'appconfig:GetDeployment': FLAG_WRITE_GRANTS['appconfig:GetDeployment'],
      ...REGISTRY_READ_GRANTS,
    });
    const actions = statementsOf('FlipRecorderFunction').flatMap((statement) =>
      asArray<string>(statement.Action),
    );
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 's3:PutObject', 'secretsmanager:GetSecretValue']),
    );
  });
});

describe('Flip policies: who may flip which workflow', () => {
  const policies = Object.values(stateless.findResources('AWS::IAM::ManagedPolicy')) as CfnProperties[];
  const flipTargets = [MASTER_FLAG, ...workflowIds];
  const policyOf = (workflowId: string): CfnProperties | undefined =>
    policies.find((policy) => policy.Properties.ManagedPolicyName === `agent-ledger-dev-flip-${workflowId}`);

  it('has one managed policy per registered workflow, and one for the master flag', () => {
    expect(policies).toHaveLength(workflowIds.length + 1);
    for (const target of flipTargets) expect(policyOf(target), target).toBeDefined();
  });

  it("allows invoking exactly that workflow's kill-switch route of this stage, and nothing else", () => {
    for (const workflowId of flipTargets) {
      const statements = policyOf(workflowId)?.Properties.PolicyDocument.Statement as CfnProperties[];
      expect(statements).toEqual([
        {
          Action: 'execute-api:Invoke',
          Effect: 'Allow',
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':execute-api:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':',
                { Ref: expect.stringMatching(/^IngestApi/) },
                `/dev/POST/iam/v1/workflows/${workflowId}/kill-switch`,
              ],
            ],
          },
        },
      ]);
    }
  });

  it('is attached to the principals named in killSwitchFlippers, and only to them', () => {
    expect(policyOf('support-triage')?.Properties).toMatchObject({
      Roles: ['oncall'],
      Users: ['release-bot'],
    });
    for (const target of [MASTER_FLAG, 'code-review']) {
      expect(policyOf(target)?.Properties.Roles, target).toBeUndefined();
      expect(policyOf(target)?.Properties.Users, target).toBeUndefined();
    }
  });

  it('publishes each policy ARN', () => {
    stateless.hasOutput('FlipPolicyArnSupportTriage', {
      Value: { Ref: Match.stringLikeRegexp('^KillSwitchApiFlipPolicysupporttriage') },
    });
    stateless.hasOutput('FlipPolicyArnCodeReview', {
      Value: { Ref: Match.stringLikeRegexp('^KillSwitchApiFlipPolicycodereview') },
    });
    stateless.hasOutput('FlipPolicyArnAllAutonomousLanes', {
      Value: { Ref: Match.stringLikeRegexp('^KillSwitchApiFlipPolicyallAutonomousLanes') },
    });
  });

  it("refuses a flipper of another account than the stack's (a managed policy cannot be attached there)", () => {
    // Prepare
    const app = new App({
      context: {
        ...cdkJsonContext(),
        ...SKIP_BUNDLING,
        killSwitchFlippers: { 'support-triage': [ONCALL_ROLE] },
      },
    });
    const env = { account: '444455556666', region: 'eu-west-1' };
    const stateful = new StatefulStack(app, 'Stateful', {
      env,
      stage: 'dev',
      workflowIds,
      registry: { content: registryDocument(defaultRegistry), jsonSchema: registryJsonSchema() },
    });

    // Act / Assess
    expect(
      () =>
        new StatelessStack(app, 'Stateless', {
          env,
          config: readLedgerConfig(app),
          eventStore: stateful.eventStore,
          killSwitch: stateful.killSwitch,
          registry: stateful.registry,
          reportsBucket: stateful.finance.reportsBucket,
          archiveQueries: stateful.finance.archiveQueries,
          driftTopic: stateful.driftNotifications.topic,
          consoleUserPool: stateful.consoleUsers.userPool,
          workflowIds,
        }),
    ).toThrow(/is in account 111122223333, but .* this stack's account 444455556666/);
  });
});
