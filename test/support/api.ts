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
