import { randomInt } from 'node:crypto';
import * as z from 'zod';
import { featureFlagProblems } from './feature-flags.ts';
import {
  AwsError,
  badRequest,
  conflict,
  header,
  integer,
  jsonBody,
  notFound,
  type Reply,
  type Request,
} from './http.ts';
import type { Context, DeploymentCompleteEvent } from './server.ts';
import {
  type Application,
  byIdOrName,
  type ConfigurationProfile,
  type Deployment,
  type DeploymentStrategy,
  type Environment,
  type HostedConfigurationVersion,
  type ProfileType,
} from './state.ts';

/**
 * AppConfig's control plane (the `appconfig` REST-JSON API, 2019-10-09): one handler per operation, each
 * returning what the AWS SDK v3 and botocore deserialize (status codes, headers and member names are
 * AppConfig's, read off the SDK's operation schemas).
 */

/** The hosted configuration store's size limit (AppConfig's default quota, 2 MB). */
export const HOSTED_CONTENT_LIMIT_BYTES = 2 * 1024 * 1024;

const FEATURE_FLAGS: ProfileType = 'AWS.AppConfig.FeatureFlags';
const name = z.string().min(1).max(64);
const description = z.string().max(1024).optional();
const tags = z.record(z.string(), z.string()).optional();
const minutes = z.number().int().min(0).max(1440);

// --- applications -----------------------------------------------------------------------------------

export function createApplication(request: Request, { store }: Context): Reply {
  const body = jsonBody(request, z.object({ Name: name, Description: description, Tags: tags }));
  const application: Application = { Id: store.newId(), Name: body.Name, Description: body.Description };
  store.state.applications.push(application);
  store.save();
  return { status: 201, json: application };
}

export function getApplication(request: Request, context: Context): Reply {
  return { status: 200, json: findApplication(context, request.params.ApplicationId) };
}

export function listApplications(request: Request, { store }: Context): Reply {
  return { status: 200, json: page(store.state.applications, request) };
}

// --- environments -----------------------------------------------------------------------------------

export function createEnvironment(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  const body = jsonBody(
    request,
    z.object({
      Name: name,
      Description: description,
      Monitors: z
        .array(z.object({ AlarmArn: z.string().min(1), AlarmRoleArn: z.string().optional() }))
        .optional(),
      Tags: tags,
    }),
  );
  const environment: Environment = {
    ApplicationId: application.Id,
    Id: context.store.newId(),
    Name: body.Name,
    Description: body.Description,
    Monitors: body.Monitors,
  };
  context.store.state.environments.push(environment);
  context.store.save();
  return { status: 201, json: environmentView(environment) };
}

export function getEnvironment(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  return {
    status: 200,
    json: environmentView(findEnvironment(context, application, request.params.EnvironmentId)),
  };
}

export function listEnvironments(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  const environments = context.store.state.environments.filter(
    (item) => item.ApplicationId === application.Id,
  );
  return { status: 200, json: page(environments.map(environmentView), request) };
}

/** Deployments finish inside StartDeployment, so an environment is never caught mid-deployment. */
function environmentView(environment: Environment) {
  return { ...environment, Monitors: environment.Monitors ?? [], State: 'READY_FOR_DEPLOYMENT' };
}

// --- configuration profiles -------------------------------------------------------------------------

export function createConfigurationProfile(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  const body = jsonBody(
    request,
    z.object({
      Name: name,
      LocationUri: z.string().min(1).max(2048),
      Description: description,
      RetrievalRoleArn: z.string().optional(),
      Validators: z
        .array(z.object({ Type: z.enum(['JSON_SCHEMA', 'LAMBDA']), Content: z.string() }))
        .optional(),
      Tags: tags,
      Type: z.string().optional(),
      KmsKeyIdentifier: z.string().optional(),
    }),
  );
  if (body.LocationUri !== 'hosted')
    throw badRequest(
      `LocationUri '${body.LocationUri}' is not supported by the local AppConfig stand-in: it only hosts configurations (LocationUri 'hosted')`,
    );
  const type = body.Type ?? 'AWS.Freeform';
  if (type !== 'AWS.Freeform' && type !== FEATURE_FLAGS)
    throw badRequest(`Type must be 'AWS.Freeform' or '${FEATURE_FLAGS}', got '${type}'`);
  const profile: ConfigurationProfile = {
    ApplicationId: application.Id,
    Id: context.store.newId(),
    Name: body.Name,
    Description: body.Description,
    LocationUri: body.LocationUri,
    Type: type,
    Validators: body.Validators,
  };
  context.store.state.profiles.push(profile);
  context.store.save();
  return { status: 201, json: profile };
}

