/**
 * The one rule for which Host header a local service answers: its loopback names with its own port
 * (`127.0.0.1:3000`, `localhost:3000`, `[::1]:3000`). Listening on 127.0.0.1 keeps the network out; this
 * keeps out a web page that points its own domain at 127.0.0.1 (DNS rebinding), which would otherwise
 * reach the local stack from the browser with all its data. DynamoDB Local applies the same rule in
 * `dynamodb-local/LoopbackDynamoDbLocal.java`.
 */
export const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'] as const;

export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const wanted = host.trim().toLowerCase();
  return LOOPBACK_NAMES.some((name) => wanted === `${name}:${port}`);
}

/** What a refused request is told: which hosts would have been answered. */
export function hostRefusal(host: string | undefined, port: number): string {
  return `Host ${JSON.stringify(host ?? '')} is not served here: the local stack answers only ${LOOPBACK_NAMES.map(
    (name) => `${name}:${port}`,
  ).join(', ')}`;
}
