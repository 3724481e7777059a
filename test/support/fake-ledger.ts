import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake ledger saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The parsed `events` of an ingest request (empty otherwise). */
  readonly events: Record<string, any>[];
  readonly at: number;
}

/** What the fake answers: a status with a JSON body, or `hangup` (the connection closes unanswered) or `hang`. */
export type FakeAnswer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | 'hangup'
  | 'hang';

/**
 * A real HTTP server standing in for the ledger, answering as the test says: for what the real one cannot
 * be made to do on demand (503s, 429s, dropped connections, 400s for chosen events).
 */
export async function fakeLedger(
  answer: (request: SeenRequest, index: number) => FakeAnswer | Promise<FakeAnswer>,
) {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let events: Record<string, any>[] = [];
      try {
        const parsed = JSON.parse(body);
        if (Array.isArray(parsed?.events)) events = parsed.events;
      } catch {}
      const seen = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        events,
        at: Date.now(),
      };
      requests.push(seen);
      const reply = await answer(seen, requests.length - 1);
      if (reply === 'hang') return;
      if (reply === 'hangup') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** The events of every ingest request, in the order they arrived. */
    events: () => requests.flatMap((request) => request.events),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A 202 as the ledger gives it: every event accepted. */
export function accepted(request: SeenRequest): FakeAnswer {
  return {
    status: 202,
    body: {
      accepted: request.events.length,
      duplicates: 0,
      conflicts: 0,
      results: request.events.map((event) => ({ eventId: event.eventId, status: 'accepted' })),
    },
  };
}