export function getConfigurationProfile(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  return { status: 200, json: findProfile(context, application, request.params.ConfigurationProfileId) };
}

export function listConfigurationProfiles(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  const type = request.query.get('type');
  const summaries = context.store.state.profiles
    .filter((profile) => profile.ApplicationId === application.Id && (!type || profile.Type === type))
    .map((profile) => ({
      ApplicationId: profile.ApplicationId,
      Id: profile.Id,
      Name: profile.Name,
      LocationUri: profile.LocationUri,
      ValidatorTypes: (profile.Validators ?? []).map((validator) => validator.Type),
      Type: profile.Type,
    }));
  return { status: 200, json: page(summaries, request) };
}

// --- deployment strategies --------------------------------------------------------------------------

export function createDeploymentStrategy(request: Request, { store }: Context): Reply {
  const body = jsonBody(
    request,
    z.object({
      Name: name,
      Description: description,
      DeploymentDurationInMinutes: minutes,
      FinalBakeTimeInMinutes: minutes.optional(),
      GrowthFactor: z.number().min(1).max(100),
      GrowthType: z.enum(['LINEAR', 'EXPONENTIAL']).optional(),
      ReplicateTo: z.enum(['NONE', 'SSM_DOCUMENT']).optional(),
      Tags: tags,
    }),
  );
  const strategy: DeploymentStrategy = {
    Id: store.newId(),
    Name: body.Name,
    Description: body.Description,
    DeploymentDurationInMinutes: body.DeploymentDurationInMinutes,
    GrowthType: body.GrowthType ?? 'LINEAR',
    GrowthFactor: body.GrowthFactor,
    FinalBakeTimeInMinutes: body.FinalBakeTimeInMinutes ?? 0,
    ReplicateTo: body.ReplicateTo ?? 'NONE',
  };
  store.state.strategies.push(strategy);
  store.save();
  return { status: 201, json: strategy };
}

export function getDeploymentStrategy(request: Request, context: Context): Reply {
  return { status: 200, json: findStrategy(context, request.params.DeploymentStrategyId) };
}

export function listDeploymentStrategies(request: Request, { store }: Context): Reply {
  return { status: 200, json: page(store.allStrategies(), request) };
}

// --- hosted configuration versions ------------------------------------------------------------------

export function createHostedConfigurationVersion(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  const profile = findProfile(context, application, request.params.ConfigurationProfileId);
  const contentType = header(request, 'Content-Type');
  if (!contentType) throw badRequest("the Content-Type header (the configuration's MIME type) is required");
  const versionLabel = header(request, 'VersionLabel');
  if (versionLabel !== undefined && !/^(?=.*\D).{1,64}$/.test(versionLabel))
    throw badRequest(
      'VersionLabel must be 1 to 64 characters and contain at least one non-numeric character',
    );
  const content = request.body;
  if (content.length > HOSTED_CONTENT_LIMIT_BYTES) throw tooLarge(content.length);

  if (profile.Type === FEATURE_FLAGS) {
    if (contentType.split(';')[0]?.trim() !== 'application/json')
      throw badRequest(
        `a ${FEATURE_FLAGS} profile's content must be sent as application/json, not '${contentType}'`,
      );
    const problems = featureFlagProblems(content);
    if (problems.length > 0)
      throw badRequest(
        `the feature flag configuration is not valid: ${problems.map((item) => `${item.location} ${item.reason}`).join('; ')}`,
        {
          Reason: 'InvalidConfiguration',
          Details: {
            InvalidConfiguration: problems.map((item) => ({
              Location: item.location,
              Reason: item.reason,
              Type: 'FeatureFlags',
            })),
          },
        },
      );
  }

  const versions = versionsOf(context, profile);
  const latest = versions.at(-1)?.VersionNumber ?? 0;
  // The optimistic lock AppConfig offers: the caller says which version it built on.
  const expectedLatest = integer(header(request, 'Latest-Version-Number'), 'Latest-Version-Number');
  if (expectedLatest !== undefined && expectedLatest !== latest)
    throw conflict(
      `Latest-Version-Number is ${expectedLatest} but the latest version of configuration profile ${profile.Id} is ${latest}; read it and try again`,
    );
  const version: HostedConfigurationVersion = {
    ApplicationId: application.Id,
    ConfigurationProfileId: profile.Id,
    VersionNumber: latest + 1,
    Description: header(request, 'Description'),
    ContentType: contentType,
    VersionLabel: versionLabel,
    ContentBase64: content.toString('base64'),
  };
  context.store.state.versions.push(version);
  context.store.save();
  return hostedVersionReply(201, version);
}

