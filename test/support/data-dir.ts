import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Every file under `dir`, gzip objects unpacked, so nothing hides in compression (privacy checks). */
export function filesWithContent(dir: string): { path: string; content: Buffer }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesWithContent(path);
    const raw = readFileSync(path);
    const gzipped = raw[0] === 0x1f && raw[1] === 0x8b;
    return [{ path, content: gzipped ? gunzipSync(raw) : raw }];
  });
}
