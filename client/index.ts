/**
 * `agent-ledger/client`: what an agent service needs to log its actions to the ledger and to read the kill
 * switch before acting alone. Built to `dist/client/` (JS and declarations) by `npm run build:client`.
 */
export {
  eventSchema,
  MAX_BODY_BYTES,
  MAX_EVENT_BYTES,
  MAX_EVENTS_PER_REQUEST,
} from '../lib/events/schema.ts';
export { type BackoffOptions, backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
export { LedgerClient, type LedgerClientOptions, LedgerResponseError } from './ledger-client.ts';
export type { AwsCredentials, AwsCredentialsProvider, SigV4Options } from './sigv4.ts';
export type * from './types.ts';
export { UnitHandle } from './unit.ts';