export function getHostedConfigurationVersion(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  const profile = findProfile(context, application, request.params.ConfigurationProfileId);
  const number = integer(request.params.VersionNumber, 'VersionNumber');
  const version = versionsOf(context, profile).find((item) => item.VersionNumber === number);
  if (!version)
    throw notFound(
      `Hosted configuration version ${number} of configuration profile ${profile.Id} not found`,
      {
        ResourceName: String(number),
      },
    );
  return hostedVersionReply(200, version);
}

export function listHostedConfigurationVersions(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  const profile = findProfile(context, application, request.params.ConfigurationProfileId);
  // AppConfig's label filter: an exact label, or a prefix ending in `*`.
  const label = request.query.get('version_label');
  const matches = (versionLabel: string | undefined) =>
    !label ||
    (label.endsWith('*') ? (versionLabel ?? '').startsWith(label.slice(0, -1)) : versionLabel === label);
  const summaries = versionsOf(context, profile)
    .filter((version) => matches(version.VersionLabel))
    .reverse()
    .map(({ ContentBase64: _content, ...summary }) => summary);
  return { status: 200, json: page(summaries, request) };
}

/** Hosted versions travel as the raw content, their metadata in headers. */
function hostedVersionReply(status: number, version: HostedConfigurationVersion): Reply {
  return {
    status,
    raw: Buffer.from(version.ContentBase64, 'base64'),
    headers: {
      'Application-Id': version.ApplicationId,
      'Configuration-Profile-Id': version.ConfigurationProfileId,
      'Version-Number': version.VersionNumber,
      'Content-Type': version.ContentType,
      Description: version.Description,
      VersionLabel: version.VersionLabel,
    },
  };
}

function versionsOf(context: Context, profile: ConfigurationProfile): HostedConfigurationVersion[] {
  return context.store.state.versions.filter(
    (version) =>
      version.ApplicationId === profile.ApplicationId && version.ConfigurationProfileId === profile.Id,
  );
}

// --- deployments ------------------------------------------------------------------------------------

