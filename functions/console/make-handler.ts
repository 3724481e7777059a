import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  mayOperate,
  mayReview,
  mayView,
  type Person,
  personFromGroups,
  personFromToken,
} from '#lib/auth/people.ts';
import type { TokenStore } from '#lib/auth/tokens.ts';
import { verifyToken } from '#lib/auth/tokens.ts';
import {
  type ConsolePage,
  consoleCsp,
  consoleHref,
  consolePage,
  type Flash,
  type PageFrame,
} from '#lib/console/layout.ts';
import type { OidcSignIn } from '#lib/console/oidc.ts';
import { IdentityProviderUnavailableError, SignInFailedError } from '#lib/console/oidc.ts';
import { renderOverview, renderReports } from '#lib/console/overview/render.ts';
import {
  contentTypeFor,
  costPerUnitWorkflowOf,
  REPORTS_PATH,
  RefusedReportKeyError,
  reportKeyOf,
} from '#lib/console/overview/reports.ts';
import { type DashboardDependencies, loadDashboard } from '#lib/console/overview/view.ts';
import {
  type FlipRecord,
  type KillSwitchRow,
  killSwitchBody,
  messageBody,
  type ReviewCoverage,
  reviewsBody,
  signInWithProviderBody,
  signInWithTokenBody,
  unitBody,
  unitLookupForm,
} from '#lib/console/pages.ts';
import {
  anonymousSession,
  csrfMatches,
  type Session,
  type SessionSealer,
  type SignedInAs,
  signedInSession,
} from '#lib/console/session.ts';
import { InvalidRequestError, UnknownWorkflowError, WorkflowNotAllowedError } from '#lib/errors.ts';
import type { ActorHasher } from '#lib/events/actor-hashing.ts';
import type { PostmortemStore } from '#lib/incidents/postmortem.ts';
import { type IngestDependencies, ingestEvents } from '#lib/ingest/ingest-events.ts';
import type { AutonomyState } from '#lib/kill-switch/autonomy.ts';
import type { DrillStore } from '#lib/kill-switch/drills.ts';
import { flipKillSwitch } from '#lib/kill-switch/flip.ts';
import { KILL_SWITCH_UNIT } from '#lib/kill-switch/flips.ts';
import { MASTER_FLAG } from '#lib/kill-switch/names.ts';
import type { FlagReader, FlagWriter } from '#lib/kill-switch/ports.ts';
import { DrillRefusedError, runDrill } from '#lib/kill-switch/run-drill.ts';
import { isoWeekOf, weekBounds } from '#lib/kpi/weeks.ts';
import type { EventIndex } from '#lib/ports.ts';
import { html } from '#lib/presentation/html.ts';
import { type ArchiveTier, overTiers, tieredEventPage } from '#lib/read/tiered-events.ts';
import {
  LANES,
  type Lane,
  type RegistrySource,
  type RolloutPhase,
  type WorkflowRegistry,
} from '#lib/registry/workflows.ts';
import type { ReviewItem, ReviewQueue } from '#lib/reviews/queue.ts';
import { HttpError, header } from '../commons/http.ts';
import type { HttpRouteHandler } from '../commons/middy-stack.ts';
import { logger } from '../commons/powertools.ts';
import { readBodyBytes } from '../commons/request-body.ts';
import { makeIncidentPages } from './incidents.ts';
import { CONSOLE_SCRIPT } from './script.ts';

/** How people sign in: with their ledger token (local), or through the user pool's managed login (cloud). */
export type SignInMethod =
  | { readonly kind: 'token'; readonly tokens: TokenStore }
  | {
      readonly kind: 'oidc';
      /** The code flow for a callback URL (the console's own, as the browser reached it). */
      readonly oidc: (redirectUri: string) => OidcSignIn;
      /** The managed login's origin: sign-out posts end there, so the policy's form-action names it. */
      readonly logoutOrigin?: string;
    };

export interface ConsoleDependencies {
  readonly registry: RegistrySource;
  readonly sessions: SessionSealer;
  readonly signIn: SignInMethod;
  /** What the Overview reads: the KPI store, the reports bucket, rollout-phase violations. */
  readonly overview: Omit<DashboardDependencies, 'registry' | 'clock'>;
  /** `autonomy` as `GET /autonomy` answers it: the same flag reader, flip history and phase gate. */
  readonly autonomy: (workflowId: string, rolloutPhase: RolloutPhase) => Promise<AutonomyState>;
  readonly flags: { readonly reader: FlagReader; readonly writer: FlagWriter };
  readonly drills: DrillStore;
  readonly reviews: ReviewQueue;
  readonly index: EventIndex;
  /** A unit the index no longer holds (its events left the hot window) is read from here. */
  readonly archive: ArchiveTier;
  /** Verdicts are events: written by the ingest use case, as if posted to `/v1/events`. */
  readonly ingest: Omit<IngestDependencies, 'registry'>;
  readonly hasher: ActorHasher;
  readonly clock: () => Date;
  /** Secure cookies (`__Host-` prefixed): everywhere but on the loopback HTTP of the local stack. */
  readonly secureCookies: boolean;
  /** How long each half of a drill may take to show in /autonomy. */
  readonly drillTimeoutMs: number;
  /** Where flips are made, for the drill record ("local stack", "stage prod"). */
  readonly target: string;
  /** Incidents' postmortems (the Incidents pages). */
  readonly postmortems: PostmortemStore;
}

/** The longest form body the console reads: a verdict or a flip is a few hundred bytes. */
const MAX_FORM_BYTES = 16 * 1024;
/** How many pending units the Reviews page lists, and how many events a unit's page shows. */
const QUEUE_PAGE = 50;
const UNIT_EVENTS = 200;
/** A verdict's Minutes: at most a working day. */
const MAX_REVIEW_MINUTES = 600;

