import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { ESM_REQUIRE_BANNER, LAMBDA_ALIASES } from '../infra/constructs/lambda-bundling.ts';
import { median, percentile } from './stats.ts';

/**
 * The ingest handler as Lambda gets it: one ESM file built the way the CDK's NodejsFunction does
 * (bundle, platform node, ESM, minified, every dependency inlined including the AWS SDK, a `require`
 * shim for bundled CommonJS, the same aliases), and how long importing it takes in a fresh Node process.
 */

export interface BundleResult {
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly mapBytes: number;
  readonly buildMs: number;
  /** Largest contributors to the output, by package (or by first-party directory). */
  readonly topPackages: { name: string; bytes: number }[];
  /** Every file in the output: `<package>/<path>` for dependencies, the repository path for the project's. */
  readonly files: string[];
}

export async function bundleHandler(repoRoot: string, outDir: string, entry: string): Promise<BundleResult> {
  const outfile = join(outDir, 'index.mjs');
  const started = performance.now();
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [join(repoRoot, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: 'external',
    sourcesContent: false,
    external: [],
    banner: { js: ESM_REQUIRE_BANNER },
    alias: { ...LAMBDA_ALIASES },
    metafile: true,
    logLevel: 'silent',
  });
  const buildMs = performance.now() - started;
  const code = readFileSync(outfile);
  return {
    file: outfile,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    mapBytes: statSync(`${outfile}.map`).size,
    buildMs,
    ...contents(result.metafile, outfile, repoRoot),
  };
}

function contents(
  metafile: Metafile,
  outfile: string,
  repoRoot: string,
): Pick<BundleResult, 'topPackages' | 'files'> {
  const output = Object.entries(metafile.outputs).find(([path]) => resolve(repoRoot, path) === outfile);
  const inputs = output?.[1].inputs ?? {};
  const totals = new Map<string, number>();
  const files: string[] = [];
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const relative = path.startsWith(repoRoot) ? path.slice(repoRoot.length + 1) : path;
    const modules = relative.lastIndexOf('node_modules/');
    let name: string;
    if (modules >= 0) {
      const inPackages = relative.slice(modules + 'node_modules/'.length);
      const parts = inPackages.split('/');
      name = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? relative);
      files.push(inPackages);
    } else {
      name = `(project) ${relative.split('/')[0]}/`;
      files.push(relative);
    }
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  const topPackages = [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
  return { topPackages, files };
}

export interface ImportTiming {
  readonly runs: number;
  readonly importMs: number[];
  readonly processMs: number[];
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly medianProcessMs: number;
}

/** Runs in the child: times the import itself, from inside, and checks the handler is there. */
const CHILD_SCRIPT = `
const t0 = performance.now();
const mod = await import(process.env.BENCH_BUNDLE_URL);
const importMs = performance.now() - t0;
if (typeof mod.handler !== 'function') throw new Error('the bundle exports no handler');
process.stdout.write(JSON.stringify({ importMs, sinceStartMs: performance.now() }) + '\\n');
`;

function importOnce(bundleFile: string, keyFile: string): Promise<{ importMs: number; processMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // A minimal environment: exactly what the handler reads at import, and nothing that points anywhere.
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        BENCH_BUNDLE_URL: pathToFileURL(bundleFile).href,
        LEDGER_TABLE_NAME: 'x',
        ARCHIVE_BUCKET_NAME: 'y',
        KILL_SWITCH_APPLICATION_ID: 'a',
        KILL_SWITCH_ENVIRONMENT_ID: 'e',
        REGISTRY_PROFILE_ID: 'r',
        ACTOR_HASH_KEY_FILE: keyFile,
        AWS_REGION: 'us-east-1',
        POWERTOOLS_TRACE_ENABLED: 'false',
        POWERTOOLS_METRICS_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const processMs = performance.now() - started;
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`import child failed (${code ?? signal}): ${stderr.trim()}`));
      try {
        const { importMs } = JSON.parse(line) as { importMs: number };
        resolve({ importMs, processMs });
      } catch {
        reject(new Error(`import child printed no timing: ${stdout}${stderr}`));
      }
    });
  });
}

/** One untimed run (file cache), then `runs` timed ones, one after another. */
export async function measureImports(
  bundleFile: string,
  workDir: string,
  runs: number,
): Promise<ImportTiming> {
  const keyFile = join(workDir, 'actor-hash-key');
  writeFileSync(keyFile, `${'0123456789abcdef'.repeat(4)}\n`, { mode: 0o600 });
  await importOnce(bundleFile, keyFile);
  const importMs: number[] = [];
  const processMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const timing = await importOnce(bundleFile, keyFile);
    importMs.push(timing.importMs);
    processMs.push(timing.processMs);
  }
  return {
    runs,
    importMs,
    processMs,
    medianMs: median(importMs),
    p90Ms: percentile(importMs, 90),
    medianProcessMs: median(processMs),
  };
}
