import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: esbuild's project root and the anchor for Lambda entry points. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The lock file that pins what esbuild bundles into each function. */
export const LOCK_FILE = path.join(PROJECT_ROOT, 'package-lock.json');

/** `functions/<name>/handler.ts`: every Lambda entry point exports `handler`. */
export function functionEntry(name: string): string {
  return path.join(PROJECT_ROOT, 'functions', name, 'handler.ts');
}
