import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { hasRole, mayView, type Person } from '#lib/auth/people.ts';
import { incidentBody, incidentsBody, type PostmortemForm } from '#lib/console/incident-pages.ts';
import type { ConsolePage, Flash, PageFrame } from '#lib/console/layout.ts';
import { consoleHref } from '#lib/console/layout.ts';
import { WorkflowNotAllowedError } from '#lib/errors.ts';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { aroundRange, type Incident, impactSummary, incidentImpact } from '#lib/incidents/incidents.ts';
import { InvalidPostmortemError, postmortemFromForm } from '#lib/incidents/postmortem.ts';
import {
  findIncident,
  type IncidentDependencies,
  incidentsWithPostmortems,
  writePostmortem,
} from '#lib/incidents/service.ts';
import { KILL_SWITCH_UNIT } from '#lib/kill-switch/flips.ts';
import type { Html } from '#lib/presentation/html.ts';
import type { WorkflowRegistry } from '#lib/registry/workflows.ts';
import { logger } from '../commons/powertools.ts';

/**
 * The console's Incidents pages (`GET /incidents`, `GET /incidents/{incidentId}`,
 * `POST /incidents/{incidentId}/postmortem`), called from make-handler.ts's route switch with the
 * console's own `page` and `redirect`, so every answer has the console's frame and headers.
 */

export interface IncidentRequest {
  readonly event: APIGatewayProxyEvent;
  readonly frame: PageFrame;
  readonly session: { readonly csrf: string };
  readonly person: Person;
  readonly registry: WorkflowRegistry;
}

export interface ConsoleAnswers {
  page(
    status: number,
    frame: PageFrame,
    title: string,
    body: Html,
    current?: ConsolePage,
    flash?: Flash,
  ): APIGatewayProxyResult;
  redirect(location: string): APIGatewayProxyResult;
}

/** How many events of each workflow the incident page lists around the flip. */
const AROUND_EVENTS = 100;

/**
 * Writing a postmortem takes the operator or the reviewer role on every workflow the incident stopped:
 * operators flipped (or turned back on) the lane and reviewers judged the defects the drift figures come
 * from, so both know what happened; a viewer reads. Every workflow, because the impact it states is
 * each one's (a master-flag incident speaks for all of them).
 */
export function mayWritePostmortem(person: Person, incident: Pick<Incident, 'workflowIds'>): boolean {
  return incident.workflowIds.every(
    (workflowId) => hasRole(person, 'operator', workflowId) || hasRole(person, 'reviewer', workflowId),
  );
}

export function makeIncidentPages(deps: IncidentDependencies, answers: ConsoleAnswers) {
  const shows = (request: IncidentRequest) => (workflowId: string) => mayView(request.person, workflowId);

  async function list(request: IncidentRequest): Promise<APIGatewayProxyResult> {
    const incidents = await incidentsWithPostmortems(request.registry.ids(), deps, shows(request));
    return answers.page(200, request.frame, 'Incidents', incidentsBody(incidents), 'incidents');
  }

  /** The incident of the path among the workflows the person may view (an unknown one is a 404). */
  async function incidentOf(request: IncidentRequest) {
    return findIncident(
      request.event.pathParameters?.incidentId ?? '',
      request.registry.ids(),
      deps,
      shows(request),
    );
  }

  async function show(
    request: IncidentRequest,
    rejected?: { form: Omit<PostmortemForm, 'csrf'>; status: number },
  ): Promise<APIGatewayProxyResult> {
    const incident = await incidentOf(request);
    const nowMs = deps.clock().getTime();
    const nowSeconds = Math.floor(nowMs / 1000);
    const [impacts, around] = await Promise.all([
      incidentImpact(incident, deps.index, nowMs),
      Promise.all(
        incident.workflowIds.map(async (workflowId) => {
          const events: LedgerEvent[] = [];
          let truncated = false;
          for await (const stored of deps.index.events(aroundRange(incident, workflowId, nowSeconds))) {
            if (stored.event.unitId === KILL_SWITCH_UNIT) continue;
            if (events.length === AROUND_EVENTS) {
              truncated = true;
              break;
            }
            events.push(stored.event);
          }
          return { workflowId, events, truncated };
        }),
      ),
    ]);
    const postmortem = incident.postmortem;
    const stored = postmortem
      ? {
          whatHappened: postmortem.whatHappened,
          impact: postmortem.impact,
          fix: postmortem.fix,
          followUps: postmortem.followUps.map((f) => `${f.action} — ${f.owner}`).join('\n'),
        }
      : { whatHappened: '', impact: impactSummary(impacts), fix: '', followUps: '' };
    const writable = mayWritePostmortem(request.person, incident);
    const query = request.event.queryStringParameters ?? {};
    const flash = query.done ? { text: query.done.slice(0, 500) } : undefined;
    return answers.page(
      rejected?.status ?? 200,
      request.frame,
      `Incident ${incident.incidentId}`,
      incidentBody({
        incident,
        impacts,
        around,
        ...(writable ? { form: { csrf: request.session.csrf, ...(rejected?.form ?? stored) } } : {}),
        writeRoleNote: `Writing the postmortem takes the operator or reviewer role on ${incident.workflowIds.join(', ')}.`,
      }),
      'incidents',
      flash,
    );
  }

  async function savePostmortem(
    request: IncidentRequest,
    form: URLSearchParams,
  ): Promise<APIGatewayProxyResult> {
    const incident = await incidentOf(request);
    if (!mayWritePostmortem(request.person, incident)) {
      throw new WorkflowNotAllowedError(
        incident.workflowIds.filter(
          (id) => !hasRole(request.person, 'operator', id) && !hasRole(request.person, 'reviewer', id),
        ),
      );
    }
    const fields = {
      whatHappened: form.get('whatHappened') ?? '',
      impact: form.get('impact') ?? '',
      fix: form.get('fix') ?? '',
      followUps: form.get('followUps') ?? '',
    };
    let content: ReturnType<typeof postmortemFromForm>;
    try {
      content = postmortemFromForm(fields);
    } catch (error) {
      if (!(error instanceof InvalidPostmortemError)) throw error;
      return show(request, { form: { ...fields, error: `Not saved: ${error.message}.` }, status: 400 });
    }
    // Who wrote it is who is signed in, never what a form says.
    const stored = await writePostmortem(incident, content, request.person.name, deps);
    logger.info('postmortem written', { incidentId: incident.incidentId, version: stored.version });
    const done = `Postmortem saved (version ${stored.version}).`;
    return answers.redirect(
      `${request.frame.base}${consoleHref('incidents', incident.incidentId)}?done=${encodeURIComponent(done)}`,
    );
  }

  return { list, show, savePostmortem };
}
