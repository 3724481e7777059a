import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { requiredEnv } from '#functions/commons/environment.ts';
import { flagReaderFromEnvironment } from '#functions/commons/kill-switch.ts';
import { registryFromEnvironment } from '#functions/commons/registry.ts';
import { makeDocumentClient, makeS3Client } from '#lib/adapters/aws-clients.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { messageOf } from '#lib/errors.ts';
import { readAutonomy } from '#lib/kill-switch/autonomy.ts';
import { LedgerLaneHistory } from '#lib/kill-switch/history.ts';
import { weekBounds } from '#lib/kpi/weeks.ts';
import type { EventIndex, ViolationKind } from '#lib/ports.ts';
import { html } from '#lib/presentation/html.ts';
import { htmlDocument, PAGE_CSP } from '#lib/presentation/page.ts';
import type { PageHandler } from '../api-server.ts';
import { renderDashboard } from './render.ts';
import { contentTypeFor, REPORTS_PATH, S3ReportsReader } from './reports.ts';
import { type DashboardDependencies, loadDashboard } from './view.ts';

/** A store that has not answered within this is shown as an error on the page. */
const STORE_TIMEOUT_MS = 5_000;

/**
 * Reports are documents: served as their type, never sniffed, and an HTML report runs no script: the
 * pages' own policy, and no base, no form, never framed (frame-ancestors works only as a header).
 */
const REPORT_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': `${PAGE_CSP}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The page has no script, loads nothing from elsewhere, and may not be framed. */
const PAGE_HEADERS = { ...REPORT_HEADERS, 'content-type': 'text/html; charset=utf-8' };

const MESSAGE_STYLE =
  'body { font: 15px/1.45 system-ui, sans-serif; max-width: 760px; margin: 40px auto; padding: 0 20px; } h1 { font-size: 22px; }';

export class RefusedReportKeyError extends Error {
  override name = 'RefusedReportKeyError';
}

/**
 * The local dashboard: `GET /` renders the page, `GET /reports/<key>` streams an object of the reports
 * bucket. No token is asked for: the local stack listens on 127.0.0.1 only, so only this machine can
 * reach it (the cloud has the CloudWatch dashboard instead). Returns false for any other path, so the
 * API answers it.
 */
export function dashboardPages(deps: DashboardDependencies): PageHandler {
  return async (req, res, url) => {
    const page = url.pathname === '/';
    // Routed on the raw path too: URL parsing resolves `/reports/%2e%2e/x` to `/x`, which must be refused.
    const report = url.pathname.startsWith(REPORTS_PATH) || (req.url ?? '').startsWith(REPORTS_PATH);
    if (!page && !report) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') refuseMethod(res);
    else if (page) await servePage(req, res, deps);
    else await serveReport(req, res, deps, url);
    return true;
  };
}

function refuseMethod(res: ServerResponse): void {
  sendPage(res, 405, 'Method not allowed', 'The dashboard and its reports are read with GET.', {
    allow: 'GET, HEAD',
  });
}

