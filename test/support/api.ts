import { request as httpRequest } from 'node:http';

/** A small client for the ledger's HTTP API, as an agent service would call it. */
export function apiClient(baseUrl: string, token: string | undefined) {
  const authorization: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    async postEvents(body: unknown, headers: Record<string, string> = {}) {
      const response = await fetch(`${baseUrl}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authorization, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    },
    async getEvents(workflowId: string, params: Record<string, string> = {}) {
      const query = new URLSearchParams(params).toString();
      const response = await fetch(
        `${baseUrl}/v1/workflows/${workflowId}/events${query ? `?${query}` : ''}`,
        {
          headers: authorization,
        },
      );
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    },
  };
}

/**
 * One HTTP request with exactly these bytes and headers (fetch would set Host and re-encode the body):
 * for what a hostile or odd client sends. Resolves with the status, headers and the body parsed as JSON.
 */
export function rawRequest(
  baseUrl: string,
  request: { method?: string; path: string; headers?: Record<string, string>; body?: Uint8Array | string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: request.method ?? 'POST',
        path: request.path,
        headers: request.headers ?? {},
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        });
      },
    );
    outgoing.once('error', reject);
    outgoing.end(request.body);
  });
}
