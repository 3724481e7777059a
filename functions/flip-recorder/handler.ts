import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { AppConfigFlagWriter } from '#lib/adapters/appconfig-flags.ts';
import { ingestFromEnvironment } from '../commons/dependencies.ts';
import { eventHandler } from '../commons/handlers.ts';
import { killSwitchLocation } from '../commons/kill-switch.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { makeFlipRecorder } from './make-handler.ts';

const location = killSwitchLocation();

export const handler = eventHandler(
  makeFlipRecorder({
    // Only reads versions and deployments, so no deployment strategy is needed.
    versions: new AppConfigFlagWriter(new AppConfigClient({}), { ...location, strategy: '' }),
    killSwitchProfile: location.profile,
    ingest: await ingestFromEnvironment(ledgerTableFromEnvironment()),
  }),
);
