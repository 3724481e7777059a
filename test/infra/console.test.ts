import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '#lib/api/routes.ts';
import { ROLES, roleGroup } from '#lib/auth/people.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { STATEFUL_OUTPUTS, STATELESS_OUTPUTS } from '#lib/deployment/stacks.ts';
import { defaultRegistry } from '#lib/registry/default-registry.ts';
import { InvalidConfigError } from '../../infra/config.ts';
import { managedLoginPrefix } from '../../infra/constructs/console.ts';
import {
  apiMethods,
  asArray,
  type CfnProperties,
  onlyResource,
  REGISTRY_VARIABLES,
  synthesizeLedger,
} from './helpers.ts';

// Prepare (once: every test reads the same synthesized stacks)
const ledger = synthesizeLedger();
const { statefulTemplate: stateful, statelessTemplate: stateless } = ledger;
const workflowIds = defaultRegistry.ids();
const methods = apiMethods(stateless);

const CONSOLE_ROUTES = API_ROUTES.filter((route) => route.function === 'console').map(
  (route) => `${route.method} ${route.path}`,
);

/** A value the stateless stack reads from a stateful-stack output, by the output's name prefix. */
const fromStateful = (outputPrefix: string) => ({
  'Fn::GetStackOutput': expect.objectContaining({
    StackName: 'AgentLedger-dev-Stateful',
    OutputName: expect.stringMatching(`^PublishOutput${outputPrefix}`),
  }),
});

/** A CloudFormation value as text: joins joined, references as `<LogicalIdPrefix>`, pseudo parameters as `{Name}`. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as CfnProperties;
  if (node['Fn::Join']) return (node['Fn::Join'][1] as unknown[]).map(render).join(node['Fn::Join'][0]);
  if (node['Fn::GetStackOutput']) {
    const output = node['Fn::GetStackOutput'].OutputName as string;
    return `<${output.replace(/^PublishOutput(Ref|FnGetAtt)/, '').replace(/[0-9A-F]{8,}.*$/, '')}>`;
  }
  if (typeof node.Ref === 'string' && node.Ref.startsWith('AWS::')) return `{${node.Ref}}`;
  if (typeof node.Ref === 'string') return `<${node.Ref.replace(/[0-9A-F]{8}$/, '')}>`;
  return JSON.stringify(node);
}

const [functionId, consoleFunction] = onlyResource(stateless, 'AWS::Lambda::Function', {
  Description: Match.stringLikeRegexp('the console'),
});
const [clientId, client] = onlyResource(stateless, 'AWS::Cognito::UserPoolClient');
const [domainId, domain] = onlyResource(stateless, 'AWS::Cognito::UserPoolDomain');
const [sessionKeyId, sessionKey] = onlyResource(stateless, 'AWS::SecretsManager::Secret');
const [apiId] = onlyResource(stateless, 'AWS::ApiGateway::RestApi');

const statements = (() => {
  const [, policy] = onlyResource(stateless, 'AWS::IAM::Policy', {
    Roles: [{ Ref: consoleFunction.Properties.Role['Fn::GetAtt'][0] }],
  });
  return policy.Properties.PolicyDocument.Statement as CfnProperties[];
})();

/** Every resource `action` is allowed on, rendered. */
function resourcesOf(action: string): string[] {
  return statements
    .filter((statement) => asArray<string>(statement.Action).includes(action))
    .flatMap((statement) => asArray(statement.Resource).map(render))
    .sort();
}

