import { parseRfc3339 } from '#lib/events/timestamps.ts';
import { KILL_SWITCH_UNIT } from '#lib/kill-switch/flips.ts';
import type { EventIndex, StoredEvent } from '#lib/ports.ts';
import { rollbackRows } from '#lib/reports/autonomy-risk-review/tally.ts';

/**
 * Incidents (issue 10, seed §8): every autonomous lane switched off other than by a drill opens one. An
 * incident is derived from the ledger, never stored: its `rollback` event (unit `kill-switch`) opens it,
 * the next flip of the same flag back on closes it. Which flips are drills and how offs pair with ons is
 * `rollbackRows`' rule (the monthly review's), so the two can never disagree.
 */

export type IncidentCause = 'drift' | 'operator';

export interface Incident {
  /** `inc-` and the opening rollback event's eventId, made URL-safe: stable across reads. */
  readonly incidentId: string;
  readonly rollbackEventId: string;
  /** The workflows whose lane it stopped: every workflow for the master flag. */
  readonly workflowIds: string[];
  readonly scope: 'workflow' | 'all-workflows';
  readonly openedAt: string;
  readonly openedAtMs: number;
  readonly openedBy: string;
  readonly cause: IncidentCause;
  /** The drift pause's figures (the drift rule writes them into the reason) or the operator's reason. */
  readonly reason: string;
  /** When the same flag was next turned on; null while the lane is still off. */
  readonly closedAt: string | null;
}

/** An eventId as an incident ID: letters, digits, `.`, `_` and `-` only, so it is one path segment. */
export function incidentIdOf(rollbackEventId: string): string {
  return `inc-${rollbackEventId.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
}

/** The incidents the given `rollback` events open, oldest first (events of several workflows, any order). */
export function deriveIncidents(rollbacks: readonly StoredEvent[]): Incident[] {
  return rollbackRows(rollbacks)
    .filter((row) => row.incident)
    .map((row) => ({
      incidentId: incidentIdOf(row.eventId),
      rollbackEventId: row.eventId,
      workflowIds: row.workflowIds,
      scope: row.scope,
      openedAt: row.occurredAt,
      openedAtMs: parseRfc3339(row.occurredAt) ?? Date.parse(row.occurredAt),
      openedBy: row.initiatedBy,
      cause: row.cause === 'drift' ? 'drift' : 'operator',
      reason: row.reason,
      closedAt: row.restoredAt,
    }));
}

/** Every `kill-switch` unit `rollback` event of the workflows, in [fromMs, toMs) when given. */
export async function readRollbacks(
  index: EventIndex,
  workflowIds: readonly string[],
  nowSeconds: number,
  range: { fromMs?: number; toMs?: number } = {},
): Promise<StoredEvent[]> {
  const all = await Promise.all(
    workflowIds.map(async (workflowId) => {
      const events: StoredEvent[] = [];
      const selection = {
        workflowId,
        unitId: KILL_SWITCH_UNIT,
        type: 'rollback' as const,
        nowSeconds,
        ...range,
      };
      for await (const stored of index.events(selection)) events.push(stored);
      return events;
    }),
  );
  return all.flat();
}

/** Every incident of the workflows, oldest first. */
export async function listIncidents(
  index: EventIndex,
  workflowIds: readonly string[],
  nowSeconds: number,
): Promise<Incident[]> {
  return deriveIncidents(await readRollbacks(index, workflowIds, nowSeconds));
}

/** Before and after the opening flip: the window "the events around it" covers. */
export const AROUND_BEFORE_MS = 60 * 60_000;
export const AROUND_AFTER_MS = 15 * 60_000;

export interface WorkflowImpact {
  readonly workflowId: string;
  /** Units with an event while the lane was off (the kill-switch unit aside). */
  readonly units: number;
  /** Units a review verdict marked as escaped (a defect that reached a customer) while it was off. */
  readonly escapedDefects: number;
  /** Events in [opened − 1 h, opened + 15 min), the kill-switch unit aside. */
  readonly eventsAround: number;
}

/**
 * The ledger's facts about one incident per workflow: what it prefills a postmortem's impact with, and
 * how busy the workflow was around the flip. The lane's off time is [openedAt, closedAt or now).
 */
export async function incidentImpact(
  incident: Incident,
  index: EventIndex,
  nowMs: number,
): Promise<WorkflowImpact[]> {
  const nowSeconds = Math.floor(nowMs / 1000);
  const closedMs = incident.closedAt === null ? nowMs : (parseRfc3339(incident.closedAt) ?? nowMs);
  return Promise.all(
    incident.workflowIds.map(async (workflowId) => {
      const units = new Set<string>();
      const escaped = new Set<string>();
      const range = {
        workflowId,
        fromMs: incident.openedAtMs,
        toMs: Math.max(closedMs, incident.openedAtMs + 1),
        nowSeconds,
      };
      for await (const { event } of index.eventsInRange(range)) {
        if (event.unitId === KILL_SWITCH_UNIT) continue;
        units.add(event.unitId);
        if (event.type === 'review.verdict' && event.escaped === true) escaped.add(event.unitId);
      }
      let eventsAround = 0;
      for await (const { event } of index.eventsInRange(aroundRange(incident, workflowId, nowSeconds)))
        if (event.unitId !== KILL_SWITCH_UNIT) eventsAround += 1;
      return { workflowId, units: units.size, escapedDefects: escaped.size, eventsAround };
    }),
  );
}

/** The selection of "the events around" an incident in one workflow's ledger. */
export function aroundRange(incident: Incident, workflowId: string, nowSeconds: number) {
  return {
    workflowId,
    fromMs: incident.openedAtMs - AROUND_BEFORE_MS,
    toMs: incident.openedAtMs + AROUND_AFTER_MS,
    nowSeconds,
  };
}

/** The impact line a postmortem starts from, from the ledger's counts. */
export function impactSummary(impacts: readonly WorkflowImpact[]): string {
  return impacts
    .map(
      (impact) =>
        `${impact.workflowId}: ${impact.units} unit(s) touched while the lane was off, ${impact.escapedDefects} escaped defect(s) (customers reached).`,
    )
    .join('\n');
}
