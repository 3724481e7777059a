import type { IngestDependencies } from '#lib/ingest/ingest-events.ts';
import type { DeployedVersions } from '#lib/kill-switch/ports.ts';
import { recordFlips } from '#lib/kill-switch/record-flips.ts';
import type { RegistrySource } from '#lib/registry/workflows.ts';
import { logger } from '../commons/powertools.ts';

/** The payload AWS AppConfig sends a Lambda extension action (here at ON_DEPLOYMENT_COMPLETE). */
export interface AppConfigExtensionEvent {
  readonly InvocationId?: string;
  readonly Type: string;
  readonly Application: { readonly Id: string; readonly Name?: string };
  readonly Environment: { readonly Id: string; readonly Name?: string };
  readonly ConfigurationProfile: { readonly Id: string; readonly Name?: string };
  readonly DeploymentNumber: number;
  readonly ConfigurationVersion: string;
  readonly Description?: string;
}

/**
 * Invoked on every completed deployment of the kill-switch environment, from the CLI, the console, the
 * AWS CLI or the drift job alike, and writes each flip to the ledger as a `rollback` event.
 */
export function makeFlipRecorder(deps: {
  versions: DeployedVersions;
  ingest: Omit<IngestDependencies, 'registry'> & { readonly registry: RegistrySource };
  killSwitchProfile: string;
}) {
  return async (event: AppConfigExtensionEvent): Promise<void> => {
    if (event.Type !== 'OnDeploymentComplete') return;
    // The registry shares the environment: its deployments are no flips.
    if (event.ConfigurationProfile.Id !== deps.killSwitchProfile) return;
    const result = await recordFlips(
      {
        environment: event.Environment.Name ?? event.Environment.Id,
        profile: event.ConfigurationProfile.Id,
        deploymentNumber: event.DeploymentNumber,
        configurationVersion: event.ConfigurationVersion,
      },
      { ...deps, ingest: { ...deps.ingest, registry: await deps.ingest.registry.current() } },
    );
    logger.info('kill-switch deployment recorded', {
      deploymentNumber: event.DeploymentNumber,
      rollbackEvents: result?.accepted ?? 0,
      duplicates: result?.duplicates ?? 0,
    });
  };
}
