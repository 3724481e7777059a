import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * The local stack (`npm start`) as a child process of the benchmark. It runs detached, in a process
 * group of its own, so its DynamoDB Local and S3 server children can be cleaned up as one group if the
 * stack itself fails to stop them.
 */
export interface StackEndpoints {
  readonly api: string;
  readonly dynamodb: string;
  readonly s3: string;
}

export interface StackHandle {
  stop(): Promise<void>;
  /** Last resort (process 'exit'): SIGKILL the whole group, synchronously. */
  killNow(): void;
}

export interface StackProcess extends StackHandle {
  readonly endpoints: StackEndpoints;
  readonly token: string;
  /** `export NAME=value` lines of `$LEDGER_DATA_DIR/aws-env`, parsed. */
  readonly awsEnv: Readonly<Record<string, string>>;
  readonly actorHashKeyHex: string;
  readonly startupMs: number;
  /** Whatever the stack wrote to stderr since it became ready (errors, warnings). */
  stderrSinceReady(): string;
}

/** True when nothing listens on 127.0.0.1:port and we may bind it. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first PORT from `start` (trying at most 40) with PORT, PORT+1 and PORT+2 all free. */
export async function findFreePortTriple(start: number): Promise<number> {
  for (let port = start; port < start + 120; port += 3) {
    if ((await portFree(port)) && (await portFree(port + 1)) && (await portFree(port + 2))) return port;
  }
  throw new Error(`no three free consecutive ports from ${start} to ${start + 119}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startStackProcess(options: {
  repoRoot: string;
  dataDir: string;
  port: number;
  timeoutMs?: number;
  /** Called right after the spawn, before the stack is ready: lets an interrupt stop a half-started stack. */
  onSpawn?: (handle: StackHandle) => void;
}): Promise<StackProcess> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'local-stack/start.ts'], {
    cwd: options.repoRoot,
    env: {
      ...process.env,
      PORT: String(options.port),
      LEDGER_DATA_DIR: options.dataDir,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the local stack');

  let output = '';
  let stderrAfterReady = '';
  let ready = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-8000);
    if (ready) stderrAfterReady = (stderrAfterReady + text).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let stopped = false;
  const killNow = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      // start.ts stops DynamoDB Local and the S3 server on SIGTERM, then exits.
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
    }
    // Anything left in the group (the stack hung, or its children outlived it) goes now.
    if (alive(-pid)) {
      killNow();
      for (let i = 0; i < 50 && alive(-pid); i++) await sleep(100);
    }
  };

  options.onSpawn?.({ stop, killNow });

  try {
    const deadline = Date.now() + (options.timeoutMs ?? 90_000);
    const endpointsFile = join(options.dataDir, 'endpoints.json');
    const awsEnvFile = join(options.dataDir, 'aws-env');
    let endpoints: StackEndpoints | undefined;
    let awsEnv: Record<string, string> | undefined;
    while (!endpoints || !awsEnv) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `the local stack exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.trim()}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`the local stack was not ready in time:\n${output.trim()}`);
      await sleep(100);
      // endpoints.json then aws-env are written last, when everything listens; a half-written file is retried.
      if (!existsSync(endpointsFile) || !existsSync(awsEnvFile)) continue;
      try {
        const parsed = JSON.parse(readFileSync(endpointsFile, 'utf8')) as StackEndpoints;
        const env = parseExports(readFileSync(awsEnvFile, 'utf8'));
        if (parsed.api && parsed.dynamodb && parsed.s3 && env.AWS_ENDPOINT_URL_S3) {
          endpoints = parsed;
          awsEnv = env;
        }
      } catch {
        // not complete yet
      }
    }
    for (const url of Object.values(endpoints)) {
      if (new URL(url).hostname !== '127.0.0.1') throw new Error(`refusing a non-local endpoint: ${url}`);
    }
    ready = true;
    const token = readFileSync(join(options.dataDir, 'dev-token'), 'utf8').trim();
    const actorHashKeyHex = readFileSync(join(options.dataDir, 'actor-hash-key'), 'utf8').trim();
    return {
      endpoints,
      token,
      awsEnv,
      actorHashKeyHex,
      startupMs: performance.now() - started,
      stderrSinceReady: () => stderrAfterReady,
      stop,
      killNow,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2];
  }
  return env;
}
