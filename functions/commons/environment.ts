import type { FunctionEnvName } from '#lib/deployment/environment.ts';

/** Reads a required setting once at start; a missing one stops the cold start with its name. */
export function requiredEnv(name: FunctionEnvName): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required but not set`);
  return value;
}

/** A poll interval in seconds (≥ 0) from `name`, or `fallback` when unset. */
export function pollSecondsEnv(name: FunctionEnvName, fallback: number): number {
  const pollSeconds = Number(process.env[name] ?? String(fallback));
  if (!Number.isFinite(pollSeconds) || pollSeconds < 0) throw new Error(`${name} must be a number ≥ 0`);
  return pollSeconds;
}
