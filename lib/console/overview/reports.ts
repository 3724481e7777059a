import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listObjectKeys } from '#lib/adapters/s3-keys.ts';
import { isObjectNotFound } from '#lib/adapters/store-errors.ts';
import { messageOf } from '#lib/errors.ts';
import { COST_PER_UNIT_PREFIX } from '#lib/finance/cost-per-unit.ts';
import { GOVERNANCE_INDEX_KEY, GOVERNANCE_PREFIX } from '#lib/reports/job.ts';
import { take } from '#lib/util/async-iterables.ts';

// Where the governance reports job writes its reports, and the index of them the page links from.
export { GOVERNANCE_INDEX_KEY, GOVERNANCE_PREFIX };

export class RefusedReportKeyError extends Error {
  override name = 'RefusedReportKeyError';
}

/** Where the page serves objects of the reports bucket: `/reports/<key>`. */
export const REPORTS_PATH = '/reports/';

/**
 * The page's link to an object of the reports bucket, relative to the console's base (its pages have a
 * `<base>`): each key segment percent-encoded, except the characters a path segment may hold as they are
 * (`week=2026-W47` stays readable).
 */
export function reportHref(key: string): string {
  const segment = (part: string) =>
    encodeURIComponent(part).replace(/%(3D|3A|40|2C)/g, (escaped) => decodeURIComponent(escaped));
  return `${REPORTS_PATH.slice(1)}${key.split('/').map(segment).join('/')}`;
}

/** The workflow a cost-per-unit report belongs to (`cost-per-unit/week=…/workflow=<id>/…`), if it is one. */
export function costPerUnitWorkflowOf(key: string): string | undefined {
  return /^cost-per-unit\/(?:[^/]+\/)*workflow=([^/]+)\//.exec(key)?.[1];
}

export interface ReportObject {
  readonly body: Readable;
  readonly contentType: string | undefined;
  readonly contentLength: number | undefined;
}

/** What the console reads from the reports bucket. */
export interface ReportsReader {
  /** Keys under `prefix`, in key order, at most `max` of them (`truncated` when there are more). */
  listKeys(prefix: string, max: number): Promise<{ keys: string[]; truncated: boolean }>;
  /** The object, or undefined when there is none at `key`. */
  open(key: string): Promise<ReportObject | undefined>;
}

/**
 * The reports bucket through the S3 API (the local S3 server here; the same calls work on S3). Listings
 * use no delimiter: the local S3 server finds no common prefixes more than one level deep.
 */
export class S3ReportsReader implements ReportsReader {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly timeoutMs: number,
  ) {}

  async listKeys(prefix: string, max: number): Promise<{ keys: string[]; truncated: boolean }> {
    // One past `max` says whether there are more; the signal bounds the whole listing, every page.
    const keys = await take(
      listObjectKeys(this.s3, {
        bucket: this.bucket,
        prefix,
        pageSize: Math.min(1000, max + 1),
        signal: AbortSignal.timeout(this.timeoutMs),
      }),
      max + 1,
    );
    return { keys: keys.slice(0, max).sort(), truncated: keys.length > max };
  }

  async open(key: string): Promise<ReportObject | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(this.timeoutMs),
      });
      return {
        body: object.Body as Readable,
        contentType: object.ContentType,
        contentLength: object.ContentLength,
      };
    } catch (error) {
      if (isObjectNotFound(error)) return undefined;
      throw error;
    }
  }
}

/** A report the page links to. */
export interface ReportLink {
  readonly key: string;
  readonly label: string;
}

export interface GovernanceEntry {
  readonly title: string;
  /** What the index says about it besides its title and files: week, workflow, when generated. */
  readonly details: string[];
  readonly links: ReportLink[];
}

export interface GovernanceReports {
  /** Where the entries came from: the index, or (without one) a listing of `governance/`. */
  readonly source: 'index' | 'listing';
  readonly entries: GovernanceEntry[];
  readonly note?: string;
}

