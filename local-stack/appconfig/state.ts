import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { messageOf } from '#lib/errors.ts';

/**
 * Everything the stand-in knows, kept as one JSON document under `<dataDir>/appconfig/state.json`.
 * Field names are AppConfig's own, so most records go out on the wire as they are stored.
 */
export interface Application {
  Id: string;
  Name: string;
  Description?: string;
}

export interface Environment {
  ApplicationId: string;
  Id: string;
  Name: string;
  Description?: string;
  Monitors?: { AlarmArn: string; AlarmRoleArn?: string }[];
}

export type ProfileType = 'AWS.AppConfig.FeatureFlags' | 'AWS.Freeform';

export interface ConfigurationProfile {
  ApplicationId: string;
  Id: string;
  Name: string;
  Description?: string;
  LocationUri: string;
  Type: ProfileType;
  Validators?: { Type: string; Content: string }[];
}

export interface DeploymentStrategy {
  Id: string;
  Name: string;
  Description?: string;
  DeploymentDurationInMinutes: number;
  GrowthType: 'LINEAR' | 'EXPONENTIAL';
  GrowthFactor: number;
  FinalBakeTimeInMinutes: number;
  ReplicateTo: 'NONE' | 'SSM_DOCUMENT';
}

export interface HostedConfigurationVersion {
  ApplicationId: string;
  ConfigurationProfileId: string;
  VersionNumber: number;
  Description?: string;
  ContentType: string;
  VersionLabel?: string;
  /** The content as base64: hosted configurations may be any bytes, not just text. */
  ContentBase64: string;
}

export interface DeploymentEvent {
  EventType: string;
  TriggeredBy: 'USER' | 'APPCONFIG';
  Description: string;
  OccurredAt: string;
  ActionInvocations?: {
    ExtensionIdentifier: string;
    ActionName: string;
    InvocationId: string;
    ErrorMessage?: string;
  }[];
}

export interface Deployment {
  ApplicationId: string;
  EnvironmentId: string;
  DeploymentStrategyId: string;
  ConfigurationProfileId: string;
  DeploymentNumber: number;
  ConfigurationName: string;
  ConfigurationLocationUri: string;
  ConfigurationVersion: string;
  Description?: string;
  DeploymentDurationInMinutes: number;
  GrowthType: string;
  GrowthFactor: number;
  FinalBakeTimeInMinutes: number;
  State: 'COMPLETE';
  /** Newest first, as AppConfig lists them. */
  EventLog: DeploymentEvent[];
  PercentageComplete: number;
  StartedAt: string;
  CompletedAt: string;
  VersionLabel?: string;
}

export interface State {
  applications: Application[];
  environments: Environment[];
  profiles: ConfigurationProfile[];
  /** Only the ones users created; AWS's predefined strategies are constants, see below. */
  strategies: DeploymentStrategy[];
  versions: HostedConfigurationVersion[];
  deployments: Deployment[];
}

/** AWS's predefined strategies: their ID is their name, and every account has them. */
export const PREDEFINED_STRATEGIES: readonly DeploymentStrategy[] = [
  {
    Id: 'AppConfig.AllAtOnce',
    Name: 'AppConfig.AllAtOnce',
    Description: 'Quick',
    DeploymentDurationInMinutes: 0,
    GrowthType: 'LINEAR',
    GrowthFactor: 100,
    FinalBakeTimeInMinutes: 10,
    ReplicateTo: 'NONE',
  },
  {
    Id: 'AppConfig.Linear50PercentEvery30Seconds',
    Name: 'AppConfig.Linear50PercentEvery30Seconds',
    Description: 'Test/Demo',
    DeploymentDurationInMinutes: 1,
    GrowthType: 'LINEAR',
    GrowthFactor: 50,
    FinalBakeTimeInMinutes: 1,
    ReplicateTo: 'NONE',
  },
  {
    Id: 'AppConfig.Canary10Percent20Minutes',
    Name: 'AppConfig.Canary10Percent20Minutes',
    Description: 'AWS Recommended',
    DeploymentDurationInMinutes: 20,
    GrowthType: 'EXPONENTIAL',
    GrowthFactor: 10,
    FinalBakeTimeInMinutes: 10,
    ReplicateTo: 'NONE',
  },
  {
    Id: 'AppConfig.Linear20PercentEvery6Minutes',
    Name: 'AppConfig.Linear20PercentEvery6Minutes',
    Description: 'AWS Recommended',
    DeploymentDurationInMinutes: 30,
    GrowthType: 'LINEAR',
    GrowthFactor: 20,
    FinalBakeTimeInMinutes: 30,
    ReplicateTo: 'NONE',
  },
];

function emptyState(): State {
  return { applications: [], environments: [], profiles: [], strategies: [], versions: [], deployments: [] };
}

/** The state file and the in-memory copy every handler reads and changes; `save()` after each change. */
export class Store {
  readonly file: string;
  readonly state: State;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'appconfig', 'state.json');
    this.state = emptyState();
    if (existsSync(this.file)) {
      let loaded: Partial<State>;
      try {
        loaded = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<State>;
      } catch (error) {
        // Refuse to start rather than silently start empty and overwrite someone's configuration.
        throw new Error(
          `the AppConfig stand-in's state file ${this.file} is not readable JSON (${messageOf(error)}); fix or remove it`,
        );
      }
      Object.assign(this.state, loaded);
    }
  }

  /** Tmp file + rename, so a crash mid-write leaves the previous state rather than half a file. */
  save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.state, null, 2)}\n`);
    renameSync(tmp, this.file);
  }

  /** AppConfig-like IDs: 7 lowercase alphanumerics, unique across every kind of resource. */
  newId(): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const taken = new Set<string>([
      ...this.state.applications.map((item) => item.Id),
      ...this.state.environments.map((item) => item.Id),
      ...this.state.profiles.map((item) => item.Id),
      ...this.state.strategies.map((item) => item.Id),
    ]);
    for (;;) {
      let id = '';
      for (let index = 0; index < 7; index += 1) id += alphabet[randomInt(alphabet.length)];
      if (!taken.has(id)) return id;
    }
  }

  allStrategies(): DeploymentStrategy[] {
    return [...PREDEFINED_STRATEGIES, ...this.state.strategies];
  }

  /** What a profile's clients in an environment get now: the newest deployment of it there, if any. */
  currentDeployment(applicationId: string, environmentId: string, profileId: string): Deployment | undefined {
    let current: Deployment | undefined;
    for (const deployment of this.state.deployments) {
      if (
        deployment.ApplicationId === applicationId &&
        deployment.EnvironmentId === environmentId &&
        deployment.ConfigurationProfileId === profileId &&
        (!current || deployment.DeploymentNumber > current.DeploymentNumber)
      )
        current = deployment;
    }
    return current;
  }
}

/**
 * Finds a resource by ID or, failing that, by name (AppConfigData takes either; the stand-in accepts
 * either in AppConfig's paths too). Names need not be unique in AppConfig: the oldest one wins.
 */
export function byIdOrName<T extends { Id: string; Name: string }>(
  items: readonly T[],
  identifier: string,
): T | undefined {
  return items.find((item) => item.Id === identifier) ?? items.find((item) => item.Name === identifier);
}
