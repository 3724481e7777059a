import { hkdfSync } from 'node:crypto';
import { loadKeyMaterial } from '#lib/adapters/actor-key-source.ts';
import { makeS3Client } from '#lib/adapters/aws-clients.ts';
import { DynamoDbAccessStore } from '#lib/adapters/dynamodb-access-store.ts';
import { DynamoDbDrillStore } from '#lib/adapters/dynamodb-drill-store.ts';
import { DynamoDbEventIndex } from '#lib/adapters/dynamodb-event-index.ts';
import { DynamoDbKpiStore } from '#lib/adapters/dynamodb-kpi-store.ts';
import { DynamoDbPostmortemStore } from '#lib/adapters/dynamodb-postmortem-store.ts';
import { DynamoDbReviewQueue } from '#lib/adapters/dynamodb-review-queue.ts';
import { OidcSignIn } from '#lib/console/oidc.ts';
import { S3ReportsReader } from '#lib/console/overview/reports.ts';
import { countViolations } from '#lib/console/overview/view.ts';
import { SessionSealer } from '#lib/console/session.ts';
import { FUNCTION_ENV } from '#lib/deployment/environment.ts';
import { readAutonomy } from '#lib/kill-switch/autonomy.ts';
import { LedgerLaneHistory } from '#lib/kill-switch/history.ts';
import type { RolloutPhase } from '#lib/registry/workflows.ts';
import { ingestFromEnvironment } from '../commons/dependencies.ts';
import { requiredEnv } from '../commons/environment.ts';
import { httpHandler } from '../commons/handlers.ts';
import { flagReaderFromEnvironment, flagWriterFromEnvironment } from '../commons/kill-switch.ts';
import { ledgerTableFromEnvironment } from '../commons/stores.ts';
import { traceClient } from '../commons/tracing.ts';
import { type ConsoleDependencies, makeConsoleHandler, presentConsoleError } from './make-handler.ts';

/** A store that has not answered within this shows as an error in its part of the Overview. */
const STORE_TIMEOUT_MS = 5_000;

const table = ledgerTableFromEnvironment();
const ingest = await ingestFromEnvironment(table);
const index = new DynamoDbEventIndex(table.documents, table.tableName);
const reviews = new DynamoDbReviewQueue(table.documents, table.tableName);
// One reader per container: it shares one poll between concurrent reads, so flags are at most
// FLAG_POLL_SECONDS old, as for GET /autonomy.
const flagReader = flagReaderFromEnvironment();
const autonomy = (workflowId: string, rolloutPhase: RolloutPhase) => {
  const history = new LedgerLaneHistory(index, Math.floor(Date.now() / 1000));
  return readAutonomy(workflowId, flagReader, (id, scope) => history.lastFlip(id, scope), rolloutPhase);
};
// The cookie key is derived from the secret (or the local file) with HKDF: 32 bytes, whatever its form.
const sessionKey = new Uint8Array(
  hkdfSync(
    'sha256',
    await loadKeyMaterial('console session key', {
      secretArn: FUNCTION_ENV.consoleSessionKeySecretArn,
      file: FUNCTION_ENV.consoleSessionKeyFile,
    }),
    new Uint8Array(0),
    'agent-ledger console session cookie',
    32,
  ),
);

const issuer = process.env[FUNCTION_ENV.oidcIssuer];
const signIn: ConsoleDependencies['signIn'] = issuer
  ? providerSignIn(issuer)
  : { kind: 'token', tokens: new DynamoDbAccessStore(table.documents, table.tableName) };
const stage = process.env[FUNCTION_ENV.stage];

export const handler = httpHandler(
  makeConsoleHandler({
    registry: ingest.registry,
    sessions: new SessionSealer(sessionKey),
    signIn,
    overview: {
      kpis: new DynamoDbKpiStore(table.documents, table.tableName),
      autonomy,
      rolloutPhaseViolations: (workflowId, week) => countViolations(index, workflowId, week, 'rollout-phase'),
      reports: new S3ReportsReader(
        traceClient(makeS3Client()),
        requiredEnv(FUNCTION_ENV.reportsBucketName),
        STORE_TIMEOUT_MS,
      ),
      timeoutMs: STORE_TIMEOUT_MS,
    },
    autonomy,
    flags: { reader: flagReader, writer: flagWriterFromEnvironment() },
    drills: new DynamoDbDrillStore(table.documents, table.tableName),
    reviews,
    index,
    // Loaded on first use only: a unit page whose events all left the index's hot window.
    // The archive reader ingest has (loaded on first use only): a unit whose events all left the hot window.
    archive: { events: ingest.archivedEvents, hotIndexDays: ingest.hotIndexDays },
    ingest: { ...ingest, reviews },
    hasher: ingest.hasher,
    clock: () => new Date(),
    // The local stack serves plain HTTP on the loopback address; everywhere else is HTTPS.
    secureCookies: issuer !== undefined,
    // Each half of a drill must show in the console's own flag reader (a poll: 1 s locally, 15 s in the
    // cloud), and both halves fit the function's 28 s under API Gateway's 29 s; `agent-ledger drill` waits
    // up to 60 s a half, for a cloud drill that does not.
    drillTimeoutMs: issuer !== undefined ? 12_000 : 10_000,
    target: stage ? `stage ${stage}` : 'the local stack',
    postmortems: new DynamoDbPostmortemStore(table.documents, table.tableName),
  }),
  { presentError: presentConsoleError },
);

/** The user pool's managed login: one code-flow client per callback URL the console is reached at. */
function providerSignIn(issuerUrl: string): ConsoleDependencies['signIn'] {
  const clientId = requiredEnv(FUNCTION_ENV.oidcClientId);
  const logoutUrl = process.env[FUNCTION_ENV.oidcLogoutUrl];
  const clients = new Map<string, OidcSignIn>();
  return {
    kind: 'oidc',
    oidc: (redirectUri) => {
      let client = clients.get(redirectUri);
      if (!client) {
        client = new OidcSignIn({
          issuer: issuerUrl,
          clientId,
          redirectUri,
          ...(logoutUrl ? { logoutUrl } : {}),
        });
        clients.set(redirectUri, client);
      }
      return client;
    },
    ...(logoutUrl ? { logoutOrigin: new URL(logoutUrl).origin } : {}),
  };
}
