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

/** No incident of the workflows one may see has this ID. */
export class UnknownIncidentError extends Error {
  override name = 'UnknownIncidentError';
  constructor(readonly incidentId: string) {
    super(`no incident ${incidentId}: list them with agent-ledger incidents list`);
  }
}

/** The incidents of the workflows, each with its postmortem if one was written; newest first. */
export async function incidentsWithPostmortems(
  workflowIds: readonly string[],
  deps: IncidentDependencies,
): Promise<IncidentWithPostmortem[]> {
  const nowSeconds = Math.floor(deps.clock().getTime() / 1000);
  const incidents = await listIncidents(deps.index, workflowIds, nowSeconds);
  const postmortems = await Promise.all(
    incidents.map((incident) => deps.postmortems.getPostmortem(incident.incidentId)),
  );
  return incidents.map((incident, i) => ({ ...incident, postmortem: postmortems[i] ?? null })).reverse();
}

/** One incident of the workflows, by ID; UnknownIncidentError when none has it. */
export async function findIncident(
  incidentId: string,
  workflowIds: readonly string[],
  deps: IncidentDependencies,
): Promise<IncidentWithPostmortem> {
  const nowSeconds = Math.floor(deps.clock().getTime() / 1000);
  const incident = (await listIncidents(deps.index, workflowIds, nowSeconds)).find(
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