async function servePage(
  req: IncomingMessage,
  res: ServerResponse,
  deps: DashboardDependencies,
): Promise<void> {
  let body: string;
  try {
    body = renderDashboard(await loadDashboard(deps));
  } catch (error) {
    // loadDashboard reports store errors in the page; this is the page itself failing. Still a page.
    console.error('local dashboard: rendering failed', error);
    return sendPage(
      res,
      200,
      'Dashboard unavailable',
      `The page could not be rendered: ${messageOf(error)}. See the local stack log.`,
    );
  }
  res.writeHead(200, { ...PAGE_HEADERS, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function serveReport(
  req: IncomingMessage,
  res: ServerResponse,
  deps: DashboardDependencies,
  url: URL,
): Promise<void> {
  let key: string;
  try {
    key = reportKeyOf(req.url ?? '', url.pathname);
  } catch (error) {
    return sendPage(res, 400, 'Refused', messageOf(error));
  }
  let object: Awaited<ReturnType<DashboardDependencies['reports']['open']>>;
  try {
    object = await deps.reports.open(key);
  } catch (error) {
    return sendPage(
      res,
      502,
      'Reports bucket unavailable',
      `The reports bucket did not answer for ${key}: ${messageOf(error)}`,
    );
  }
  if (!object) {
    return sendPage(res, 404, 'No such report', `There is no object ${key} in the reports bucket.`);
  }
  res.writeHead(200, {
    ...REPORT_HEADERS,
    'content-type': contentTypeFor(key, object.contentType),
    ...(object.contentLength !== undefined ? { 'content-length': object.contentLength } : {}),
    ...(key.endsWith('.parquet')
      ? {
          'content-disposition': `attachment; filename="${(key.split('/').at(-1) ?? 'report').replace(/"/g, '')}"`,
        }
      : {}),
  });
  if (req.method === 'HEAD') {
    object.body.destroy();
    res.end();
    return;
  }
  try {
    await pipeline(object.body, res);
  } catch (error) {
    console.error(`local dashboard: streaming ${key} failed`, error);
    res.destroy();
  }
}

/**
 * The bucket key of a `/reports/<key>` request, each segment percent-decoded. Refuses `.` and `..`
 * segments (also percent-encoded ones, which URL parsing would otherwise resolve before we see them),
 * empty segments and control characters: a key names one object, never a path to walk.
 */
export function reportKeyOf(rawUrl: string, pathname: string): string {
  const rawPath = rawUrl.split('?')[0] ?? '';
  if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(rawPath.replace(/%2f/gi, '/'))) {
    throw new RefusedReportKeyError('a report key may not contain "." or ".." segments');
  }
  let key: string;
  try {
    key = pathname
      .slice(REPORTS_PATH.length)
      .split('/')
      .map((segment) => decodeURIComponent(segment))
      .join('/');
  } catch {
    throw new RefusedReportKeyError('the report key is not valid percent-encoding');
  }
  const segments = key.split('/');
  if (key.length === 0 || key.length > 1024)
    throw new RefusedReportKeyError('give a report key after /reports/');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new RefusedReportKeyError('a report key may not contain "." or ".." segments');
  }
  if (segments.some((segment) => segment === '') || /\p{Cc}/u.test(key) || key.includes('\\')) {
    throw new RefusedReportKeyError(
      'a report key may not have empty segments, backslashes or control characters',
    );
  }
  return key;
}

function sendPage(
  res: ServerResponse,
  status: number,
  title: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = htmlDocument({
    title: `${title} — Agent Ledger`,
    style: MESSAGE_STYLE,
    body: html`<h1>${title}</h1><p>${message}</p><p><a href="/">Back to the dashboard</a></p>`,
  });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...PAGE_HEADERS, ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The dashboard on the local stack's stores, wired from the environment the local stack sets for the
 * handlers (call it after that): the same KPI store, flag reader and flip history as `GET /kpis` and
 * `GET /autonomy`, and the reports bucket the KPI and report jobs write.
 */
export function localDashboardPages(): PageHandler {
  const tableName = requiredEnv('LEDGER_TABLE_NAME');
  const documents = makeDocumentClient(
    new DynamoDBClient({
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: STORE_TIMEOUT_MS },
    }),
  );
  const index = new DynamoDbEventIndex(documents, tableName);
  // One reader for the page: it reads every workflow's autonomy at once, and the reader shares one poll
  // between concurrent reads (an AppConfigData token is good for one poll).
  const flags = flagReaderFromEnvironment();
  return dashboardPages({
    registry: registryFromEnvironment(),
    kpis: new DynamoDbKpiStore(documents, tableName),
    autonomy: (workflowId, rolloutPhase) => {
      const history = new LedgerLaneHistory(index, Math.floor(Date.now() / 1000));
      return readAutonomy(workflowId, flags, (id, scope) => history.lastFlip(id, scope), rolloutPhase);
    },
    rolloutPhaseViolations: (workflowId, week) => countViolations(index, workflowId, week, 'rollout-phase'),
    reports: new S3ReportsReader(makeS3Client(), requiredEnv('REPORTS_BUCKET_NAME'), STORE_TIMEOUT_MS),
    clock: () => new Date(),
    timeoutMs: STORE_TIMEOUT_MS,
  });
}

/** The week's actions marked with a violation of one kind (a filtered read of the time index). */
export async function countViolations(
  index: EventIndex,
  workflowId: string,
  week: string,
  kind: ViolationKind,
): Promise<number> {
  const { startMs, endMs } = weekBounds(week);
  let count = 0;
  const marked = index.events({
    workflowId,
    fromMs: startMs,
    toMs: endMs,
    onlyViolations: kind,
    nowSeconds: Math.floor(Date.now() / 1000),
  });
  for await (const _ of marked) count++;
  return count;
}
