import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createConnection } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePortBase } from '../support/local-stack-process.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Whether a TCP connection to host:port is accepted (false on refusal or after 2 s). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port, timeout: 2000 });
    const finish = (result: boolean) => {
      socket.destroy();
      done(result);
    };
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.once('timeout', () => finish(false));
  });
}

/** This machine's own addresses other than loopback: where a neighbour on the network would connect. */
const outwardAddresses = Object.values(networkInterfaces())
  .flat()
  .filter((address) => address !== undefined && !address.internal && address.family === 'IPv4')
  .map((address) => (address as { address: string }).address);

describe('the local services listen on the loopback address only', () => {
  it.skipIf(outwardAddresses.length === 0)(
    'refuses the API, DynamoDB Local, the S3 server and the AppConfig stand-in on every other address',
    async () => {
      // Prepare
      const stack = inject('localStack');
      const ports = [stack.api, stack.dynamodb, stack.s3, stack.appconfig].map((url) =>
        Number(new URL(url).port),
      );
      // Act
      const onLoopback = await Promise.all(ports.map((port) => accepts('127.0.0.1', port)));
      const outside = await Promise.all(
        outwardAddresses.flatMap((host) =>
          ports.map(async (port) => ({ host, port, open: await accepts(host, port) })),
        ),
      );
      // Assess
      expect(onLoopback).toEqual([true, true, true, true]);
      expect(outside.filter((probe) => probe.open)).toEqual([]);
    },
  );
});

/** The processes `pid` started (Linux `pgrep -P`). */
function children(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

/** The status a local service answers for `GET /` under a given Host header. */
async function statusFor(url: string, host: string): Promise<number> {
  const target = new URL(url);
  return new Promise((done, fail) => {
    const request = httpRequest(
      { host: target.hostname, port: target.port, path: '/', method: 'GET', headers: { host } },
      (response) => {
        response.resume();
        done(response.statusCode ?? 0);
      },
    );
    request.once('error', fail);
    request.end();
  });
}

describe('the local services answer only their loopback host names (DNS rebinding)', () => {
  it.each(['dynamodb', 's3', 'appconfig'] as const)(
    '%s refuses Host evil.example with 403',
    async (service) => {
      // Prepare
      const url = inject('localStack')[service];
      const port = new URL(url).port;
      // Act
      const refused = await statusFor(url, `evil.example:${port}`);
      const served = await Promise.all(
        ['127.0.0.1', 'localhost', '[::1]'].map((name) => statusFor(url, `${name}:${port}`)),
      );
      // Assess
      expect(refused).toBe(403);
      for (const status of served) expect(status).not.toBe(403);
    },
  );
});

/** Every process below `pid`, depth first. */
function descendants(pid: number): number[] {
  return children(pid).flatMap((child) => [child, ...descendants(child)]);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitUntil(condition: () => boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

describe('npm start under a supervisor (docker stop, systemd)', () => {
  const dataDirs: string[] = [];
  afterAll(() => {
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  /** `npm start` in a fresh data dir, as a supervisor runs it; resolves once the stack serves. */
  async function startNpm() {
    const dataDir = mkdtempSync(join(tmpdir(), 'agent-ledger-supervised-'));
    dataDirs.push(dataDir);
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, LEDGER_DATA_DIR: dataDir, PORT: String(await freePortBase()) },
      stdio: 'ignore',
    });
    const ready = await waitUntil(
      () => existsSync(join(dataDir, 'endpoints.json')) || npm.exitCode !== null,
      90_000,
    );
    expect(existsSync(join(dataDir, 'endpoints.json')), `the stack did not start within ${ready} ms`).toBe(
      true,
    );
    const pid = npm.pid as number;
    return { npm: pid, all: [pid, ...descendants(pid)] };
  }

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'stops every child within 10 s of %s to the npm process',
    async (signal) => {
      // Prepare: npm, its shell, the stack's process, DynamoDB Local and the S3 server
      const { npm, all } = await startNpm();
      expect(all.length).toBeGreaterThanOrEqual(4);
      // Act
      process.kill(npm, signal);
      const took = await waitUntil(() => all.every((pid) => !alive(pid)), 10_000);
      // Assess
      expect(all.filter(alive)).toEqual([]);
      expect(took).toBeLessThan(10_000);
    },
  );

  it("stops DynamoDB Local and the S3 server even when the stack's own process is killed outright", async () => {
    // Prepare
    const { npm, all } = await startNpm();
    // The stack's own process is the one that started DynamoDB Local and the S3 server.
    const stackProcess = all.find((pid) => children(pid).length >= 2) as number;
    const servers = children(stackProcess);
    expect(servers).toHaveLength(2);
    // Act: SIGKILL leaves no chance to clean up
    process.kill(stackProcess, 'SIGKILL');
    await waitUntil(() => servers.every((pid) => !alive(pid)), 10_000);
    // Assess
    expect(servers.filter(alive)).toEqual([]);
    if (alive(npm)) process.kill(npm, 'SIGTERM');
  });
});
