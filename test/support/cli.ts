import { execFileSync, spawnSync } from 'node:child_process';

/**
 * The CLI as an operator runs it (`bin/agent-ledger.js`), on the local stack whose data folder is given:
 * its stdout; a non-zero exit throws, with the CLI's stderr in the error.
 */
export function cliOn(dataDir: string): (...args: string[]) => string {
  return (...args) =>
    execFileSync(process.execPath, ['bin/agent-ledger.js', ...args], {
      env: { ...process.env, LEDGER_DATA_DIR: dataDir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
}

/** The same, for tests of what the CLI says when it fails: its exit status, stdout and stderr. */
export function cliResultOn(
  dataDir: string,
): (...args: string[]) => { status: number | null; stdout: string; stderr: string } {
  return (...args) => {
    const result = spawnSync(process.execPath, ['bin/agent-ledger.js', ...args], {
      env: { ...process.env, LEDGER_DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
}
