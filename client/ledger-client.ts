import { randomUUID } from 'node:crypto';
import { eventSchema, type LedgerEvent, MAX_EVENT_BYTES } from '../lib/events/schema.ts';
import { parseWithIssues } from '../lib/validation/zod-issues.ts';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, parseRetryAfter } from './backoff.ts';
import {
  type BatchLimits,
  batchBody,
  bodyBytes,
  INGEST_LIMITS,
  nextBatchSize,
  type QueuedEvent,
} from './batches.ts';
import { type RequestSigner, type SigV4Options, sigV4Signer } from './sigv4.ts';
import type {
  AutonomyState,
  ClientStats,
  DroppedEvent,
  DropReason,
  EventIssue,
  LedgerEventInput,
  RetryInfo,
  UnitActionInput,
  UnitEventFields,
} from './types.ts';
import { UnitHandle } from './unit.ts';

export interface LedgerClientOptions {
  /** The ledger's base URL (`http://localhost:3000`, or the API Gateway stage URL). */
  readonly endpoint: string;
  /** A bearer token, for callers outside AWS (`/v1/…`). */
  readonly token?: string;
  /** SigV4, for callers inside AWS (`/iam/v1/…`). Give either this or `token`. */
  readonly sigv4?: SigV4Options;
  /** How often buffered events are sent (ms); a full batch goes at once. Default 1000. */
  readonly flushIntervalMs?: number;
  /** At most this many events are held (buffered or in flight); more are dropped. Default 10 000. */
  readonly maxBufferedEvents?: number;
  /** At most this many bytes of event JSON are held; more are dropped. Default 16 MiB. */
  readonly maxBufferedBytes?: number;
  /** Smaller batches than the ledger allows (never larger: 500 events, 1 MiB). */
  readonly batchLimits?: Partial<BatchLimits>;
  /** One request's time limit (ms); a request that takes longer is retried. Default 10 000. */
  readonly requestTimeoutMs?: number;
  readonly backoff?: Partial<BackoffOptions>;
  /** How long `close()` waits for the ledger before dropping what it still holds (ms). Default 30 000. */
  readonly closeTimeoutMs?: number;
  /** How long an autonomy answer is reused (ms). Default 1000. */
  readonly autonomyCacheMs?: number;
  /** The autonomy read's time limit (ms); past it the lane is closed. Default 2000. */
  readonly autonomyTimeoutMs?: number;
  /** Check each event against the ingest schema when it is logged (default true). */
  readonly validate?: boolean;
  /** Called for every event that will not be kept, with why. */
  readonly onDrop?: (drop: DroppedEvent) => void;
  /** Called for every send that failed and will be retried. */
  readonly onRetry?: (retry: RetryInfo) => void;
  /** For tests: the jitter's random source. */
  readonly random?: () => number;
}

/** The ledger answered with a status the client does not retry, or one it does (5xx, 429). */
export class LedgerResponseError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(`the ledger answered ${status}${messageIn(body) ? `: ${messageIn(body)}` : ''}`);
    this.name = 'LedgerResponseError';
  }
}

interface Entry extends QueuedEvent<LedgerEvent> {
  readonly seq: number;
}

type Answer = { readonly status: number; readonly body: unknown } | 'aborted';

const DEFAULTS = {
  flushIntervalMs: 1000,
  maxBufferedEvents: 10_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  requestTimeoutMs: 10_000,
  closeTimeoutMs: 30_000,
  autonomyCacheMs: 1000,
  autonomyTimeoutMs: 2000,
};

const DROP_REASONS: readonly DropReason[] = ['invalid', 'rejected', 'conflict', 'buffer_full', 'closed'];

/**
 * The ledger's client for agent services: buffers events and sends them in batches, retries what can
 * succeed later, reports what never will, and reads the kill switch failing closed.
 */
export class LedgerClient {
  private readonly endpoint: string;
  private readonly prefix: string;
  private readonly token: string | undefined;
  private readonly signer: RequestSigner | undefined;
  private readonly settings: typeof DEFAULTS;
  private readonly limits: BatchLimits;
  private readonly backoff: BackoffOptions;
  private readonly validate: boolean;
  private readonly random: () => number;
  private readonly onDrop: ((drop: DroppedEvent) => void) | undefined;
  private readonly onRetry: ((retry: RetryInfo) => void) | undefined;

