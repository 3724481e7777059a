import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface StackProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly port: number;
  readonly endpoints: { api: string; dynamodb: string; s3: string; appconfig: string };
  readonly token: string;
  output(): string;
}

const ROOT = resolve(import.meta.dirname, '../..');

/** A port p such that p to p+3 are free right now (the stack uses all four). */
export async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all([0, 1, 2, 3].map((offset) => isFree(base + offset)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('found no four free consecutive ports');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Runs `npm start`'s entry point exactly as a user would, in a fresh data directory. Without a `port`, it
 * takes free ones; when another process takes one of them before the stack binds it (stacks started side
 * by side), the stack says so and exits, and it is started again on others.
 */
export async function startStackProcess(
  options: { dataDir?: string; port?: number } = {},
): Promise<StackProcess> {
  if (options.port !== undefined) return startStackOnce(options.dataDir, options.port);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options.dataDir, await freePortBase());
    } catch (error) {
      const portTaken = /already in use|EADDRINUSE/.test(String(error));
      if (!portTaken || attempt >= 3) throw error;
    }
  }
}

async function startStackOnce(dataDirOption: string | undefined, port: number): Promise<StackProcess> {
  const dataDir = dataDirOption ?? mkdtempSync(join(tmpdir(), 'agent-ledger-test-'));
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', 'local-stack/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, LEDGER_DATA_DIR: dataDir, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Everything the stack prints is kept beside its data, so tests can search its logs too.
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    appendFileSync(join(dataDir, 'stack.log'), chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const endpointsFile = join(dataDir, 'endpoints.json');
  const deadline = Date.now() + 90_000;
  while (!existsSync(endpointsFile)) {
    if (child.exitCode !== null) throw new Error(`the local stack exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the local stack did not start within 90 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    dataDir,
    port,
    endpoints: JSON.parse(readFileSync(endpointsFile, 'utf8')),
    token: readFileSync(join(dataDir, 'dev-token'), 'utf8').trim(),
    output: () => output,
  };
}

/** Sends `signal` (SIGINT is Ctrl-C) and waits for the stack to exit. */
export async function stopStackProcess(
  stack: StackProcess,
  signal: NodeJS.Signals = 'SIGINT',
): Promise<number | null> {
  if (stack.child.exitCode !== null) return stack.child.exitCode;
  const exited = new Promise<number | null>((resolve) => stack.child.once('exit', (code) => resolve(code)));
  stack.child.kill(signal);
  const timer = setTimeout(() => stack.child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