const REPORT_FILE = /^[\w.=/-]+\.(html?|json|md|csv|txt|parquet)$/i;
const TITLE_FIELDS = ['title', 'name', 'kind', 'type'];
const DETAIL_FIELDS = ['period', 'week', 'workflowId', 'workflow', 'generatedAt', 'createdAt'];
const DETAIL_LABELS: Record<string, string> = {
  workflowId: 'workflow',
  generatedAt: 'generated',
  createdAt: 'created',
};
/** HTML first: it is the one to read; JSON and the rest are for machines. */
const LINK_ORDER = ['HTML', 'HTM', 'MD', 'JSON', 'CSV', 'PARQUET'];
const LIST_FIELDS = ['reports', 'items', 'entries'];

/**
 * Reads `governance/index.json` loosely: an array of entries, or an object holding one under `reports`,
 * `items` or `entries`. In each entry, every string that names a report file becomes a link (a bucket key
 * under `governance/` or `cost-per-unit/`, or a file name relative to `governance/`), labelled by its
 * field; `title`/`name`/`kind` titles it and `week`, `workflowId`, `generatedAt` describe it. Anything
 * else is ignored, so the page keeps working as the report job's index grows.
 */
export function parseGovernanceIndex(text: string): GovernanceEntry[] {
  const raw: unknown = JSON.parse(text);
  const list = Array.isArray(raw)
    ? raw
    : isRecord(raw)
      ? (LIST_FIELDS.map((field) => raw[field]).find(Array.isArray) ?? [raw])
      : [];
  const entries: GovernanceEntry[] = [];
  for (const item of list as unknown[]) {
    if (typeof item === 'string') {
      const key = reportKey(item);
      if (key)
        entries.push({ title: key.slice(GOVERNANCE_PREFIX.length), details: [], links: [linkTo(key)] });
      continue;
    }
    if (!isRecord(item)) continue;
    const links: ReportLink[] = [];
    collectLinks(item, '', links);
    if (links.length === 0) continue;
    const titleField = TITLE_FIELDS.find((field) => typeof item[field] === 'string');
    // A report of a period (`2026-11`, `2026-Q4`) names it; the week then only says which run wrote it.
    const fields =
      typeof item.period === 'string' ? DETAIL_FIELDS.filter((f) => f !== 'week') : DETAIL_FIELDS;
    const details = fields.flatMap((field) => {
      const value = item[field];
      if (typeof value !== 'string' && typeof value !== 'number') return [];
      const text = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(String(value))
        ? `${String(value).slice(0, 16).replace('T', ' ')} UTC`
        : String(value);
      const shown =
        field === 'week' || field === 'period' ? text : `${DETAIL_LABELS[field] ?? field} ${text}`;
      return [field === 'period' && item.complete === false ? `${shown} (to date)` : shown];
    });
    const rank = (link: ReportLink) => {
      const at = LINK_ORDER.indexOf(/\.([a-z]+)$/i.exec(link.key)?.[1]?.toUpperCase() ?? '');
      return at === -1 ? LINK_ORDER.length : at;
    };
    links.sort((a, b) => rank(a) - rank(b));
    entries.push({
      title: titleField ? String(item[titleField]) : (links[0] as ReportLink).key,
      details,
      links,
    });
  }
  return entries;
}

function collectLinks(value: Record<string, unknown>, path: string, links: ReportLink[]): void {
  for (const [field, inner] of Object.entries(value)) {
    const label = path ? `${path}.${field}` : field;
    if (typeof inner === 'string') {
      const key = reportKey(inner);
      if (key && !links.some((link) => link.key === key)) links.push({ key, label: labelFor(label, key) });
    } else if (isRecord(inner) && path === '') {
      collectLinks(inner, label, links);
    }
  }
}

/** A key the page can link: under a reports prefix, no `.`/`..`/empty segments (never a path to walk). */
function reportKey(value: string): string | undefined {
  const key =
    value.startsWith(GOVERNANCE_PREFIX) || value.startsWith(COST_PER_UNIT_PREFIX)
      ? value
      : REPORT_FILE.test(value) && !value.includes('://') && !value.startsWith('/')
        ? `${GOVERNANCE_PREFIX}${value}`
        : undefined;
  if (!key || key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return undefined;
  }
  return key;
}

