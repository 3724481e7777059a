import { AppConfigRegistrySource } from '#lib/adapters/appconfig-registry.ts';
import { fetchConfigurationSessions } from '#lib/aws/appconfig-data.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { REGISTRY_STALE_LOG } from '#lib/registry/names.ts';
import { pollSecondsEnv, requiredEnv } from './environment.ts';
import { logger } from './powertools.ts';

/**
 * The deployed workflow registry (the freeform profile REGISTRY_PROFILE_ID in the kill switch's
 * application and environment), polled at most every REGISTRY_POLL_SECONDS (45 in the cloud, like
 * AppConfig's Lambda extension; 1 locally). One per container: a new deployment takes effect at the next
 * poll, without a cold start.
 */
export function registryFromEnvironment(): AppConfigRegistrySource {
  return new AppConfigRegistrySource(
    fetchConfigurationSessions(),
    {
      application: requiredEnv(FUNCTION_ENV.killSwitchApplicationId),
      environment: requiredEnv(FUNCTION_ENV.killSwitchEnvironmentId),
      profile: requiredEnv(FUNCTION_ENV.registryProfileId),
    },
    {
      pollSeconds: pollSecondsEnv(FUNCTION_ENV.registryPollSeconds, 45),
      onStale: (error) =>
        logger.error(REGISTRY_STALE_LOG, {
          error: error instanceof Error ? error : String(error),
        }),
    },
  );
}
