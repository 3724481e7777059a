import { type IngestDependencies, type IngestResult, ingestEvents } from '#lib/ingest/ingest-events.ts';
import { flagValuesOf, parseFlagDocument } from '#lib/kill-switch/flag-document.ts';
import { diffFlags, rollbackEventsFor } from '#lib/kill-switch/flips.ts';
import type { DeployedVersions } from '#lib/kill-switch/ports.ts';

export interface CompletedDeployment {
  readonly environment: string;
  readonly profile: string;
  readonly deploymentNumber: number;
  readonly configurationVersion: string;
}

const SYSTEM_CALLER = { principal: 'kill-switch-recorder', workflows: '*' as const };

/**
 * Records every flip a completed deployment made, whoever made it (CLI, console, AWS CLI, drift job), as
 * `rollback` events in the ledger: the deployed document compared with the one deployed before it.
 * Idempotent: eventIds come from the deployment, so a repeated notification stores nothing new.
 */
export async function recordFlips(
  deployment: CompletedDeployment,
  deps: { versions: DeployedVersions; ingest: IngestDependencies; killSwitchProfile: string },
): Promise<IngestResult | undefined> {
  if (deployment.profile !== deps.killSwitchProfile) return undefined;
  const valuesOf = async (version: string) =>
    flagValuesOf(parseFlagDocument(await deps.versions.content(version)));
  const current = await valuesOf(deployment.configurationVersion);
  const previousVersion = await deps.versions.previousVersion(deployment.deploymentNumber);
  const previous = previousVersion === undefined ? undefined : await valuesOf(previousVersion);
  const events = rollbackEventsFor(diffFlags(previous, current), {
    workflowIds: deps.ingest.registry.ids(),
    environment: deployment.environment,
    deploymentNumber: deployment.deploymentNumber,
    configurationVersion: deployment.configurationVersion,
    at: deps.ingest.clock().toISOString(),
  });
  if (events.length === 0) return undefined;
  return ingestEvents({ events }, SYSTEM_CALLER, deps.ingest);
}
