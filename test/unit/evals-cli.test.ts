import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVALS_HELP, evalsCommand } from '../../cli/commands/evals.ts';
import { CliError } from '../../cli/errors.ts';

// File and usage mistakes are caught before any store is touched, so these need no stack.
describe('agent-ledger evals', () => {
  let dir: string;
  const previousDataDir = process.env.LEDGER_DATA_DIR;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-ledger-evals-'));
    process.env.LEDGER_DATA_DIR = join(dir, 'no-stack');
  });
  afterEach(() => {
    process.env.LEDGER_DATA_DIR = previousDataDir;
  });

  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const failure = async (...args: string[]) => {
    try {
      await evalsCommand(args, () => {});
    } catch (error) {
      if (error instanceof CliError) return { code: error.exitCode, message: error.message };
      throw error;
    }
    throw new Error('expected the command to fail');
  };
  const cases = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      caseId: `c-${i}`,
      unitId: `pr-${i}`,
      expectedOutcome: 'approve',
    }));

  it('names the file and the JSON path of each problem in a set, and exits 2', async () => {
    const path = file('set.json', { workflowId: 'code-review', name: 'regression', cases: cases(99) });
    const { code, message } = await failure('register', path);
    expect(code).toBe(2);
    expect(message).toBe(
      `${path} is not a valid eval set; nothing was registered:\n  $.cases: has 99 cases; an eval set has 100–300`,
    );
  });

  it('summarises a file with many problems', async () => {
    const broken = cases(150).map((c) => ({ ...c, expectedOutcome: 7 }));
    const { message } = await failure(
      'register',
      file('set.json', { workflowId: 'code-review', name: 'r', cases: broken }),
    );
    expect(message.split('\n')).toHaveLength(22);
    expect(message).toContain('$.cases[0].expectedOutcome: must be a string, not a number');
    expect(message).toContain('… and 130 more');
  });

  it('names a run file that is not JSON', async () => {
    const path = file('run.json', '{"runId": ');
    const { code, message } = await failure('record', path);
    expect(code).toBe(2);
    expect(message).toMatch(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} could not be read as JSON`),
    );
  });

  it('names the fields of an invalid run', async () => {
    const path = file('run.json', {
      runId: 'r 1',
      workflowId: 'code-review',
      evalSet: 'regression',
      results: [],
    });
    const { code, message } = await failure('record', path);
    expect(code).toBe(2);
    expect(message).toContain('$.runId: must be 1–128 characters');
    expect(message).toContain('$.evalSetVersion: is required');
    expect(message).toContain('$.results: must have a result per case of the set');
  });

  it.each([
    [['compare', 'code-review'], 'usage: agent-ledger evals compare'],
    [['compare', 'code-review', 'bad#name'], "'bad#name' is not an eval set name"],
    [['list'], 'usage: agent-ledger evals list'],
    [['register'], 'usage: agent-ledger evals register'],
    [['publish'], "unknown evals action 'publish'"],
  ])('%j exits 2: %s', async (args, expected) => {
    const { code, message } = await failure(...args);
    expect(code).toBe(2);
    expect(message).toContain(expected);
  });

  it('prints help that shows both file formats', async () => {
    const printed: string[] = [];
    await evalsCommand(['--help'], (line) => void printed.push(line));
    expect(printed).toEqual([EVALS_HELP]);
    expect(EVALS_HELP).toContain('"expectedOutcome"');
    expect(EVALS_HELP).toContain('"evalSetVersion"');
  });
});