  private queue: Entry[] = [];
  private queuedBytes = 0;
  private inflight: Entry[] = [];
  private inflightBytes = 0;
  private lastSeq = 0;
  private settledSeq = 0;
  private waiters: { target: number; resolve: () => void }[] = [];
  private pumping: Promise<void> | undefined;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private readonly interval: NodeJS.Timeout;
  private readonly abort = new AbortController();
  private closed = false;
  private closing: Promise<ClientStats> | undefined;
  private readonly autonomyCache = new Map<string, { expires: number; state: Promise<AutonomyState> }>();
  private readonly counts = {
    accepted: 0,
    duplicates: 0,
    conflicts: 0,
    requests: 0,
    retries: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>,
  };

  constructor(options: LedgerClientOptions) {
    if (!options.endpoint) throw new TypeError('LedgerClient: endpoint is required');
    if ((options.token === undefined) === (options.sigv4 === undefined)) {
      throw new TypeError('LedgerClient: give either token (bearer) or sigv4 (callers inside AWS)');
    }
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.prefix = options.sigv4 ? '/iam' : '';
    this.token = options.token;
    this.signer = options.sigv4 ? sigV4Signer(options.sigv4) : undefined;
    this.settings = {
      flushIntervalMs: options.flushIntervalMs ?? DEFAULTS.flushIntervalMs,
      maxBufferedEvents: options.maxBufferedEvents ?? DEFAULTS.maxBufferedEvents,
      maxBufferedBytes: options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      closeTimeoutMs: options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs,
      autonomyCacheMs: options.autonomyCacheMs ?? DEFAULTS.autonomyCacheMs,
      autonomyTimeoutMs: options.autonomyTimeoutMs ?? DEFAULTS.autonomyTimeoutMs,
    };
    this.limits = {
      maxEvents: Math.min(INGEST_LIMITS.maxEvents, options.batchLimits?.maxEvents ?? INGEST_LIMITS.maxEvents),
      maxBodyBytes: Math.min(
        INGEST_LIMITS.maxBodyBytes,
        options.batchLimits?.maxBodyBytes ?? INGEST_LIMITS.maxBodyBytes,
      ),
    };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.validate = options.validate ?? true;
    this.random = options.random ?? Math.random;
    this.onDrop = options.onDrop;
    this.onRetry = options.onRetry;
    this.interval = setInterval(() => this.kick(), this.settings.flushIntervalMs);
    this.interval.unref();
  }

  /**
   * Buffers one event and returns its eventId (filled in when missing, so a retry is deduplicated by the
   * ledger). An event that breaks the ingest contract, or does not fit the buffer, is reported to
   * `onDrop` instead of sent.
   */
  log(input: LedgerEventInput): string {
    const event = {
      ...input,
      eventId: input.eventId ?? randomUUID(),
      occurredAt: input.occurredAt ?? new Date().toISOString(),
    } as LedgerEvent;
    if (this.closed) {
      this.drop([event], { reason: 'closed', message: 'logged after close()' });
      return event.eventId;
    }
    if (this.validate) {
      const parsed = parseWithIssues(eventSchema, event);
      if (!parsed.success) {
        this.drop([event], { reason: 'invalid', issues: parsed.issues });
        return event.eventId;
      }
    }
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch (error) {
      this.drop([event], { reason: 'invalid', issues: [{ path: '$', message: messageOf(error) }] });
      return event.eventId;
    }
    const bytes = Buffer.byteLength(json);
    if (bytes > MAX_EVENT_BYTES) {
      const message = `event must be at most ${MAX_EVENT_BYTES} bytes as JSON (it is ${bytes})`;
      this.drop([event], { reason: 'invalid', issues: [{ path: '$', message }] });
      return event.eventId;
    }
    const held = this.queue.length + this.inflight.length;
    const heldBytes = this.queuedBytes + this.inflightBytes;
    if (held + 1 > this.settings.maxBufferedEvents || heldBytes + bytes > this.settings.maxBufferedBytes) {
      this.drop([event], {
        reason: 'buffer_full',
        message: `the client holds ${held} events (${heldBytes} bytes) the ledger has not yet taken`,
      });
      return event.eventId;
    }
    this.lastSeq += 1;
    this.queue.push({ event, json, bytes, seq: this.lastSeq });
    this.queuedBytes += bytes;
    if (
      this.queue.length >= this.limits.maxEvents ||
      bodyBytes(this.queue.length, this.queuedBytes) >= this.limits.maxBodyBytes
    ) {
      this.kick();
    }
    return event.eventId;
  }

