import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { AppConfigDataFlagReader, AppConfigFlagWriter } from '#lib/adapters/appconfig-flags.ts';
import { fetchConfigurationSessions } from '#lib/aws/appconfig-data.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { pollSecondsEnv, requiredEnv } from './environment.ts';

/** The kill switch's AppConfig IDs, set by the CDK (and by the local stack). */
export function killSwitchLocation() {
  return {
    application: requiredEnv(FUNCTION_ENV.killSwitchApplicationId),
    environment: requiredEnv(FUNCTION_ENV.killSwitchEnvironmentId),
    profile: requiredEnv(FUNCTION_ENV.killSwitchProfileId),
  };
}

/** Polls at most every FLAG_POLL_SECONDS (15 in the cloud, AppConfigData's minimum; 1 locally). */
export function flagReaderFromEnvironment(): AppConfigDataFlagReader {
  const pollSeconds = pollSecondsEnv(FUNCTION_ENV.flagPollSeconds, 15);
  return new AppConfigDataFlagReader(fetchConfigurationSessions(), killSwitchLocation(), pollSeconds);
}

/** Writes flips with the kill switch's immediate deployment strategy (KILL_SWITCH_STRATEGY_ID). */
export function flagWriterFromEnvironment(): AppConfigFlagWriter {
  return new AppConfigFlagWriter(new AppConfigClient({}), {
    ...killSwitchLocation(),
    strategy: requiredEnv(FUNCTION_ENV.killSwitchStrategyId),
  });
}
