import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { servedFlagValues } from './feature-flags.ts';
import { badRequest, jsonBody, notFound, type Reply, type Request } from './http.ts';
import type { Context } from './server.ts';
import { byIdOrName } from './state.ts';

/**
 * AppConfigData (2021-11-11): StartConfigurationSession and GetLatestConfiguration, the calls that read
 * deployed configuration.
 *
 * A configuration token carries its session's state (which app/env/profile, the poll interval, the version
 * the holder already has, when it was issued), so sessions survive a restart of the stand-in the way they
 * survive AppConfig's own deploys. What stays in memory is only which tokens were spent: AppConfig lets each
 * token be used once.
 */

const DEFAULT_POLL_INTERVAL_SECONDS = 60;
/** AppConfig's tokens are good for 24 hours. */
const TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

interface Token {
  /** Session ID. */
  s: string;
  /** Position in the session's chain of tokens; each response hands out the next one. */
  q: number;
  a: string;
  e: string;
  p: string;
  /** Poll interval in seconds. */
  i: number;
  /** The configuration version the holder already has (null before the first configuration). */
  v: string | null;
  /** Issued at, epoch milliseconds. */
  t: number;
}

const tokenSchema = z.object({
  s: z.string(),
  q: z.number().int().min(0),
  a: z.string(),
  e: z.string(),
  p: z.string(),
  i: z.number().int().min(0),
  v: z.string().nullable(),
  t: z.number(),
});

const identifier = z.string().min(1).max(128);

export function startConfigurationSession(request: Request, { store }: Context): Reply {
  const body = jsonBody(
    request,
    z.object({
      ApplicationIdentifier: identifier,
      EnvironmentIdentifier: identifier,
      ConfigurationProfileIdentifier: identifier,
      // AppConfig requires 15 s or more; locally any interval from 0 is allowed, so a kill switch flip can
      // show within a second or two (the cloud's bound is documented separately).
      RequiredMinimumPollIntervalInSeconds: z.number().int().min(0).max(86400).optional(),
    }),
  );
  const application = byIdOrName(store.state.applications, body.ApplicationIdentifier);
  if (!application) throw missing('Application', body.ApplicationIdentifier, 'ApplicationIdentifier');
  const environment = byIdOrName(
    store.state.environments.filter((item) => item.ApplicationId === application.Id),
    body.EnvironmentIdentifier,
  );
  if (!environment) throw missing('Environment', body.EnvironmentIdentifier, 'EnvironmentIdentifier');
  const profile = byIdOrName(
    store.state.profiles.filter((item) => item.ApplicationId === application.Id),
    body.ConfigurationProfileIdentifier,
  );
  if (!profile)
    throw missing(
      'ConfigurationProfile',
      body.ConfigurationProfileIdentifier,
      'ConfigurationProfileIdentifier',
    );

  const token = encode({
    s: randomUUID(),
    q: 0,
    a: application.Id,
    e: environment.Id,
    p: profile.Id,
    i: body.RequiredMinimumPollIntervalInSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS,
    v: null,
    t: Date.now(),
  });
  return { status: 201, json: { InitialConfigurationToken: token } };
}

export function getLatestConfiguration(request: Request, { store, spentTokens }: Context): Reply {
  const token = decode(request.query.get('configuration_token'));
  if (Date.now() - token.t > TOKEN_LIFETIME_MS)
    throw invalidToken(
      'Expired',
      'the configuration token has expired (tokens last 24 hours); start a new session',
    );
  if (token.q <= (spentTokens.get(token.s) ?? -1))
    throw invalidToken(
      'Expired',
      'the configuration token was already used; pass the NextPollConfigurationToken from the latest response',
    );

  const deployment = store.currentDeployment(token.a, token.e, token.p);
  const version = store.state.versions.find(
    (item) =>
      item.ApplicationId === token.a &&
      item.ConfigurationProfileId === token.p &&
      String(item.VersionNumber) === deployment?.ConfigurationVersion,
  );
  const profile = store.state.profiles.find((item) => item.Id === token.p);
  // The token stays unspent: a poller started before the first deployment can keep asking with it.
  if (!deployment || !version || !profile)
    throw notFound(
      `no configuration has been deployed for configuration profile ${token.p} to environment ${token.e} of application ${token.a}`,
      { ResourceType: 'Deployment' },
    );

  spentTokens.set(token.s, token.q);
  const upToDate = token.v === deployment.ConfigurationVersion;
  const next = encode({ ...token, q: token.q + 1, v: deployment.ConfigurationVersion, t: Date.now() });
  const isFlags = profile.Type === 'AWS.AppConfig.FeatureFlags';
  const content = Buffer.from(version.ContentBase64, 'base64');
  return {
    status: 200,
    // Empty when the holder already has this version, as AppConfig does; feature flags are served flat.
    raw: upToDate
      ? Buffer.alloc(0)
      : isFlags
        ? Buffer.from(JSON.stringify(servedFlagValues(content)))
        : content,
    headers: {
      'Next-Poll-Configuration-Token': next,
      'Next-Poll-Interval-In-Seconds': token.i,
      'Content-Type': isFlags ? 'application/json' : version.ContentType,
      'Version-Label': upToDate ? undefined : version.VersionLabel,
    },
  };
}

function encode(token: Token): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decode(raw: string | null): Token {
  if (!raw) throw invalidToken('Corrupted', 'configuration_token is required');
  try {
    return tokenSchema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
  } catch {
    throw invalidToken('Corrupted', 'the configuration token is not one this server issued');
  }
}

function invalidToken(problem: 'Corrupted' | 'Expired', message: string) {
  return badRequest(message, {
    Reason: 'InvalidParameters',
    Details: { InvalidParameters: { ConfigurationToken: { Problem: problem } } },
  });
}

function missing(resourceType: string, identifier: string, parameter: string) {
  return notFound(`${resourceType} '${identifier}' not found`, {
    ResourceType: resourceType,
    ReferencedBy: { [parameter]: identifier },
  });
}