export function startDeployment(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  const environment = findEnvironment(context, application, request.params.EnvironmentId);
  const body = jsonBody(
    request,
    z.object({
      DeploymentStrategyId: z.string().min(1),
      ConfigurationProfileId: z.string().min(1),
      ConfigurationVersion: z.string().min(1).max(1024),
      Description: description,
      Tags: tags,
      KmsKeyIdentifier: z.string().optional(),
      DynamicExtensionParameters: z.record(z.string(), z.string()).optional(),
      LatestDeploymentNumber: z.number().int().optional(),
    }),
  );
  const profile = findProfile(context, application, body.ConfigurationProfileId);
  const strategy = findStrategy(context, body.DeploymentStrategyId);
  const versionNumber = integer(body.ConfigurationVersion, 'ConfigurationVersion');
  const version = versionsOf(context, profile).find((item) => item.VersionNumber === versionNumber);
  if (!version)
    throw notFound(
      `Hosted configuration version ${body.ConfigurationVersion} of configuration profile ${profile.Id} not found`,
      { ResourceName: body.ConfigurationVersion },
    );

  const { store } = context;
  const latest = Math.max(
    0,
    ...store.state.deployments
      .filter((item) => item.ApplicationId === application.Id && item.EnvironmentId === environment.Id)
      .map((item) => item.DeploymentNumber),
  );
  if (body.LatestDeploymentNumber !== undefined && body.LatestDeploymentNumber !== latest)
    throw conflict(`Deployment number ${body.LatestDeploymentNumber + 1} already exists`);

  // Local deployments complete at once whatever the strategy says: nobody waits out a bake time here.
  const now = new Date().toISOString();
  const invocationId = context.onDeploymentComplete ? newInvocationId() : undefined;
  const deployment: Deployment = {
    ApplicationId: application.Id,
    EnvironmentId: environment.Id,
    DeploymentStrategyId: strategy.Id,
    ConfigurationProfileId: profile.Id,
    DeploymentNumber: latest + 1,
    ConfigurationName: profile.Name,
    ConfigurationLocationUri: profile.LocationUri,
    ConfigurationVersion: String(version.VersionNumber),
    Description: body.Description,
    DeploymentDurationInMinutes: strategy.DeploymentDurationInMinutes,
    GrowthType: strategy.GrowthType,
    GrowthFactor: strategy.GrowthFactor,
    FinalBakeTimeInMinutes: strategy.FinalBakeTimeInMinutes,
    State: 'COMPLETE',
    EventLog: [
      {
        EventType: 'DEPLOYMENT_COMPLETED',
        TriggeredBy: 'APPCONFIG',
        Description: 'Deployment completed (the local stand-in completes deployments at once)',
        OccurredAt: now,
        ...(invocationId && {
          ActionInvocations: [
            {
              ExtensionIdentifier: 'local-stand-in',
              ActionName: 'OnDeploymentComplete',
              InvocationId: invocationId,
            },
          ],
        }),
      },
      {
        EventType: 'PERCENTAGE_UPDATED',
        TriggeredBy: 'APPCONFIG',
        Description: 'Configuration available to 100.00% of clients',
        OccurredAt: now,
      },
      {
        EventType: 'DEPLOYMENT_STARTED',
        TriggeredBy: 'USER',
        Description: 'Deployment started',
        OccurredAt: now,
      },
    ],
    PercentageComplete: 100,
    StartedAt: now,
    CompletedAt: now,
    VersionLabel: version.VersionLabel,
  };
  store.state.deployments.push(deployment);
  store.save();

  const hook = context.onDeploymentComplete;
  if (hook && invocationId) {
    const event: DeploymentCompleteEvent = {
      InvocationId: invocationId,
      Type: 'OnDeploymentComplete',
      Parameters: {},
      Application: { Id: application.Id, Name: application.Name },
      Environment: { Id: environment.Id, Name: environment.Name },
      ConfigurationProfile: { Id: profile.Id, Name: profile.Name },
      DeploymentNumber: deployment.DeploymentNumber,
      Description: deployment.Description,
      ConfigurationVersion: deployment.ConfigurationVersion,
    };
    // Like AppConfig's ON_DEPLOYMENT_COMPLETE action point: after the deployment, outside the API call, and
    // a failing extension never undoes the deployment; its error lands in the event log.
    context.defer(async () => {
      try {
        await hook(event);
      } catch (error) {
        console.error(
          `AppConfig stand-in: onDeploymentComplete failed for deployment ${event.DeploymentNumber}`,
          error,
        );
        const invocation = deployment.EventLog[0]?.ActionInvocations?.[0];
        if (invocation) invocation.ErrorMessage = error instanceof Error ? error.message : String(error);
        store.save();
      }
    });
  }
  return { status: 201, json: deployment };
}

export function getDeployment(request: Request, context: Context): Reply {
  return { status: 200, json: findDeployment(request, context) };
}

export function listDeployments(request: Request, context: Context): Reply {
  const application = findApplication(context, request.params.ApplicationId);
  const environment = findEnvironment(context, application, request.params.EnvironmentId);
  const summaries = context.store.state.deployments
    .filter((item) => item.ApplicationId === application.Id && item.EnvironmentId === environment.Id)
    .sort((a, b) => b.DeploymentNumber - a.DeploymentNumber)
    .map((item) => ({
      DeploymentNumber: item.DeploymentNumber,
      ConfigurationName: item.ConfigurationName,
      ConfigurationVersion: item.ConfigurationVersion,
      DeploymentDurationInMinutes: item.DeploymentDurationInMinutes,
      GrowthType: item.GrowthType,
      GrowthFactor: item.GrowthFactor,
      FinalBakeTimeInMinutes: item.FinalBakeTimeInMinutes,
      State: item.State,
      PercentageComplete: item.PercentageComplete,
      StartedAt: item.StartedAt,
      CompletedAt: item.CompletedAt,
      VersionLabel: item.VersionLabel,
    }));
  return { status: 200, json: page(summaries, request) };
}