  /** A handle for one unit of value; it logs `unit.started` now unless `{ start: false }`. */
  unit(workflowId: string, unitId: string, options: { start?: boolean } & UnitEventFields = {}): UnitHandle {
    const { start = true, ...fields } = options;
    const handle = new UnitHandle(this, workflowId, unitId);
    if (start) handle.start(fields);
    return handle;
  }

  /** Logs an action of a unit (the same as `unit(…).action(…)` without a handle). */
  action(workflowId: string, unitId: string, action: UnitActionInput): string {
    return this.log({ ...action, type: 'action', workflowId, unitId });
  }

  /** Resolves when every event logged before the call has been kept or dropped. */
  flush(): Promise<void> {
    const target = this.lastSeq;
    if (this.settledSeq >= target) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.push({ target, resolve });
      // Someone is waiting now: a retry's timer must keep the process alive until it fires.
      this.sleeping?.timer.ref();
      this.kick();
    });
  }

  /**
   * Sends what is buffered, waiting at most `closeTimeoutMs` for the ledger, then stops: what is still
   * unsent is dropped (and reported). Later `log()` calls are dropped. Resolves with the final stats.
   */
  close(options: { timeoutMs?: number } = {}): Promise<ClientStats> {
    this.closing ??= this.shutdown(options.timeoutMs ?? this.settings.closeTimeoutMs);
    return this.closing;
  }

  /** What the client holds and what became of what it was given. */
  stats(): ClientStats {
    const droppedBy = { ...this.counts.dropped };
    return {
      buffered: this.queue.length + this.inflight.length,
      bufferedBytes: this.queuedBytes + this.inflightBytes,
      accepted: this.counts.accepted,
      duplicates: this.counts.duplicates,
      conflicts: this.counts.conflicts,
      dropped: DROP_REASONS.reduce((sum, reason) => sum + droppedBy[reason], 0),
      droppedBy,
      requests: this.counts.requests,
      retries: this.counts.retries,
    };
  }

  /**
   * The workflow's autonomy state (`GET /v1/workflows/{id}/autonomy`), reused for `autonomyCacheMs`.
   * Fails closed: when the ledger cannot be reached, answers an error or anything but a clear yes, the
   * autonomous lane is not allowed (lane `hitl`). It never throws.
   */
  autonomy(workflowId: string): Promise<AutonomyState> {
    const now = Date.now();
    const cached = this.autonomyCache.get(workflowId);
    if (cached && cached.expires > now) return cached.state;
    const state = this.readAutonomy(workflowId);
    this.autonomyCache.set(workflowId, { expires: now + this.settings.autonomyCacheMs, state });
    return state;
  }

  /** Options for `@opentelemetry/exporter-trace-otlp-http` or `-proto`: the ledger's `/v1/traces`. */
  otlpExporterOptions(): { url: string; headers: Record<string, string> } {
    if (this.token === undefined) {
      throw new TypeError(
        'otlpExporterOptions: the OTLP exporters cannot sign with SigV4; use a bearer token',
      );
    }
    return { url: `${this.endpoint}/v1/traces`, headers: { Authorization: `Bearer ${this.token}` } };
  }

  private async readAutonomy(workflowId: string): Promise<AutonomyState> {
    const closed = (reason: string): AutonomyState => ({
      workflowId,
      autonomousAllowed: false,
      lane: 'hitl',
      flagVersion: null,
      reason: `fail closed: ${reason}`,
      changedAt: null,
    });
    try {
      const answer = await this.request(
        'GET',
        `/v1/workflows/${encodeURIComponent(workflowId)}/autonomy`,
        undefined,
        this.settings.autonomyTimeoutMs,
      );
      if (answer === 'aborted') return closed('the client is closed');
      if (answer.status !== 200) return closed(new LedgerResponseError(answer.status, answer.body).message);
      const body = answer.body as Partial<AutonomyState> | null;
      if (typeof body !== 'object' || body === null || typeof body.autonomousAllowed !== 'boolean') {
        return closed('the ledger answered without autonomousAllowed');
      }
      const allowed =
        body.autonomousAllowed === true && (body.lane === undefined || body.lane === 'autonomous');
      return {
        workflowId: typeof body.workflowId === 'string' ? body.workflowId : workflowId,
        autonomousAllowed: allowed,
        lane: allowed ? 'autonomous' : body.lane === 'shadow' ? 'shadow' : 'hitl',
        flagVersion: body.flagVersion ?? null,
        reason: body.reason ?? null,
        changedAt: body.changedAt ?? null,
      };
    } catch (error) {
      return closed(`the ledger could not be reached: ${messageOf(error)}`);
    }
  }

  private kick(): void {
    if (this.pumping || this.queue.length === 0 || this.abort.signal.aborted) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      // Events logged while the last request was settling wait for the interval, unless someone waits.
      if (this.waiters.length > 0) this.kick();
    });
  }

  /** Sends the queue batch by batch, one request at a time, until it is empty. */
  private async pump(): Promise<void> {
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      const size = nextBatchSize(this.queue, this.limits);
      this.inflight = this.queue.splice(0, size);
      this.inflightBytes = this.inflight.reduce((sum, entry) => sum + entry.bytes, 0);
      this.queuedBytes -= this.inflightBytes;
      await this.deliver(this.inflight);
      this.settle((this.inflight.at(-1) as Entry).seq);
      this.inflight = [];
      this.inflightBytes = 0;
    }
  }

  private settle(seq: number): void {
    this.settledSeq = Math.max(this.settledSeq, seq);
    const [done, waiting] = partition(this.waiters, (waiter) => waiter.target <= this.settledSeq);
    this.waiters = waiting;
    for (const waiter of done) waiter.resolve();
  }

  /**
   * Gets `batch` kept, or each of its events reported: retries what may succeed later, and on a refusal
   * keeps every event the refusal was not about (a 400 names the bad events; a 413 or a 400 that names
   * none is halved; a 403 for a mix of workflows is split by workflow).
   */
  private async deliver(batch: readonly Entry[]): Promise<void> {
    const answer = await this.sendWithRetry(batch);
    if (answer === 'aborted') {
      this.drop(
        batch.map((entry) => entry.event),
        { reason: 'closed', message: 'close() stopped waiting for the ledger' },
      );
      return;
    }
    const { status, body } = answer;
    if (status >= 200 && status < 300) {
      this.recordKept(batch, body);
      return;
    }
    if (status === 400) {
      const issues = issuesByIndex(body, batch.length);
      if (issues.size > 0) {
        for (const [index, eventIssues] of issues) {
          this.drop([(batch[index] as Entry).event], { reason: 'invalid', status, issues: eventIssues });
        }
        const rest = batch.filter((_, index) => !issues.has(index));
        if (rest.length > 0) await this.deliver(rest);
        return;
      }
    }
    if ((status === 400 || status === 413) && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      await this.deliver(batch.slice(0, half));
      await this.deliver(batch.slice(half));
      return;
    }
    const workflows = new Set(batch.map((entry) => entry.event.workflowId));
    if (status === 403 && workflows.size > 1) {
      for (const workflowId of workflows) {
        await this.deliver(batch.filter((entry) => entry.event.workflowId === workflowId));
      }
      return;
    }
    const error = new LedgerResponseError(status, body);
    this.drop(
      batch.map((entry) => entry.event),
      {
        reason: status === 400 ? 'invalid' : 'rejected',
        status,
        message: error.message,
        ...(status === 400 ? { issues: issuesIn(body) } : {}),
      },
    );
  }

  private recordKept(batch: readonly Entry[], body: unknown): void {
    const answer = (typeof body === 'object' && body !== null ? body : {}) as {
      accepted?: unknown;
      duplicates?: unknown;
      conflicts?: unknown;
      results?: unknown;
    };
    const results = Array.isArray(answer.results)
      ? (answer.results as { eventId?: unknown; status?: unknown }[])
      : [];
    const conflicts = new Set(results.filter((r) => r?.status === 'conflict').map((r) => r.eventId));
    const duplicates = results.filter((r) => r?.status === 'duplicate').length;
    this.counts.duplicates += duplicates;
    this.counts.conflicts += conflicts.size;
    this.counts.accepted += batch.length - duplicates - conflicts.size;
    if (conflicts.size > 0) {
      this.drop(
        batch.filter((entry) => conflicts.has(entry.event.eventId)).map((entry) => entry.event),
        { reason: 'conflict', status: 202, message: 'this eventId was kept before with other content' },
      );
    }
  }

  /** One batch, sent until the ledger answers something other than a 5xx or 429, or `close()` gives up. */
  private async sendWithRetry(batch: readonly Entry[]): Promise<Answer> {
    const body = batchBody(batch);
    for (let attempt = 0; ; attempt += 1) {
      let error: Error;
      let retryAfterMs: number | undefined;
      try {
        const answer = await this.request('POST', '/v1/events', body, this.settings.requestTimeoutMs);
        if (answer === 'aborted') return answer;
        if (!isRetryable(answer.status)) return answer;
        retryAfterMs = parseRetryAfter(answer.retryAfter);
        error = new LedgerResponseError(answer.status, answer.body, retryAfterMs);
      } catch (thrown) {
        if (this.abort.signal.aborted) return 'aborted';
        error = thrown instanceof Error ? thrown : new Error(String(thrown));
      }
      const delayMs = backoffDelay(attempt, retryAfterMs, this.backoff, this.random);
      this.counts.retries += 1;
      callSafely(this.onRetry, { error, attempt, delayMs, events: batch.length });
      await this.sleep(delayMs);
      if (this.abort.signal.aborted) return 'aborted';
    }
  }

  private async request(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<{ status: number; body: unknown; retryAfter: string | null } | 'aborted'> {
    if (this.abort.signal.aborted) return 'aborted';
    const url = new URL(`${this.endpoint}${this.prefix}${path}`);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const signed = this.signer
      ? await this.signer({ method, url, headers, ...(body === undefined ? {} : { body }) })
      : { ...headers, authorization: `Bearer ${this.token}` };
    if (method === 'POST') this.counts.requests += 1;
    const response = await fetch(url, {
      method,
      headers: signed,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(timeoutMs)]),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: response.status, body: parsed, retryAfter: response.headers.get('retry-after') };
  }

  /** Waits before a retry; the timer holds the process open only while someone awaits `flush()`/`close()`. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeping = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      if (this.waiters.length === 0) timer.unref();
      this.sleeping = { timer, wake };
    });
  }

  private async shutdown(timeoutMs: number): Promise<ClientStats> {
    this.closed = true;
    clearInterval(this.interval);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (gaveUp) {
      this.abort.abort();
      this.sleeping?.wake();
      await this.pumping;
      const left = this.queue;
      this.queue = [];
      this.queuedBytes = 0;
      this.drop(
        left.map((entry) => entry.event),
        { reason: 'closed', message: 'close() stopped waiting for the ledger' },
      );
      this.settle(this.lastSeq);
    }
    return this.stats();
  }

  private drop(events: readonly (LedgerEvent | LedgerEventInput)[], how: Omit<DroppedEvent, 'event'>): void {
    this.counts.dropped[how.reason] += events.length;
    for (const event of events) callSafely(this.onDrop, { event, ...how });
  }
}

function isRetryable(status: number): boolean {
  return status >= 500 || status === 429;
}

/** A 400's issues by the index of the event they are about, with paths made relative to the event. */
function issuesByIndex(body: unknown, size: number): Map<number, EventIssue[]> {
  const byIndex = new Map<number, EventIssue[]>();
  const raw = (body as { issues?: unknown } | null)?.issues;
  if (!Array.isArray(raw)) return byIndex;
  for (const issue of raw as { index?: unknown; path?: unknown; message?: unknown }[]) {
    const index = issue?.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= size) continue;
    const path = typeof issue.path === 'string' ? issue.path.replace(/^\$\.events\[\d+\]/, '$') : '$';
    const list = byIndex.get(index) ?? [];
    list.push({ path, message: typeof issue.message === 'string' ? issue.message : 'invalid' });
    byIndex.set(index, list);
  }
  return byIndex;
}

function issuesIn(body: unknown): EventIssue[] {
  const raw = (body as { issues?: unknown } | null)?.issues;
  if (!Array.isArray(raw)) return [];
  return (raw as { path?: unknown; message?: unknown }[]).map((issue) => ({
    path: typeof issue?.path === 'string' ? issue.path : '$',
    message: typeof issue?.message === 'string' ? issue.message : 'invalid',
  }));
}

function messageIn(body: unknown): string | undefined {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

function callSafely<T>(callback: ((value: T) => void) | undefined, value: T): void {
  try {
    callback?.(value);
  } catch {
    // A caller's callback must not stop the client from sending.
  }
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}