/** `HTML` for a field named after its format (`html`, `path`, `key`…), else `summary (HTML)`. */
function labelFor(field: string, key: string): string {
  const extension = /\.([a-z]+)$/i.exec(key)?.[1]?.toUpperCase() ?? 'file';
  const leaf = field.split('.').at(-1)?.toLowerCase() ?? field;
  return ['key', 'path', 'href', 'url', 'file', extension.toLowerCase()].includes(leaf)
    ? extension
    : `${field} (${extension})`;
}

function linkTo(key: string): ReportLink {
  return { key, label: /\.([a-z]+)$/i.exec(key)?.[1]?.toUpperCase() ?? 'file' };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The governance reports: from the index when there is one, else whatever lies under `governance/`. */
export async function readGovernanceReports(reader: ReportsReader): Promise<GovernanceReports> {
  const index = await reader.open(GOVERNANCE_INDEX_KEY);
  if (index) {
    const text = await readText(index.body);
    let entries: GovernanceEntry[];
    try {
      entries = parseGovernanceIndex(text);
    } catch (error) {
      return {
        source: 'index',
        entries: [],
        note: `${GOVERNANCE_INDEX_KEY} is not valid JSON (${messageOf(error)})`,
      };
    }
    return { source: 'index', entries };
  }
  const { keys, truncated } = await reader.listKeys(GOVERNANCE_PREFIX, 50);
  return {
    source: 'listing',
    entries: keys.map((key) => ({
      title: key.slice(GOVERNANCE_PREFIX.length),
      details: [],
      links: [linkTo(key)],
    })),
    ...(truncated ? { note: 'the first 50 objects under governance/' } : {}),
  };
}

/** One week of finance Parquet: a file per workflow. */
export interface CostPerUnitWeek {
  readonly week: string;
  readonly files: { readonly workflowId: string; readonly key: string }[];
}

/** How many cost-per-unit objects the listing reads at most: a decade of weekly reports of 10 workflows. */
const MAX_COST_PER_UNIT_KEYS = 5_200;

/** Newest weeks first, at most `weeks` of them; `totalWeeks` counts every week listed. */
export async function readCostPerUnitListing(
  reader: ReportsReader,
  weeks: number,
): Promise<{ weeks: CostPerUnitWeek[]; totalWeeks: number; truncated: boolean }> {
  const { keys, truncated } = await reader.listKeys(COST_PER_UNIT_PREFIX, MAX_COST_PER_UNIT_KEYS);
  const byWeek = new Map<string, { workflowId: string; key: string }[]>();
  for (const key of keys) {
    const match = /^cost-per-unit\/week=(\d{4}-W\d{2})\/workflow=([^/]+)\/[^/]+$/.exec(key);
    if (!match) continue;
    const [, week = '', workflowId = ''] = match;
    byWeek.set(week, [...(byWeek.get(week) ?? []), { workflowId, key }]);
  }
  const newest = [...byWeek.keys()].sort().reverse().slice(0, weeks);
  return {
    weeks: newest.map((week) => ({ week, files: byWeek.get(week) ?? [] })),
    totalWeeks: byWeek.size,
    truncated,
  };
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > 5 * 1024 * 1024) throw new Error(`${GOVERNANCE_INDEX_KEY} is larger than 5 MiB`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** How `/reports/<key>` serves an object: by its extension, else as S3 stored it. */
export function contentTypeFor(key: string, stored: string | undefined): string {
  const extension = /\.([a-z0-9]+)$/i.exec(key)?.[1]?.toLowerCase();
  switch (extension) {
    case 'html':
    case 'htm':
      return 'text/html; charset=utf-8';
    case 'json':
      return 'application/json; charset=utf-8';
    case 'md':
      return 'text/markdown; charset=utf-8';
    case 'csv':
      return 'text/csv; charset=utf-8';
    case 'txt':
      return 'text/plain; charset=utf-8';
    case 'parquet':
      return 'application/vnd.apache.parquet';
    default:
      return stored ?? 'application/octet-stream';
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
