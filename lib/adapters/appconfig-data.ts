import { createHash } from 'node:crypto';
import type {
  GetLatestConfigurationCommandInput,
  StartConfigurationSessionCommandInput,
} from '@aws-sdk/client-appconfigdata';

/**
 * AppConfigData's two operations, by the SDK's names: the SDK's `AppConfigData` client has them (the CLI
 * and tests), and so has `fetchConfigurationSessions` (`lib/aws/appconfig-data.ts`, the Lambda functions).
 */
export interface ConfigurationSessions {
  startConfigurationSession(
    input: StartConfigurationSessionCommandInput,
  ): Promise<{ InitialConfigurationToken?: string | undefined }>;
  getLatestConfiguration(input: GetLatestConfigurationCommandInput): Promise<{
    Configuration?: Uint8Array | undefined;
    NextPollConfigurationToken?: string | undefined;
    NextPollIntervalInSeconds?: number | undefined;
    VersionLabel?: string | undefined;
  }>;
}

/** Where a configuration lives in AppConfig (IDs or, for AppConfigData, names). */
export interface ConfigurationLocation {
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
}

/** A deployed configuration, parsed, with the version AppConfig gave it. */
export interface Deployed<T> {
  readonly value: T;
  readonly version: string;
}

export interface DeployedConfigurationOptions<T> {
  /** The least time between two polls (AppConfigData's minimum in the cloud is 15 s). */
  readonly pollSeconds: number;
  /** Turns the deployed content into a value; a throw counts as a failed read. */
  readonly parse: (content: string, version: string) => T;
  /**
   * What a failed read does to what was read before. `fail-closed` drops it and throws, so callers never
   * trust stale data (the kill switch). `keep-last-good` keeps serving it until the next poll and reports
   * the failure to `onStale` (the registry: a bad deployment must not stop ingest); with nothing read yet
   * it throws as well.
   */
  readonly onError: 'fail-closed' | 'keep-last-good';
  readonly onStale?: (error: unknown) => void;
  readonly now?: () => number;
}

const decoder = new TextDecoder();

/** The profile exists but nothing has been deployed to the environment yet. */
export class NothingDeployedError extends Error {
  override name = 'NothingDeployedError';
}

/**
 * Reads a deployed configuration the way AppConfig's own agents do: one AppConfigData session, polled no
 * more often than `pollSeconds`, with concurrent readers sharing the poll in flight (a configuration token
 * is good for one call). After a failure the session starts over, so the next poll gets the whole
 * configuration again.
 */
export class DeployedConfiguration<T> {
  #token: string | undefined;
  #current: Deployed<T> | undefined;
  #nextPollAt = 0;
  #inFlight: Promise<Deployed<T>> | undefined;
  readonly #now: () => number;

  constructor(
    private readonly sessions: ConfigurationSessions,
    private readonly location: ConfigurationLocation,
    private readonly options: DeployedConfigurationOptions<T>,
  ) {
    this.#now = options.now ?? Date.now;
  }

  async read(): Promise<Deployed<T>> {
    if (this.#current && this.#now() < this.#nextPollAt) return this.#current;
    this.#inFlight ??= this.#poll().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #poll(): Promise<Deployed<T>> {
    try {
      this.#token ??= (
        await this.sessions.startConfigurationSession({
          ApplicationIdentifier: this.location.application,
          EnvironmentIdentifier: this.location.environment,
          ConfigurationProfileIdentifier: this.location.profile,
          RequiredMinimumPollIntervalInSeconds: this.options.pollSeconds,
        })
      ).InitialConfigurationToken;
      const latest = await this.sessions.getLatestConfiguration({ ConfigurationToken: this.#token });
      this.#token = latest.NextPollConfigurationToken;
      this.#nextPollAt = this.#nextPoll(latest.NextPollIntervalInSeconds);
      const content = latest.Configuration ? decoder.decode(latest.Configuration) : '';
      // An empty body means "unchanged since the last poll".
      if (content.length > 0) {
        const version = latest.VersionLabel ?? contentVersion(content);
        this.#current = { value: this.options.parse(content, version), version };
      }
      if (!this.#current) throw new NothingDeployedError('no configuration is deployed');
      return this.#current;
    } catch (error) {
      this.#token = undefined;
      if (this.options.onError === 'keep-last-good' && this.#current) {
        this.#nextPollAt = this.#nextPoll(undefined);
        this.options.onStale?.(error);
        return this.#current;
      }
      this.#current = undefined;
      throw error;
    }
  }

  #nextPoll(serverSeconds: number | undefined): number {
    return this.#now() + Math.max(this.options.pollSeconds, serverSeconds ?? 0) * 1000;
  }
}

/** Versions written outside the CLI may carry no label; the content hash still names them exactly. */
export function contentVersion(content: string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
}
