import { UnknownIncidentError } from '#lib/errors.ts';
import { type Incident, listIncidents } from '#lib/incidents/incidents.ts';
import type { Postmortem, PostmortemContent, PostmortemStore } from '#lib/incidents/postmortem.ts';
import type { EventIndex } from '#lib/ports.ts';

/** The use cases behind `agent-ledger incidents` and the console's Incidents page. */

export interface IncidentDependencies {
  readonly index: EventIndex;
  readonly postmortems: PostmortemStore;
  readonly clock: () => Date;
}

export interface IncidentWithPostmortem extends Incident {
  readonly postmortem: Postmortem | null;
}

/**
 * Which incidents a reader sees: those that stopped a workflow `shows` accepts. Incidents are always
 * derived from every registered workflow's ledger (`workflowIds`), so a master-flag incident names every
 * workflow it stopped, whichever of them the reader may see.
 */
type Shows = (workflowId: string) => boolean;

async function visibleIncidents(workflowIds: readonly string[], shows: Shows, deps: IncidentDependencies) {
  const nowSeconds = Math.floor(deps.clock().getTime() / 1000);
  return (await listIncidents(deps.index, workflowIds, nowSeconds)).filter((incident) =>
    incident.workflowIds.some(shows),
  );
}

/** The incidents of the registered workflows `shows` accepts, each with its postmortem if written; newest first. */
export async function incidentsWithPostmortems(
  workflowIds: readonly string[],
  deps: IncidentDependencies,
  shows: Shows = () => true,
): Promise<IncidentWithPostmortem[]> {
  const incidents = await visibleIncidents(workflowIds, shows, deps);
  const postmortems = await Promise.all(
    incidents.map((incident) => deps.postmortems.getPostmortem(incident.incidentId)),
  );
  return incidents.map((incident, i) => ({ ...incident, postmortem: postmortems[i] ?? null })).reverse();
}

/** One incident `shows` lets the reader see, by ID; UnknownIncidentError when there is none. */
export async function findIncident(
  incidentId: string,
  workflowIds: readonly string[],
  deps: IncidentDependencies,
  shows: Shows = () => true,
): Promise<IncidentWithPostmortem> {
  const incident = (await visibleIncidents(workflowIds, shows, deps)).find(
    (candidate) => candidate.incidentId === incidentId,
  );
  if (!incident) throw new UnknownIncidentError(incidentId);
  return { ...incident, postmortem: (await deps.postmortems.getPostmortem(incidentId)) ?? null };
}

/** Writes (or rewrites) the postmortem of an existing incident; `content` is already validated. */
export async function writePostmortem(
  incident: Incident,
  content: PostmortemContent,
  writtenBy: string,
  deps: IncidentDependencies,
): Promise<Postmortem> {
  return deps.postmortems.putPostmortem(incident.incidentId, content, {
    writtenBy,
    writtenAt: deps.clock().toISOString(),
  });
}
