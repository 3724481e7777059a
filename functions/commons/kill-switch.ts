import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { AppConfigDataFlagReader, AppConfigFlagWriter } from '#lib/adapters/appconfig-flags.ts';
import { requiredEnv } from './environment.ts';

/** The kill switch's AppConfig IDs, set by the CDK (and by the local stack). */
export function killSwitchLocation() {
  return {
    application: requiredEnv('KILL_SWITCH_APPLICATION_ID'),
    environment: requiredEnv('KILL_SWITCH_ENVIRONMENT_ID'),
    profile: requiredEnv('KILL_SWITCH_PROFILE_ID'),
  };
}

/** Polls at most every FLAG_POLL_SECONDS (15 in the cloud, AppConfigData's minimum; 1 locally). */
export function flagReaderFromEnvironment(): AppConfigDataFlagReader {
  const pollSeconds = Number(process.env.FLAG_POLL_SECONDS ?? '15');
  if (!Number.isFinite(pollSeconds) || pollSeconds < 0)
    throw new Error('FLAG_POLL_SECONDS must be a number ≥ 0');
  return new AppConfigDataFlagReader(new AppConfigDataClient({}), killSwitchLocation(), pollSeconds);
}

/** Writes flips with the kill switch's immediate deployment strategy (KILL_SWITCH_STRATEGY_ID). */
export function flagWriterFromEnvironment(): AppConfigFlagWriter {
  return new AppConfigFlagWriter(new AppConfigClient({}), {
    ...killSwitchLocation(),
    strategy: requiredEnv('KILL_SWITCH_STRATEGY_ID'),
  });
}
