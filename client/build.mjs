// Builds `agent-ledger/client` into dist/client/: one ESM bundle (esbuild) and its declarations (tsc).
// Run by `npm run build:client`, and by `prepare`, so `npm ci` and `npm install` leave it built.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  // An install without devDependencies (`npm ci --omit=dev`) has no esbuild and needs no client build.
  console.warn('agent-ledger: esbuild is not installed; dist/client/ is not built');
  process.exit(0);
}

const out = 'dist/client';
rmSync(out, { recursive: true, force: true });

await build({
  entryPoints: ['client/index.ts'],
  outfile: `${out}/index.js`,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // The package's own dependencies stay imports: zod always; the AWS packages only load for SigV4 callers.
  external: ['zod', '@smithy/*', '@aws-sdk/*'],
  logLevel: 'warning',
});

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.client.json'], {
  stdio: 'inherit',
});

// The sources import each other as `./x.ts`; declarations are read where the JS is, as `./x.js`.
for (const entry of readdirSync(`${out}/types`, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const path = join(entry.parentPath, entry.name);
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.replace(/(from\s+'\.{1,2}\/[^']*)\.ts'/g, "$1.js'"));
}
