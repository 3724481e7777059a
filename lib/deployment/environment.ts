/**
 * The environment variables the ledger's functions read, and the one place their names are written: the
 * CDK function construct sets them (`LedgerFunction`'s `use*` helpers, each with the grant it implies),
 * the local stack sets them for the same handlers run in process, and the handlers and adapters read them.
 */
export const FUNCTION_ENV = {
  /** The ledger table (events, tokens, grants, KPIs, reviews, drills, evals). */
  ledgerTableName: 'LEDGER_TABLE_NAME',
  /** The raw event archive. */
  archiveBucketName: 'ARCHIVE_BUCKET_NAME',
  /** The reports bucket: finance Parquet and governance reports. */
  reportsBucketName: 'REPORTS_BUCKET_NAME',
  /** The actor-hash HMAC key in the cloud: a Secrets Manager secret. */
  actorHashKeySecretArn: 'ACTOR_HASH_KEY_SECRET_ARN',
  /** The actor-hash HMAC key locally: a file the local stack generates. */
  actorHashKeyFile: 'ACTOR_HASH_KEY_FILE',
  /** Where the drift job tells operators it paused a lane. */
  driftTopicArn: 'DRIFT_TOPIC_ARN',
  /** The kill switch's AppConfig application and environment (the workflow registry shares them). */
  killSwitchApplicationId: 'KILL_SWITCH_APPLICATION_ID',
  killSwitchEnvironmentId: 'KILL_SWITCH_ENVIRONMENT_ID',
  /** The kill switch's feature-flag profile. */
  killSwitchProfileId: 'KILL_SWITCH_PROFILE_ID',
  /** The immediate deployment strategy every flip is deployed with. */
  killSwitchStrategyId: 'KILL_SWITCH_STRATEGY_ID',
  /** How stale the flags a container read may be, in seconds. */
  flagPollSeconds: 'FLAG_POLL_SECONDS',
  /** The workflow registry's freeform profile. */
  registryProfileId: 'REGISTRY_PROFILE_ID',
  /** How stale the registry a container read may be, in seconds. */
  registryPollSeconds: 'REGISTRY_POLL_SECONDS',
  /** The stage the reports job writes about (unset locally). */
  stage: 'LEDGER_STAGE',
  /** The console's session-cookie key in the cloud: a Secrets Manager secret (32 random bytes, hex). */
  consoleSessionKeySecretArn: 'CONSOLE_SESSION_KEY_SECRET_ARN',
  /** The console's session-cookie key locally: a file the local stack generates. */
  consoleSessionKeyFile: 'CONSOLE_SESSION_KEY_FILE',
  /**
   * The OpenID Connect issuer people sign in with (the Cognito user pool's issuer URL). Unset: people
   * sign in with their ledger token (the local stack).
   */
  oidcIssuer: 'CONSOLE_OIDC_ISSUER',
  /** The user pool app client the console signs people in with (public: PKCE, no secret). */
  oidcClientId: 'CONSOLE_OIDC_CLIENT_ID',
  /** Cognito's managed login domain (`https://<prefix>.auth.<region>.amazoncognito.com`), for sign-out. */
  oidcLogoutUrl: 'CONSOLE_OIDC_LOGOUT_URL',
  /** Days an event stays in the index after it arrives (lib/storage/ledger-table.ts); unset: the default. */
  hotIndexDays: 'LEDGER_HOT_INDEX_DAYS',
  /**
   * The Athena workgroup the archive is queried in (reads past the hot window, ingest's idempotency past
   * it). Unset: the local home, where DuckDB reads the archive.
   */
  archiveQueryWorkgroup: 'ARCHIVE_QUERY_WORKGROUP',
  /** The Glue database holding the archive's table (`archive_events`). */
  archiveQueryDatabase: 'ARCHIVE_QUERY_DATABASE',
  /** `true` for S3 servers without virtual-host buckets (the local one). */
  s3ForcePathStyle: 'LEDGER_S3_FORCE_PATH_STYLE',
} as const;

export type FunctionEnvName = (typeof FUNCTION_ENV)[keyof typeof FUNCTION_ENV];
