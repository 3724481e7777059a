import type { FeatureFlagDocument, FlagValues } from '#lib/kill-switch/flag-document.ts';

/** The flags as agents see them (AppConfigData), with the version label when one was set. */
export interface FlagSnapshot {
  readonly values: FlagValues;
  readonly version: string | null;
}

export interface FlagReader {
  /** The deployed flags; throws when they cannot be read (the caller fails closed). */
  read(): Promise<FlagSnapshot>;
}

export interface FlagChange {
  readonly enabled: boolean;
  readonly reason: string;
  readonly changedBy: string;
}

export interface FlipResult {
  readonly deploymentNumber: number;
  readonly configurationVersion: string;
}

export interface FlagWriter {
  /** The latest hosted document, whether or not deployed. */
  currentDocument(): Promise<FeatureFlagDocument>;
  /** Writes a new version with one flag changed and deploys it with the immediate strategy. */
  setFlag(flag: string, change: FlagChange): Promise<FlipResult>;
  /** Adds the flags the registry has and the document lacks (deploying only if any); returns their keys. */
  ensureFlags(workflowIds: readonly string[]): Promise<string[]>;
}

/** Reads the documents of deployments, for the flip recorder's before/after comparison. */
export interface DeployedVersions {
  content(configurationVersion: string): Promise<string>;
  /** The configuration version the previous completed deployment of the profile served, if any. */
  previousVersion(deploymentNumber: number): Promise<string | undefined>;
}
