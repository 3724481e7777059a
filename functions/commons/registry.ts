import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { AppConfigRegistrySource } from '#lib/adapters/appconfig-registry.ts';
import { REGISTRY_STALE_LOG } from '#lib/registry/names.ts';
import { requiredEnv } from './environment.ts';
import { logger } from './powertools.ts';

/**
 * The deployed workflow registry (the freeform profile REGISTRY_PROFILE_ID in the kill switch's
 * application and environment), polled at most every REGISTRY_POLL_SECONDS (45 in the cloud, like
 * AppConfig's Lambda extension; 1 locally). One per container: a new deployment takes effect at the next
 * poll, without a cold start.
 */
export function registryFromEnvironment(): AppConfigRegistrySource {
  const pollSeconds = Number(process.env.REGISTRY_POLL_SECONDS ?? '45');
  if (!Number.isFinite(pollSeconds) || pollSeconds < 0)
    throw new Error('REGISTRY_POLL_SECONDS must be a number ≥ 0');
  return new AppConfigRegistrySource(
    new AppConfigDataClient({}),
    {
      application: requiredEnv('KILL_SWITCH_APPLICATION_ID'),
      environment: requiredEnv('KILL_SWITCH_ENVIRONMENT_ID'),
      profile: requiredEnv('REGISTRY_PROFILE_ID'),
    },
    {
      pollSeconds,
      onStale: (error) =>
        logger.error(REGISTRY_STALE_LOG, {
          error: error instanceof Error ? error : String(error),
        }),
    },
  );
}