/** Sends a response, with the session's cookie when the session is new or changed (`next`). */
type Answer = (
  response: APIGatewayProxyResult,
  next?: Session,
) => Promise<APIGatewayProxyResult> | APIGatewayProxyResult;

interface Request {
  readonly event: APIGatewayProxyEvent;
  readonly frame: PageFrame;
  readonly session: Session;
  readonly person: Person;
  readonly registry: WorkflowRegistry;
  readonly now: Date;
}

/**
 * The console (SPEC "Console"): server-rendered pages, one function for every console route of the route
 * table, the same code behind API Gateway and in the local stack. Every request opens the session
 * cookie, every page needs a signed-in person, every form post its CSRF token, and every action checks
 * the person's role on the workflow here, on the server. What it throws the error boundary answers, as a
 * page (`presentConsoleError`).
 */
export function makeConsoleHandler(deps: ConsoleDependencies): HttpRouteHandler {
  const cookieName = deps.secureCookies ? '__Host-agent-ledger-session' : 'agent-ledger-session';
  const incidents = makeIncidentPages(
    { index: deps.index, postmortems: deps.postmortems, clock: deps.clock },
    { page, redirect },
  );

  return async (event) => {
    const route = `${event.httpMethod} ${event.resource}`;
    if (route === 'GET /console.js') return script();
    const now = deps.clock();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const opened = await deps.sessions.open(cookieOf(event, cookieName), now);
    const session = opened && opened.expiresAt > nowSeconds ? opened : anonymousSession(nowSeconds);
    const base = basePath(event);
    const frameFor = (current: Session, person?: Person): PageFrame => ({
      base,
      csp: consoleCsp(
        deps.signIn.kind === 'oidc' && deps.signIn.logoutOrigin ? [deps.signIn.logoutOrigin] : [],
      ),
      csrf: current.csrf,
      ...(person ? { person } : {}),
    });
    const withSession = async (
      response: APIGatewayProxyResult,
      next: Session,
    ): Promise<APIGatewayProxyResult> => ({
      ...response,
      multiValueHeaders: {
        ...response.multiValueHeaders,
        'set-cookie': [
          await sessionCookie(deps.sessions, cookieName, next, deps.secureCookies, base, nowSeconds),
        ],
      },
    });
    // A new or changed session goes back to the browser with the answer.
    const answer = (response: APIGatewayProxyResult, next: Session = session) =>
      next === opened ? response : withSession(response, next);

    const form = event.httpMethod === 'POST' ? readForm(event) : undefined;
    if (form && !csrfMatches(session, form.get('csrf') ?? undefined)) {
      return answer(
        page(
          403,
          frameFor(session),
          'Refused',
          messageBody(
            'This form has expired or did not come from the console. Open the page again and resend it.',
            [{ href: './', text: 'Overview' }],
          ),
        ),
      );
    }

    // The sign-in routes work without a person.
    switch (route) {
      case 'GET /sign-in':
        return signInPage(event, session, frameFor(session), nowSeconds, answer);
      case 'POST /sign-in':
        return signInWithToken(form as URLSearchParams, session, frameFor(session), nowSeconds, answer);
      case 'GET /sign-in/callback':
        return completeProviderSignIn(event, session, frameFor(session), nowSeconds, answer);
      case 'POST /sign-out': {
        const signedOut = anonymousSession(nowSeconds);
        const logout =
          deps.signIn.kind === 'oidc'
            ? deps.signIn
                .oidc(absoluteUrl(event, base, 'sign-in/callback'))
                .logoutUrl(absoluteUrl(event, base, 'sign-in?signedOut=1'))
            : undefined;
        return withSession(redirect(logout?.toString() ?? `${base}sign-in?signedOut=1`), signedOut);
      }
    }

    // The sign-in link `npm start` prints (`/?token=…`, as Jupyter's): signs in, then drops the token.
    const linkToken =
      event.httpMethod === 'GET' && deps.signIn.kind === 'token'
        ? event.queryStringParameters?.token
        : undefined;
    if (linkToken !== undefined) {
      const signedIn = await tokenSignIn(linkToken, nowSeconds);
      const rest = queryOf(event);
      rest.delete('token');
      const target = `${base}${event.path.replace(/^\//, '')}${rest.size > 0 ? `?${rest}` : ''}`;
      if (signedIn) return withSession(redirect(target), signedIn);
      return answer(
        page(
          401,
          frameFor(session),
          'Sign in',
          signInWithTokenBody(
            session.csrf,
            returnPath(event),
            'That sign-in link holds no token of a person (it is unknown, revoked, or an agent service’s).',
          ),
        ),
      );
    }

    const person = session.signedIn ? await personOf(session.signedIn) : undefined;
    if (!person) {
      // A signed-in session whose token was revoked since is signed out here.
      const next = session.signedIn ? anonymousSession(nowSeconds) : session;
      if (event.httpMethod === 'GET')
        return answer(redirect(`${base}sign-in?returnTo=${encodeURIComponent(returnPath(event))}`), next);
      return answer(
        page(
          401,
          frameFor(next),
          'Sign in',
          messageBody('Your session has ended; sign in again, then resend the form.', [
            { href: 'sign-in', text: 'Sign in' },
          ]),
        ),
        next,
      );
    }

    const request: Request = {
      event,
      frame: frameFor(session, person),
      session,
      person,
      registry: await deps.registry.current(),
      now,
    };
    const respond = (response: APIGatewayProxyResult) => answer(response);
    switch (route) {
      case 'GET /':
        return respond(await overviewPage(request));
      case 'GET /reports':
        return respond(await reportsPage(request));
      case 'GET /reports/{key+}':
        return respond(await reportObject(request));
      case 'GET /units':
        return respond(unitLookup(request));
      case 'GET /units/{workflowId}/{unitId}':
        return respond(await unitPage(request));
      case 'POST /units/{workflowId}/{unitId}':
        return respond(await submitVerdict(request, form as URLSearchParams));
      case 'GET /reviews':
        return respond(await reviewsPage(request));
      case 'GET /kill-switch':
        return respond(await killSwitchPage(request));
      case 'POST /kill-switch/{flag}':
        return respond(await flip(request, form as URLSearchParams));
      case 'POST /kill-switch/{flag}/drill':
        return respond(await drill(request));
      // Incidents and postmortems (issue 10 item 3): functions/console/incidents.ts.
      case 'GET /incidents':
        return respond(await incidents.list(request));
      case 'GET /incidents/{incidentId}':
        return respond(await incidents.show(request));
      case 'POST /incidents/{incidentId}/postmortem':
        return respond(await incidents.savePostmortem(request, form as URLSearchParams));
      default:
        throw new HttpError(404, 'not_found', `the console has no page ${event.httpMethod} ${event.path}`);
    }
  };

  // --- Sign-in -----------------------------------------------------------------------------------------

  async function tokenSignIn(token: string, nowSeconds: number): Promise<Session | undefined> {
    if (deps.signIn.kind !== 'token') return undefined;
    const caller = await verifyToken(token.trim(), deps.signIn.tokens);
    if (!caller) return undefined;
    const tokenId = caller.principal.replace(/^token:/, '');
    const record = await deps.signIn.tokens.getToken(tokenId);
    if (!record || !personFromToken(record)) return undefined;
    return signedInSession({ kind: 'token', tokenId }, nowSeconds);
  }

  /** Who a session's sign-in stands for now: a token revoked (or stripped of its roles) since is no one. */
  async function personOf(signedIn: SignedInAs): Promise<Person | undefined> {
    if (signedIn.kind === 'token') {
      if (deps.signIn.kind !== 'token') return undefined;
      const record = await deps.signIn.tokens.getToken(signedIn.tokenId);
      return record ? personFromToken(record) : undefined;
    }
    if (deps.signIn.kind !== 'oidc') return undefined;
    return personFromGroups({ subject: signedIn.subject, name: signedIn.name, groups: signedIn.groups });
  }

  async function signInPage(
    event: APIGatewayProxyEvent,
    session: Session,
    frame: PageFrame,
    nowSeconds: number,
    answer: Answer,
  ): Promise<APIGatewayProxyResult> {
    const query = event.queryStringParameters ?? {};
    const returnTo = safeReturnTo(query.returnTo);
    const signedOut = query.signedOut !== undefined ? 'You are signed out.' : undefined;
    if (deps.signIn.kind === 'token') {
      return answer(
        page(
          200,
          frame,
          'Sign in',
          html`${signedOut && html`<p class="flash" role="status">${signedOut}</p>`}${signInWithTokenBody(session.csrf, returnTo)}`,
        ),
      );
    }
    if (signedOut !== undefined && query.start === undefined) {
      return answer(page(200, frame, 'Sign in', signInWithProviderBody(signedOut)));
    }
    // Straight on to the managed login, keeping what the callback must match in the session.
    const { url, pending } = await deps.signIn
      .oidc(absoluteUrl(event, frame.base, 'sign-in/callback'))
      .begin()
      .catch(providerUnavailable);
    const next: Session = {
      ...session,
      pending: { ...pending, returnTo },
      expiresAt: Math.max(session.expiresAt, nowSeconds + 600),
    };
    return answer(redirect(url.toString()), next);
  }

  async function signInWithToken(
    form: URLSearchParams,
    session: Session,
    frame: PageFrame,
    nowSeconds: number,
    answer: Answer,
  ): Promise<APIGatewayProxyResult> {
    const returnTo = safeReturnTo(form.get('returnTo') ?? undefined);
    if (deps.signIn.kind !== 'token')
      throw new HttpError(404, 'not_found', 'sign in through your organization’s account');
    const token = form.get('token') ?? '';
    const signedIn = token.trim() === '' ? undefined : await tokenSignIn(token, nowSeconds);
    if (!signedIn) {
      const why =
        token.trim() === ''
          ? 'Enter your token.'
          : 'That token is unknown or revoked, or it is an agent service’s token (without roles), which cannot sign in.';
      return answer(page(401, frame, 'Sign in', signInWithTokenBody(session.csrf, returnTo, why)));
    }
    return answer(redirect(`${frame.base}${returnTo.replace(/^\//, '')}`), signedIn);
  }

  async function completeProviderSignIn(
    event: APIGatewayProxyEvent,
    session: Session,
    frame: PageFrame,
    nowSeconds: number,
    answer: Answer,
  ): Promise<APIGatewayProxyResult> {
    if (deps.signIn.kind !== 'oidc')
      throw new HttpError(404, 'not_found', 'the local console signs in with a token');
    const pending = session.pending;
    const again = [{ href: 'sign-in?start=1', text: 'Sign in again' }];
    if (!pending)
      return answer(
        page(
          400,
          frame,
          'Sign-in failed',
          messageBody('This sign-in was not started here, or took too long. Sign in again.', again),
        ),
      );
    const callback = new URL(absoluteUrl(event, frame.base, 'sign-in/callback'));
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {}))
      if (value !== undefined) callback.searchParams.set(name, value);
    try {
      const signedIn = await deps.signIn
        .oidc(absoluteUrl(event, frame.base, 'sign-in/callback'))
        .complete(callback, pending);
      const person = personFromGroups({
        subject: signedIn.subject,
        name: signedIn.name,
        groups: signedIn.groups,
      });
      if (!person) {
        return answer(
          page(
            403,
            frame,
            'No access',
            messageBody(
              `You are signed in as ${signedIn.name}, but no console role is yours yet: ask an administrator to add you to a group (viewer, reviewer or operator, for every workflow or as role:workflow).`,
            ),
          ),
          anonymousSession(nowSeconds),
        );
      }
      const next = signedInSession(
        { kind: 'oidc', subject: signedIn.subject, name: signedIn.name, groups: signedIn.groups },
        nowSeconds,
        signedIn.expiresAt,
      );
      return answer(redirect(`${frame.base}${pending.returnTo.replace(/^\//, '')}`), next);
    } catch (error) {
      if (error instanceof SignInFailedError) {
        return answer(
          page(400, frame, 'Sign-in failed', messageBody(error.message, again)),
          anonymousSession(nowSeconds),
        );
      }
      return providerUnavailable(error);
    }
  }

  // --- Pages -------------------------------------------------------------------------------------------

  function visibleIds(request: Request): string[] {
    return request.registry.ids().filter((id) => mayView(request.person, id));
  }

  /**
   * What the Overview reads, on the request's registry and clock, for the workflows `shows` lets through;
   * its cost-per-unit reports only for the person's workflows.
   */
  async function overviewOf(request: Request, shows: (workflowId: string) => boolean) {
    const view = await loadDashboard(
      { ...deps.overview, registry: { current: async () => request.registry }, clock: () => request.now },
      shows,
    );
    return onlyVisibleReports(view, request);
  }

  async function overviewPage(request: Request): Promise<APIGatewayProxyResult> {
    const view = await overviewOf(request, (id) => mayView(request.person, id));
    return page(
      200,
      request.frame,
      'Overview',
      renderOverview(view, unitLookupForm(visibleIds(request))),
      'overview',
      flashOf(request),
    );
  }

  async function reportsPage(request: Request): Promise<APIGatewayProxyResult> {
    // The reports alone: no workflow's KPIs or autonomy are read for this page.
    const view = await overviewOf(request, () => false);
    return page(200, request.frame, 'Reports', renderReports(view), 'reports');
  }

  /** Cost-per-unit reports are per workflow: only the person's workflows are listed (and served). */
  function onlyVisibleReports<T extends Awaited<ReturnType<typeof loadDashboard>>>(
    view: T,
    request: Request,
  ): T {
    if (!view.costPerUnit.ok) return view;
    const weeks = view.costPerUnit.value.weeks
      .map((week) => ({
        ...week,
        files: week.files.filter((file) => mayView(request.person, file.workflowId)),
      }))
      .filter((week) => week.files.length > 0);
    return { ...view, costPerUnit: { ok: true, value: { ...view.costPerUnit.value, weeks } } };
  }

  async function reportObject(request: Request): Promise<APIGatewayProxyResult> {
    const { event } = request;
    let key: string;
    try {
      key = reportKeyOf(
        `${REPORTS_PATH}${event.pathParameters?.key ?? ''}`,
        `${REPORTS_PATH}${event.pathParameters?.key ?? ''}`,
      );
    } catch (error) {
      if (error instanceof RefusedReportKeyError) throw new InvalidRequestError(error.message, []);
      throw error;
    }
    const workflowId = costPerUnitWorkflowOf(key);
    if (workflowId !== undefined && !mayView(request.person, workflowId))
      throw new WorkflowNotAllowedError([workflowId]);
    const object = await deps.overview.reports.open(key);
    if (!object) throw new HttpError(404, 'not_found', `there is no report ${key}`);
    const chunks: Buffer[] = [];
    for await (const chunk of object.body) chunks.push(chunk as Buffer);
    const type = contentTypeFor(key, object.contentType);
    return {
      statusCode: 200,
      headers: {
        ...SECURITY_HEADERS,
        // A report is a document: it runs no script and posts no form, whatever it holds.
        'content-security-policy':
          "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'content-type': type,
        ...(key.endsWith('.parquet')
          ? {
              'content-disposition': `attachment; filename="${(key.split('/').at(-1) ?? 'report').replace(/"/g, '')}"`,
            }
          : {}),
      },
      // Text goes as text: API Gateway passes a base64 body on as binary only to a client whose Accept
      // header names a binary media type of the API, which a browser's does not.
      ...(isText(type)
        ? { body: Buffer.concat(chunks).toString('utf8') }
        : { body: Buffer.concat(chunks).toString('base64'), isBase64Encoded: true }),
    };
  }

  function unitLookup(request: Request): APIGatewayProxyResult {
    const { workflowId = '', unitId = '' } = request.event.queryStringParameters ?? {};
    if (unitId.trim() === '' || workflowId === '') {
      throw new InvalidRequestError('give a workflow and a unit ID', [
        { index: null, path: 'query.unitId', message: 'is required' },
      ]);
    }
    return redirect(`${request.frame.base}${consoleHref('units', workflowId, unitId.trim())}`);
  }

  /** The workflow of the path, once it is registered and the person may see it (404, then 403). */
  function workflowOf(
    request: Request,
    check: (person: Person, workflowId: string) => boolean,
    name = 'workflowId',
  ): string {
    const workflowId = request.event.pathParameters?.[name] ?? '';
    if (!request.registry.get(workflowId)) throw new UnknownWorkflowError(workflowId);
    if (!check(request.person, workflowId)) throw new WorkflowNotAllowedError([workflowId]);
    return workflowId;
  }

  async function unitPage(
    request: Request,
    error?: { message: string; status: number },
  ): Promise<APIGatewayProxyResult> {
    const workflowId = workflowOf(request, mayView);
    const unitId = request.event.pathParameters?.unitId ?? '';
    const nowSeconds = Math.floor(request.now.getTime() / 1000);
    const query = { workflowId, unitId, limit: UNIT_EVENTS, nowSeconds };
    const [indexed, queue] = await Promise.all([deps.index.query(query), queueItemOf(workflowId, unitId)]);
    // Nothing in the index: the unit's events may have left the hot window, and the archive keeps them
    // for their retention. Read it only then, as GET …/events would (an Athena query in the cloud).
    const fromArchive = indexed.items.length === 0;
    const events = fromArchive
      ? await tieredEventPage(query, request.now.getTime(), overTiers(deps.index, deps.archive))
      : indexed;
    const body = unitBody(
      {
        workflowId,
        unitId,
        events: events.items.map((stored) => ({
          event: stored.event,
          receivedAt: stored.receivedAt,
          ...(stored.unlistedTools ? { unlistedTools: stored.unlistedTools } : {}),
        })),
        truncated: events.after !== undefined,
        fromArchive,
        hotIndexDays: deps.archive.hotIndexDays,
        queue,
        ownReviewerId: deps.hasher.hash('reviewerId', request.person.name),
      },
      request.person,
      {
        csrf: request.session.csrf,
        verdictId: randomUUID(),
        openedAt: request.now.getTime(),
        ...(error ? { error: error.message } : {}),
      },
    );
    return page(error?.status ?? 200, request.frame, `Unit ${unitId}`, body, 'reviews', flashOf(request));
  }

  async function queueItemOf(workflowId: string, unitId: string): Promise<ReviewItem | undefined> {
    // The queue is read by status; a unit is in one of the two.
    for (const status of ['pending', 'reviewed'] as const) {
      let after: string | undefined;
      do {
        const listed = await deps.reviews.list({
          workflowId,
          status,
          limit: 100,
          ...(after ? { after } : {}),
        });
        const found = listed.items.find((item) => item.unitId === unitId);
        if (found) return found;
        after = listed.after;
      } while (after);
    }
    return undefined;
  }

  async function submitVerdict(request: Request, form: URLSearchParams): Promise<APIGatewayProxyResult> {
    const workflowId = workflowOf(request, mayReview);
    const unitId = request.event.pathParameters?.unitId ?? '';
    const parsed = parseVerdictForm(form, request.now.getTime());
    if ('error' in parsed) return unitPage(request, { message: parsed.error, status: 400 });
    const verdict = {
      workflowId,
      unitId,
      // The form's own ID: a second submit of the same form is the same event, stored once.
      eventId: `verdict-${parsed.verdictId}`,
      type: 'review.verdict',
      occurredAt: request.now.toISOString(),
      // Who judged is who is signed in, never what a form says.
      reviewerId: request.person.name,
      verdict: parsed.verdict,
      reviewMinutes: parsed.minutes,
      ...(parsed.category !== undefined ? { category: parsed.category } : {}),
      ...(parsed.escaped !== undefined ? { escaped: parsed.escaped } : {}),
    };
    const caller = { principal: request.person.id, workflows: new Set([workflowId]) };
    const result = await ingestEvents({ events: [verdict] }, caller, {
      ...deps.ingest,
      registry: request.registry,
    });
    const status = result.results?.[0]?.status;
    // A resend of the same form differs from the stored verdict in its time only: it is that verdict again.
    if (status === 'conflict' && !(await sameVerdictStored(request, verdict))) {
      return unitPage(request, {
        message:
          'This form was already sent with other answers; the first verdict stands. Reload the page to judge again.',
        status: 409,
      });
    }
    logger.info('verdict recorded', { workflowId, verdict: parsed.verdict, status });
    // On to the next unit waiting in the same workflow, oldest first.
    // The next unit is the one the Reviews page lists first: the oldest completion still waiting.
    const waiting = await deps.reviews.list({ workflowId, status: 'pending', limit: QUEUE_PAGE + 1 });
    const next = waiting.items.filter((item) => item.unitId !== unitId).sort(oldestFirst)[0];
    const done = `Verdict recorded: ${parsed.verdict} for ${unitId}.`;
    return redirect(
      next
        ? `${request.frame.base}${consoleHref('units', workflowId, next.unitId)}?done=${encodeURIComponent(done)}`
        : `${request.frame.base}reviews?done=${encodeURIComponent(`${done} Nothing else is waiting in ${workflowId}.`)}`,
    );
  }

  /** Whether the verdict stored under this form's event ID has the same reviewer and answers. */
  async function sameVerdictStored(
    request: Request,
    verdict: { workflowId: string; unitId: string; eventId: string; reviewerId: string } & Partial<
      Record<'verdict' | 'reviewMinutes' | 'category' | 'escaped', unknown>
    >,
  ): Promise<boolean> {
    const stored = await deps.index.query({
      workflowId: verdict.workflowId,
      unitId: verdict.unitId,
      type: 'review.verdict',
      limit: UNIT_EVENTS,
      nowSeconds: Math.floor(request.now.getTime() / 1000),
    });
    const event = stored.items.find((item) => item.event.eventId === verdict.eventId)?.event;
    return (
      event?.type === 'review.verdict' &&
      event.reviewerId === deps.hasher.hash('reviewerId', verdict.reviewerId) &&
      event.verdict === verdict.verdict &&
      event.reviewMinutes === verdict.reviewMinutes &&
      event.category === verdict.category &&
      event.escaped === verdict.escaped
    );
  }

  async function reviewsPage(request: Request): Promise<APIGatewayProxyResult> {
    const query = request.event.queryStringParameters ?? {};
    const visible = visibleIds(request);
    const issues = [];
    const workflowFilter = query.workflowId ? query.workflowId : undefined;
    const laneFilter = query.lane ? query.lane : undefined;
    if (workflowFilter !== undefined && !visible.includes(workflowFilter)) {
      issues.push({
        index: null,
        path: 'query.workflowId',
        message: `must be one of your workflows: ${visible.join(', ')}`,
      });
    }
    if (laneFilter !== undefined && !(LANES as readonly string[]).includes(laneFilter)) {
      issues.push({ index: null, path: 'query.lane', message: `must be one of ${LANES.join(', ')}` });
    }
    if (issues.length > 0) throw new InvalidRequestError('the filter is invalid', issues);
    const lane = laneFilter as Lane | undefined;
    const workflows = workflowFilter ? [workflowFilter] : visible;
    const week = isoWeekOf(request.now.getTime());
    const [queues, coverage] = await Promise.all([
      Promise.all(
        workflows.map((workflowId) =>
          deps.reviews.list({ workflowId, status: 'pending', limit: QUEUE_PAGE, ...(lane ? { lane } : {}) }),
        ),
      ),
      Promise.all(workflows.map((workflowId) => coverageOf(request, workflowId, week))),
    ]);
    const pending = queues.flatMap((listed) => listed.items).sort(oldestFirst);
    const more = queues.some((listed) => listed.after !== undefined) || pending.length > QUEUE_PAGE;
    const body = reviewsBody(
      {
        week,
        workflowIds: visible,
        filter: { ...(workflowFilter ? { workflowId: workflowFilter } : {}), ...(lane ? { lane } : {}) },
        pending: pending.slice(0, QUEUE_PAGE),
        more,
        coverage,
      },
      request.person,
    );
    return page(200, request.frame, 'Reviews', body, 'reviews', flashOf(request));
  }

  /** This week so far: units completed, units with a verdict, against the workflow's sample rate. */
  async function coverageOf(request: Request, workflowId: string, week: string): Promise<ReviewCoverage> {
    const { startMs } = weekBounds(week);
    const nowSeconds = Math.floor(request.now.getTime() / 1000);
    const selection = { workflowId, fromMs: startMs, toMs: request.now.getTime() + 1, nowSeconds };
    let completed = 0;
    for await (const _ of deps.index.events({ ...selection, type: 'unit.completed' })) completed++;
    const reviewed = new Set<string>();
    for await (const stored of deps.index.events({ ...selection, type: 'review.verdict' }))
      reviewed.add(stored.event.unitId);
    // Issue 10 §5: actions calling a tool the boundary does not list, shown so their policy gets written.
    let unlistedToolActions = 0;
    for await (const _ of deps.index.events({
      ...selection,
      type: 'action',
      onlyViolations: 'unlisted-tool',
    }))
      unlistedToolActions++;
    return {
      workflowId,
      completedThisWeek: completed,
      reviewedThisWeek: reviewed.size,
      unlistedToolActions,
      sampleRate: request.registry.get(workflowId)?.reviewSampleRate ?? 0,
    };
  }

  async function killSwitchPage(request: Request): Promise<APIGatewayProxyResult> {
    const visible = visibleIds(request);
    const nowSeconds = Math.floor(request.now.getTime() / 1000);
    const [rows, master, history] = await Promise.all([
      Promise.all(
        visible.map(async (workflowId): Promise<KillSwitchRow> => {
          const workflow = request.registry.get(workflowId);
          const [autonomy, drills] = await Promise.all([
            deps.autonomy(workflowId, workflow?.rolloutPhase ?? 'autonomous').catch((error: unknown) => ({
              error: `the flags could not be read: ${error instanceof Error ? error.message : String(error)}`,
            })),
            deps.drills.listDrills(workflowId, 1),
          ]);
          return { workflowId, autonomy, lastDrill: drills[0] };
        }),
      ),
      deps.flags.reader.read().then(
        (snapshot) => ({ enabled: snapshot.values[MASTER_FLAG]?.enabled ?? false }),
        (error: unknown) => ({
          enabled: null,
          error: error instanceof Error ? error.message : String(error),
        }),
      ),
      flipHistory(visible, nowSeconds),
    ]);
    const whoMayFlip = (workflowId: string) =>
      deps.signIn.kind === 'oidc'
        ? `members of the groups operator and operator:${workflowId}`
        : `tokens with the operator role on ${workflowId}`;
    return page(
      200,
      request.frame,
      'Kill switch',
      killSwitchBody({ rows, master, whoMayFlip, history }, request.person, request.session.csrf),
      'kill-switch',
      flashOf(request),
    );
  }

  /** The newest flips of the person's workflows (the flip recorder's `rollback` events), newest first. */
  async function flipHistory(workflowIds: readonly string[], nowSeconds: number): Promise<FlipRecord[]> {
    const flips: FlipRecord[] = [];
    await Promise.all(
      workflowIds.map(async (workflowId) => {
        const page = await deps.index.query({
          workflowId,
          unitId: KILL_SWITCH_UNIT,
          type: 'rollback',
          limit: 100,
          nowSeconds,
        });
        for (const { event } of page.items) {
          if (event.type !== 'rollback') continue;
          flips.push({
            workflowId,
            occurredAt: event.occurredAt,
            to: String(event.to ?? ''),
            reason: event.reason,
            initiatedBy: event.initiatedBy,
            master: event.metadata?.scope === 'all-workflows',
          });
        }
      }),
    );
    // A master flip is recorded for every workflow: show it once.
    const seen = new Set<string>();
    return flips
      .sort((a, b) => b.occurredAt.localeCompare(a.occurredAt))
      .filter((flip) => {
        const key = flip.master
          ? `master ${flip.occurredAt} ${flip.to}`
          : `${flip.workflowId} ${flip.occurredAt} ${flip.to}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .slice(0, 20);
  }

  async function flip(request: Request, form: URLSearchParams): Promise<APIGatewayProxyResult> {
    const flag = request.event.pathParameters?.flag ?? '';
    if (flag !== MASTER_FLAG && !request.registry.get(flag)) throw new UnknownWorkflowError(flag);
    if (!mayOperate(request.person, flag)) throw new WorkflowNotAllowedError([flag]);
    const enabled = form.get('enabled');
    if (enabled !== 'true' && enabled !== 'false') {
      throw new InvalidRequestError('say whether to turn the lane on or off', [
        { index: null, path: 'form.enabled', message: 'must be true ("Turn on") or false ("Turn off")' },
      ]);
    }
    // The one flip path, as the CLI and the API take: recorded with the person as who.
    const result = await flipKillSwitch(
      flag,
      { enabled: enabled === 'true', reason: form.get('reason') ?? '' },
      request.person.name,
      {
        writer: deps.flags.writer,
        registry: request.registry,
      },
    );
    const subject =
      flag === MASTER_FLAG
        ? 'Every autonomous lane follows its own flag again'
        : `The autonomous lane of ${flag} is now`;
    const done =
      flag === MASTER_FLAG
        ? result.enabled
          ? subject
          : 'Every autonomous lane is stopped (master switch off)'
        : `${subject} ${result.enabled ? 'on' : 'off'} (deployment ${result.deploymentNumber}).`;
    return redirect(`${request.frame.base}kill-switch?done=${encodeURIComponent(done)}`);
  }

  async function drill(request: Request): Promise<APIGatewayProxyResult> {
    const workflowId = workflowOf(request, mayOperate, 'flag');
    const workflow = request.registry.get(workflowId);
    try {
      const record = await runDrill(
        workflowId,
        {
          by: request.person.name,
          target: deps.target,
          timeoutMs: deps.drillTimeoutMs,
          rolloutPhase: workflow?.rolloutPhase,
        },
        {
          flip: (enabled, reason) =>
            flipKillSwitch(workflowId, { enabled, reason }, request.person.name, {
              writer: deps.flags.writer,
              registry: request.registry,
            }),
          autonomy: () => deps.autonomy(workflowId, workflow?.rolloutPhase ?? 'autonomous'),
          drills: deps.drills,
        },
      );
      const done =
        record.outcome === 'passed'
          ? `Drill ${record.drillId} on ${workflowId} passed: off took effect in ${record.offEffectMs} ms, on again in ${record.onEffectMs} ms.`
          : `Drill ${record.drillId} on ${workflowId} FAILED: ${record.detail}.`;
      return redirect(
        `${request.frame.base}kill-switch?${record.outcome === 'passed' ? 'done' : 'failed'}=${encodeURIComponent(done)}`,
      );
    } catch (error) {
      if (error instanceof DrillRefusedError) {
        return redirect(
          `${request.frame.base}kill-switch?failed=${encodeURIComponent(`No drill: ${error.message}.`)}`,
        );
      }
      throw error;
    }
  }
}

function isText(contentType: string): boolean {
  return /^(text\/|application\/(json|xml)\b)/.test(contentType);
}

/** The identity provider not answering (discovery, token endpoint, JWKS): a 503 that says retrying is safe. */
function providerUnavailable(error: unknown): never {
  if (error instanceof IdentityProviderUnavailableError) {
    throw new HttpError(
      503,
      'service_unavailable',
      'the sign-in service did not answer; signing in again is safe',
    );
  }
  throw error;
}

/** The review queue's order on the page: oldest completion first, ties by unit ID. */
function oldestFirst(a: ReviewItem, b: ReviewItem): number {
  return a.completedAt.localeCompare(b.completedAt) || a.unitId.localeCompare(b.unitId);
}

/** What a redirect after a form says happened (`?done=` or `?failed=`): shown as text, never markup. */
function flashOf(request: Request): Flash | undefined {
  const query = request.event.queryStringParameters ?? {};
  if (query.failed) return { text: query.failed.slice(0, 500), bad: true };
  if (query.done) return { text: query.done.slice(0, 500) };
  return undefined;
}

type VerdictFields = {
  verdictId: string;
  verdict: 'pass' | 'defect';
  minutes: number;
  category?: string;
  escaped?: boolean;
};

/** The verdict form, checked: what is wrong is said in the page, and nothing is stored. */
export function parseVerdictForm(form: URLSearchParams, nowMs: number): VerdictFields | { error: string } {
  const verdict = form.get('verdict');
  if (verdict !== 'pass' && verdict !== 'defect') return { error: 'Choose Pass or Defect.' };
  const verdictId = form.get('verdictId') ?? '';
  if (!/^[0-9a-f-]{36}$/.test(verdictId))
    return { error: 'The form is incomplete; reload the page and judge again.' };
  const category = (form.get('category') ?? '').trim();
  const escaped = form.get('escaped') === 'true';
  if (verdict === 'pass' && (category !== '' || escaped)) {
    return { error: 'Category and Escaped are for defects; clear them for a pass, or choose Defect.' };
  }
  if (category.length > 100) return { error: 'Category must be at most 100 characters.' };
  const typed = (form.get('minutes') ?? '').trim();
  let minutes: number;
  if (typed === '') {
    const openedAt = Number(form.get('openedAt'));
    if (!Number.isFinite(openedAt) || openedAt > nowMs) return { error: 'Enter the minutes you spent.' };
    minutes = Math.round(((nowMs - openedAt) / 60_000) * 10) / 10;
  } else {
    minutes = Number(typed);
    if (!Number.isFinite(minutes) || minutes < 0)
      return { error: `Minutes must be a number of minutes, 0 or more (got "${typed.slice(0, 20)}").` };
  }
  if (minutes > MAX_REVIEW_MINUTES)
    return {
      error: `Minutes must be at most ${MAX_REVIEW_MINUTES} (a working day); the page was open longer — enter the time you spent.`,
    };
  return {
    verdictId,
    verdict,
    minutes,
    ...(verdict === 'defect' && category !== '' ? { category } : {}),
    ...(verdict === 'defect' ? { escaped } : {}),
  };
}

// --- HTTP ------------------------------------------------------------------------------------------------

/**
 * The error boundary's answer as a page: its status, and its message (what is wrong, or that a retry is
 * safe) in words; the issues of an invalid request listed. Never a stack trace.
 */
export function presentConsoleError(
  response: APIGatewayProxyResult,
  event: APIGatewayProxyEvent,
): APIGatewayProxyResult {
  let message = 'The console could not answer.';
  let issues: { path: string; message: string }[] = [];
  try {
    const body = JSON.parse(response.body) as {
      message?: string;
      issues?: { path: string; message: string }[];
    };
    message = body.message ?? message;
    issues = body.issues ?? [];
  } catch {
    // A body that is not the boundary's JSON: the status says it all.
  }
  const title = TITLES[response.statusCode] ?? (response.statusCode >= 500 ? 'Unavailable' : 'Refused');
  const frame: PageFrame = { base: basePath(event), csp: consoleCsp(), csrf: '' };
  const body = html`${messageBody(`${message.charAt(0).toUpperCase()}${message.slice(1)}.`, [{ href: './', text: 'Overview' }])}${
    issues.length > 0
      ? html`<ul>${issues.map((issue) => html`<li><code>${issue.path}</code> ${issue.message}</li>`)}</ul>`
      : ''
  }`;
  const answer = page(response.statusCode, frame, title, body);
  return {
    ...answer,
    headers: {
      ...answer.headers,
      ...(response.headers?.['retry-after']
        ? { 'retry-after': String(response.headers['retry-after']) }
        : {}),
    },
  };
}

const TITLES: Record<number, string> = {
  400: 'Not understood',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Not a form',
  503: 'Unavailable, retry',
};

/** Every console answer: never cached, never framed, never sniffed, no referrer (a sign-in link carries a token). */
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function page(
  statusCode: number,
  frame: PageFrame,
  title: string,
  body: ReturnType<typeof html>,
  current?: ConsolePage,
  flash?: Flash,
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: {
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': frame.csp,
    },
    body: consolePage(frame, { title, body, ...(current ? { current } : {}), ...(flash ? { flash } : {}) }),
  };
}

/** 303: after a form post (and for every other move) the browser GETs the next page. */
function redirect(location: string): APIGatewayProxyResult {
  return { statusCode: 303, headers: { ...SECURITY_HEADERS, location }, body: '' };
}

function script(): APIGatewayProxyResult {
  return {
    statusCode: 200,
    headers: {
      ...SECURITY_HEADERS,
      'cache-control': 'max-age=300',
      'content-type': 'text/javascript; charset=utf-8',
    },
    body: CONSOLE_SCRIPT,
  };
}

/**
 * The console's root path, ending in `/`: what API Gateway's path has before the route's (`/prod/` for
 * `/prod/reviews` on the execute-api domain), `/` where they are the same (the local stack).
 */
export function basePath(event: APIGatewayProxyEvent): string {
  // Compared without trailing slashes: the stage's root may be reached as `/prod` (its path `/`).
  const full = (event.requestContext?.path ?? event.path).replace(/\/+$/, '');
  const route = event.path.replace(/\/+$/, '');
  const prefix = full.endsWith(route) ? full.slice(0, full.length - route.length) : '';
  return `${prefix.replace(/\/+$/, '')}/`;
}

function absoluteUrl(event: APIGatewayProxyEvent, base: string, path: string): string {
  const host = header(event, 'host') ?? 'localhost';
  const scheme =
    header(event, 'x-forwarded-proto') ??
    (host.startsWith('127.0.0.1') || host.startsWith('localhost') ? 'http' : 'https');
  return `${scheme}://${host}${base}${path}`;
}

/** The query string as sent (API Gateway's map, its undefined values left out). */
function queryOf(event: APIGatewayProxyEvent): URLSearchParams {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query.set(name, value);
  }
  return query;
}

/** Where the person was going, as a path relative to the base (query included). */
function returnPath(event: APIGatewayProxyEvent): string {
  const query = queryOf(event);
  query.delete('token');
  return `${event.path}${query.size > 0 ? `?${query}` : ''}`;
}

/** Only a path of this console: never another site (an open redirect), never a scheme-relative `//`. */
function safeReturnTo(value: string | undefined): string {
  if (
    value === undefined ||
    !value.startsWith('/') ||
    value.startsWith('//') ||
    value.includes('\\') ||
    /\p{Cc}/u.test(value)
  )
    return '/';
  if (value.startsWith('/sign-in') || value.startsWith('/sign-out')) return '/';
  return value;
}

function readForm(event: APIGatewayProxyEvent): URLSearchParams {
  const type = (header(event, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new HttpError(
      415,
      'unsupported_media_type',
      'the console takes its forms as application/x-www-form-urlencoded',
    );
  }
  return new URLSearchParams(readBodyBytes(event, MAX_FORM_BYTES).toString('utf8'));
}

function cookieOf(event: APIGatewayProxyEvent, name: string): string | undefined {
  const cookies = [
    header(event, 'cookie'),
    ...(event.multiValueHeaders?.cookie ?? event.multiValueHeaders?.Cookie ?? []),
  ]
    .filter((value): value is string => value !== undefined)
    .flatMap((value) => value.split(';'));
  for (const cookie of cookies) {
    const [key, ...value] = cookie.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

async function sessionCookie(
  sessions: SessionSealer,
  name: string,
  session: Session,
  secure: boolean,
  base: string,
  nowSeconds: number,
): Promise<string> {
  // `__Host-` cookies must have Path=/; elsewhere the cookie is the console's path only.
  const path = secure ? '/' : base;
  const maxAge = Math.max(0, session.expiresAt - nowSeconds);
  return `${name}=${await sessions.seal(session)}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
