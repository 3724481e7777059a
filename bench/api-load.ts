import { Agent, request } from 'node:http';
import type { BenchBatch } from './events.ts';

/**
 * POST /v1/events through the local API: every batch once, at most `concurrency` requests in flight on
 * keep-alive connections. Bodies are serialized before the clock starts. Any answer other than
 * 202 with every event accepted fails the run.
 */
export interface ApiRunResult {
  readonly concurrency: number;
  readonly requests: number;
  readonly events: number;
  readonly wallMs: number;
  readonly latenciesMs: number[];
  readonly bodyBytes: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

export interface Answer {
  readonly status: number;
  readonly body: string;
}

function post(agent: Agent, url: URL, token: string, contentType: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': contentType,
          'content-length': body.length,
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function check(answer: Answer, expected: number, batchIndex: number): void {
  const shown = answer.body.slice(0, 600);
  if (answer.status !== 202) {
    throw new Error(`batch ${batchIndex}: expected 202, got ${answer.status}: ${shown}`);
  }
  let parsed: { accepted?: unknown; duplicates?: unknown; conflicts?: unknown };
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    throw new Error(`batch ${batchIndex}: 202 with a body that is not JSON: ${shown}`);
  }
  if (parsed.accepted !== expected || parsed.duplicates !== 0 || parsed.conflicts !== 0) {
    throw new Error(
      `batch ${batchIndex}: expected accepted=${expected} duplicates=0 conflicts=0, got accepted=${String(parsed.accepted)} duplicates=${String(parsed.duplicates)} conflicts=${String(parsed.conflicts)}`,
    );
  }
}

export async function runApiLoad(options: {
  api: string;
  token: string;
  batches: readonly BenchBatch[];
  concurrency: number;
}): Promise<ApiRunResult> {
  const bodies = options.batches.map((batch) => Buffer.from(JSON.stringify({ events: batch.events })));
  const run = await runLoad({
    url: new URL('/v1/events', options.api),
    token: options.token,
    contentType: 'application/json',
    bodies,
    concurrency: options.concurrency,
    check: (answer, index) => check(answer, options.batches[index]?.events.length ?? 0, index),
  });
  return {
    ...run,
    concurrency: options.concurrency,
    events: options.batches.reduce((sum, batch) => sum + batch.events.length, 0),
  };
}

/**
 * Every body POSTed once to `url` of the local API, at most `concurrency` requests in flight on keep-alive
 * connections; `check` throws for an answer that fails the run. Bodies are made before the clock starts.
 */
export async function runLoad(options: {
  url: URL;
  token: string;
  contentType: string;
  bodies: readonly Buffer[];
  concurrency: number;
  check: (answer: Answer, index: number) => void;
}): Promise<{ requests: number; wallMs: number; latenciesMs: number[]; bodyBytes: number }> {
  const { url, bodies } = options;
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing to load a non-local API: ${url.origin}`);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latenciesMs = new Array<number>(bodies.length);
  let next = 0;
  let failed: unknown;

  const worker = async () => {
    while (next < bodies.length && failed === undefined) {
      const index = next++;
      const body = bodies[index] as Buffer;
      const sent = performance.now();
      try {
        const answer = await post(agent, url, options.token, options.contentType, body);
        latenciesMs[index] = performance.now() - sent;
        options.check(answer, index);
      } catch (error) {
        failed ??= error;
      }
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(options.concurrency, bodies.length) }, worker));
  const wallMs = performance.now() - started;
  agent.destroy();
  if (failed !== undefined) throw failed;
  return {
    requests: bodies.length,
    wallMs,
    latenciesMs,
    bodyBytes: bodies.reduce((sum, body) => sum + body.length, 0),
  };
}