/** AppConfig stops only deployments still DEPLOYING; here every deployment is already COMPLETE. */
export function stopDeployment(request: Request, context: Context): Reply {
  const deployment = findDeployment(request, context);
  throw badRequest(
    `deployment ${deployment.DeploymentNumber} is ${deployment.State}: only a deployment in progress can be stopped, and the local stand-in completes deployments at once (reverting with Allow-Revert is not supported locally; deploy the previous version instead)`,
  );
}

function findDeployment(request: Request, context: Context): Deployment {
  const application = findApplication(context, request.params.ApplicationId);
  const environment = findEnvironment(context, application, request.params.EnvironmentId);
  const number = integer(request.params.DeploymentNumber, 'DeploymentNumber');
  const deployment = context.store.state.deployments.find(
    (item) =>
      item.ApplicationId === application.Id &&
      item.EnvironmentId === environment.Id &&
      item.DeploymentNumber === number,
  );
  if (!deployment)
    throw notFound(`Deployment ${number} not found in environment ${environment.Id}`, {
      ResourceName: String(number),
    });
  return deployment;
}

// --- lookups and paging -----------------------------------------------------------------------------

function findApplication({ store }: Context, identifier: string | undefined): Application {
  const application = byIdOrName(store.state.applications, identifier ?? '');
  if (!application) throw notFound(`Application '${identifier}' not found`, { ResourceName: identifier });
  return application;
}

function findEnvironment({ store }: Context, application: Application, identifier: string | undefined) {
  const environments = store.state.environments.filter((item) => item.ApplicationId === application.Id);
  const environment = byIdOrName(environments, identifier ?? '');
  if (!environment)
    throw notFound(`Environment '${identifier}' not found in application ${application.Id}`, {
      ResourceName: identifier,
    });
  return environment;
}

function findProfile({ store }: Context, application: Application, identifier: string | undefined) {
  const profiles = store.state.profiles.filter((item) => item.ApplicationId === application.Id);
  const profile = byIdOrName(profiles, identifier ?? '');
  if (!profile)
    throw notFound(`Configuration profile '${identifier}' not found in application ${application.Id}`, {
      ResourceName: identifier,
    });
  return profile;
}

function findStrategy({ store }: Context, identifier: string | undefined): DeploymentStrategy {
  const strategy = byIdOrName(store.allStrategies(), identifier ?? '');
  if (!strategy)
    throw notFound(`Deployment strategy '${identifier}' not found`, { ResourceName: identifier });
  return strategy;
}

/**
 * AppConfig's paging (`max_results` 1–50, an opaque `next_token`). Without `max_results` everything comes
 * back in one page: local lists are short, and a caller that ignores NextToken still sees it all.
 */
function page<T>(items: readonly T[], request: Request): { Items: T[]; NextToken?: string } {
  const max = integer(request.query.get('max_results') ?? undefined, 'MaxResults');
  if (max !== undefined && (max < 1 || max > 50)) throw badRequest('MaxResults must be between 1 and 50');
  const token = request.query.get('next_token');
  let start = 0;
  if (token) {
    const offset = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'))?.[1];
    if (offset === undefined) throw badRequest('NextToken is not one this server issued');
    start = Number(offset);
  }
  if (max === undefined) return { Items: items.slice(start) };
  const end = start + max;
  return end < items.length
    ? { Items: items.slice(start, end), NextToken: Buffer.from(`offset:${end}`).toString('base64url') }
    : { Items: items.slice(start) };
}

function tooLarge(size: number): AwsError {
  return new AwsError(
    413,
    'PayloadTooLargeException',
    `the configuration is ${size} bytes; the hosted configuration store takes at most ${HOSTED_CONTENT_LIMIT_BYTES}`,
    { Measure: 'KILOBYTES', Limit: HOSTED_CONTENT_LIMIT_BYTES / 1024, Size: Math.ceil(size / 1024) },
  );
}

function newInvocationId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 7 }, () => alphabet[randomInt(alphabet.length)]).join('');
}