describe('ConsoleUserPool (stateful stack): the people who sign in', () => {
  const [, pool] = onlyResource(stateful, 'AWS::Cognito::UserPool');

  it('lets only administrators create users: no self sign-up', () => {
    expect(pool.Properties.AdminCreateUserConfig).toEqual({ AllowAdminCreateUserOnly: true });
  });

  it('signs people in by user name or email, case-insensitively', () => {
    expect(pool.Properties).toMatchObject({
      AliasAttributes: ['email'],
      UsernameConfiguration: { CaseSensitive: false },
      Schema: [{ Name: 'email', Required: true, Mutable: true }],
    });
  });

  it('asks for a strong password and a TOTP second factor from everyone, never SMS', () => {
    expect(pool.Properties.Policies.PasswordPolicy).toEqual({
      MinimumLength: 14,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
      TemporaryPasswordValidityDays: 3,
    });
    expect(pool.Properties.MfaConfiguration).toBe('ON');
    expect(pool.Properties.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
  });

  it('is on the Essentials plan (the newer managed login), protected from deletion and retained', () => {
    expect(pool.Properties).toMatchObject({ UserPoolTier: 'ESSENTIALS', DeletionProtection: 'ACTIVE' });
    expect(pool).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('has a group per role on every workflow and per role and registered workflow, all retained', () => {
    // Act
    const groups = Object.values(stateful.findResources('AWS::Cognito::UserPoolGroup'));

    // Assess
    const expected = [
      ...ROLES.map((role) => roleGroup(role)),
      ...workflowIds.flatMap((workflowId) => ROLES.map((role) => roleGroup(role, workflowId))),
    ];
    expect(expected).toContain('reviewer:support-triage');
    expect(groups.map((group) => group.Properties.GroupName).sort()).toEqual(expected.sort());
    for (const group of groups) {
      expect(group).toMatchObject({
        Properties: { UserPoolId: { Ref: expect.stringMatching(/^ConsoleUsersUserPool/) } },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
    stateless.resourceCountIs('AWS::Cognito::UserPool', 0);
    stateless.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
  });
});

describe('LedgerConsole (stateless stack): sign-in', () => {
  it('has a public app client: authorization code grant only, no secret, OpenID scopes', () => {
    expect(client.Properties).toMatchObject({
      UserPoolId: fromStateful('RefConsoleUsersUserPool'),
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      SupportedIdentityProviders: ['COGNITO'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
    });
    expect([...client.Properties.AllowedOAuthScopes].sort()).toEqual(['email', 'openid', 'profile']);
    expect(client.Properties.ExplicitAuthFlows).toEqual(['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
  });

  it("calls back to /sign-in/callback and signs out to /sign-in of the API's stage, named by the REST API ID", () => {
    // Act
    const base = `https://<${apiId.replace(/[0-9A-F]{8}$/, '')}>.execute-api.{AWS::Region}.{AWS::URLSuffix}/dev`;

    // Assess: from the REST API's ID, not the stage resource (which would make a cycle)
    expect(client.Properties.CallbackURLs.map(render)).toEqual([`${base}/sign-in/callback`]);
    expect(client.Properties.LogoutURLs.map(render)).toEqual([`${base}/sign-in`]);
    expect(JSON.stringify(client.Properties)).not.toMatch(/DeploymentStage/);
  });

  it('issues ID tokens valid 1 hour, and refresh tokens of the shortest validity Cognito allows', () => {
    expect(client.Properties).toMatchObject({
      IdTokenValidity: 60,
      AccessTokenValidity: 60,
      RefreshTokenValidity: 60,
      TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'minutes' },
    });
  });

  it("has a managed login domain of the newer version, named by stage and account, branded with Cognito's defaults", () => {
    expect(domain.Properties).toMatchObject({
      UserPoolId: fromStateful('RefConsoleUsersUserPool'),
      ManagedLoginVersion: 2,
    });
    expect(render(domain.Properties.Domain)).toBe('agent-ledger-dev-{AWS::AccountId}');
    const [, branding] = onlyResource(stateless, 'AWS::Cognito::ManagedLoginBranding');
    expect(branding.Properties).toEqual({
      UserPoolId: fromStateful('RefConsoleUsersUserPool'),
      ClientId: { Ref: clientId },
      UseCognitoProvidedValues: true,
    });
  });

  it('refuses a stage whose name Cognito would refuse in the login domain, saying why', () => {
    expect(() => synthesizeLedger({ context: { stage: 'amazon-test' } })).toThrow(InvalidConfigError);
    expect(() => managedLoginPrefix('my-aws', '111122223333')).toThrow(/containing "aws"/);
    expect(managedLoginPrefix('prod', '111122223333')).toBe('agent-ledger-prod-111122223333');
  });

  it('keeps the session key in Secrets Manager: 64 characters from 0-9a-f, i.e. 32 random bytes in hex', () => {
    // Act
    const generate = sessionKey.Properties.GenerateSecretString;
    const alphabet = [...'abcdefghijklmnopqrstuvwxyz0123456789'].filter(
      (char) => !generate.ExcludeCharacters.includes(char),
    );

    // Assess
    expect(generate).toMatchObject({
      PasswordLength: 64,
      ExcludePunctuation: true,
      ExcludeUppercase: true,
      IncludeSpace: false,
    });
    expect(alphabet.sort().join('')).toBe('0123456789abcdef');
  });
});

describe('LedgerConsole: the function', () => {
  const variables = consoleFunction.Properties.Environment.Variables as CfnProperties;

  it('has 1 GiB and a timeout under API Gateway’s 29 s (a drill runs inside the request)', () => {
    expect(consoleFunction.Properties).toMatchObject({ MemorySize: 1024, Timeout: 28 });
  });

  it('gets exactly the configuration it uses', () => {
    expect(
      Object.keys(variables)
        .filter((key) => !key.startsWith('POWERTOOLS_') && key !== 'NODE_OPTIONS')
        .sort(),
    ).toEqual(
      [
        FUNCTION_ENV.ledgerTableName,
        FUNCTION_ENV.archiveBucketName,
        // A unit whose events all left the index's hot window is read in the archive.
        FUNCTION_ENV.archiveQueryWorkgroup,
        FUNCTION_ENV.archiveQueryDatabase,
        FUNCTION_ENV.actorHashKeySecretArn,
        FUNCTION_ENV.reportsBucketName,
        FUNCTION_ENV.killSwitchProfileId,
        FUNCTION_ENV.killSwitchStrategyId,
        FUNCTION_ENV.flagPollSeconds,
        FUNCTION_ENV.consoleSessionKeySecretArn,
        FUNCTION_ENV.oidcIssuer,
        FUNCTION_ENV.oidcClientId,
        FUNCTION_ENV.oidcLogoutUrl,
        ...REGISTRY_VARIABLES,
      ].sort(),
    );
  });

  it("signs people in against the pool's issuer with the public client, and out at the managed login domain", () => {
    expect(render(variables[FUNCTION_ENV.oidcIssuer])).toBe(
      'https://cognito-idp.{AWS::Region}.{AWS::URLSuffix}/<ConsoleUsersUserPool>',
    );
    expect(variables[FUNCTION_ENV.oidcClientId]).toEqual({ Ref: clientId });
    expect(render(variables[FUNCTION_ENV.oidcLogoutUrl])).toBe(
      `https://<${domainId.replace(/[0-9A-F]{8}$/, '')}>.auth.{AWS::Region}.amazoncognito.com`,
    );
    expect(variables[FUNCTION_ENV.consoleSessionKeySecretArn]).toEqual({ Ref: sessionKeyId });
  });

  it('may put objects only where events are archived (verdict events) and Athena writes its results, and delete nothing', () => {
    expect(resourcesOf('s3:PutObject')).toEqual([
      '<EventStoreArchiveBucket>/raw/*',
      '<FinanceAthenaResultsBucket>/archive-reads/*',
    ]);
    expect(statements.flatMap((statement) => asArray<string>(statement.Action))).not.toContainEqual(
      expect.stringMatching(/^s3:(Delete|PutBucket|PutObjectAcl)|^dynamodb:(Scan|UpdateItem|DeleteItem)/),
    );
  });

  it('may read and list the reports bucket, and read the archive and its query results (old units), no other bucket', () => {
    expect(resourcesOf('s3:GetObject')).toEqual([
      '<EventStoreArchiveBucket>/raw/*',
      '<FinanceAthenaResultsBucket>/archive-reads/*',
      '<FinanceReportsBucket>/*',
    ]);
    expect(resourcesOf('s3:ListBucket')).toEqual([
      '<EventStoreArchiveBucket>',
      '<FinanceAthenaResultsBucket>',
      '<FinanceReportsBucket>',
    ]);
  });

  it('may read the session key and the actor-hash key, no other secret', () => {
    expect(resourcesOf('secretsmanager:GetSecretValue')).toEqual(
      ['<EventStoreActorHashKey>', `<${sessionKeyId.replace(/[0-9A-F]{8}$/, '')}>`].sort(),
    );
  });

  it('writes the ledger table (verdicts, drills) without Scan, UpdateItem or DeleteItem', () => {
    const table = statements.find((statement) => asArray(statement.Action).includes('dynamodb:PutItem'));
    expect(asArray(table?.Action).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
  });

  it('may start AppConfig deployments of the kill-switch profile only, with its strategy', () => {
    // Act
    const deployable = resourcesOf('appconfig:StartDeployment');
    const arn = 'arn:{AWS::Partition}:appconfig:{AWS::Region}:{AWS::AccountId}';

    // Assess: never the registry's profile
    expect(deployable).toEqual(
      [
        `${arn}:application/<KillSwitchApplication>`,
        `${arn}:application/<KillSwitchApplication>/environment/<KillSwitchEnvironment>`,
        `${arn}:application/<KillSwitchApplication>/configurationprofile/<KillSwitchFlagsConfigurationProfile>`,
        `${arn}:deploymentstrategy/<KillSwitchImmediateStrategy>`,
      ].sort(),
    );
    expect(resourcesOf('appconfig:CreateHostedConfigurationVersion')).toEqual(
      [
        `${arn}:application/<KillSwitchApplication>`,
        `${arn}:application/<KillSwitchApplication>/configurationprofile/<KillSwitchFlagsConfigurationProfile>`,
      ].sort(),
    );
    // Reads the flags (and the registry) as deployed, through AppConfigData
    expect(resourcesOf('appconfig:GetLatestConfiguration')).toEqual(
      [
        `${arn}:application/<KillSwitchApplication>/environment/<KillSwitchEnvironment>/configuration/<KillSwitchFlagsConfigurationProfile>`,
        `${arn}:application/<KillSwitchApplication>/environment/<KillSwitchEnvironment>/configuration/<WorkflowRegistryProfile>`,
      ].sort(),
    );
  });

  it('calls nothing of Cognito through IAM: signing in is OAuth over HTTPS', () => {
    expect(statements.flatMap((statement) => asArray<string>(statement.Action))).not.toContainEqual(
      expect.stringMatching(/^cognito/),
    );
  });
});

describe('LedgerConsole: routes', () => {
  it('serves every console route of the route table as a method without gateway auth, on the console function', () => {
    expect(CONSOLE_ROUTES).toHaveLength(18);
    for (const route of CONSOLE_ROUTES) {
      const method = methods.get(route);
      expect(method, route).toMatchObject({
        AuthorizationType: 'NONE',
        Integration: { Type: 'AWS_PROXY' },
      });
      expect(JSON.stringify(method?.Integration.Uri)).toContain(functionId);
      expect(methods.has(route.replace(' /', ' /iam/')), `${route} has no /iam mirror`).toBe(false);
    }
  });

  it('serves the root path on the API root and the reports on a greedy path parameter', () => {
    expect(methods.get('GET /')?.ResourceId).toEqual({
      'Fn::GetAtt': [apiId, 'RootResourceId'],
    });
    expect(methods.get('GET /reports/{key+}')?.RequestParameters).toEqual({
      'method.request.path.key': true,
    });
  });

  it('keeps form posts text: only OTLP protobuf is a binary media type', () => {
    stateless.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: ['application/x-protobuf'],
    });
  });
});

describe('Console outputs and synthesis', () => {
  it('publishes the console URL (the API root) and the user pool ID', () => {
    stateless.hasOutput(STATELESS_OUTPUTS.consoleUrl, {
      Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
    expect(render(stateless.toJSON().Outputs[STATELESS_OUTPUTS.consoleUrl].Value)).toMatch(
      /^https:\/\/<IngestApi>\.execute-api\.\{AWS::Region\}\.\{AWS::URLSuffix\}\/<IngestApiDeploymentStagedev>\/$/,
    );
    stateful.hasOutput(STATEFUL_OUTPUTS.consoleUserPoolId, {
      Value: { Ref: Match.stringLikeRegexp('^ConsoleUsersUserPool') },
    });
  });

  it('synthesizes the whole app: no dependency cycle, and the stateful stack never depends on the stateless one', () => {
    // Act
    const assembly = ledger.app.synth();

    // Assess
    expect(assembly.stacks.map((stack) => stack.stackName).sort()).toEqual([
      'AgentLedger-dev-Stateful',
      'AgentLedger-dev-Stateless',
    ]);
    expect(ledger.stateful.dependencies).toEqual([]);
    expect(JSON.stringify(stateful.toJSON())).not.toMatch(/IngestApi|Stateless/);
  });
});
