import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseRolesOption } from '../../cli/commands/tokens.ts';
import { run } from '../../cli/main.ts';

// Usage mistakes are caught before any store is touched, so these need no stack.
describe('agent-ledger', () => {
  let printed: string[];
  let errors: string[];
  const previousDataDir = process.env.LEDGER_DATA_DIR;

  beforeEach(() => {
    printed = [];
    errors = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    process.env.LEDGER_DATA_DIR = mkdtempSync(join(tmpdir(), 'agent-ledger-cli-'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.env.LEDGER_DATA_DIR = previousDataDir;
  });
  const cli = (...args: string[]) => run(args, (line) => void printed.push(line));

  it.each([
    [['tokens', 'create'], 2, '--workflows is required'],
    [['tokens', 'create', '--workflows', ' , '], 2, '--workflows names no workflow'],
    [['tokens', 'revoke'], 2, 'usage: agent-ledger tokens revoke'],
    [['tokens', 'revoke', 'zz'], 2, 'is not a token ID'],
    [['tokens', 'create', '--workflow', 'x'], 2, "Unknown option '--workflow'"],
    [
      ['tokens', 'create', '--workflows', '*', '--label', 'a', '--roles', 'reviewer,admin'],
      2,
      "unknown role 'admin' in --roles; the roles are viewer, reviewer, operator",
    ],
    [['tokens', 'create', '--workflows', '*', '--label', 'a', '--roles', ' , '], 2, '--roles names no role'],
    [['tokens', 'create', '--workflows', '*', '--label', 'a', '--roles', ''], 2, '--roles names no role'],
    [['tokens', 'create', '--workflows', '*', '--roles', 'viewer'], 2, 'give --label <their name>'],
    [['access', 'grant', 'not-an-arn', '--workflows', '*'], 2, 'is not an IAM role or user ARN'],
    [['tokens', 'list', '--stage', 'bad stage!'], 2, 'is not a stage name'],
    [['launch'], 2, "unknown command 'launch'"],
  ])('%j exits %i saying what is wrong', async (args, code, message) => {
    expect(await cli(...args)).toBe(code);
    expect(errors.join('\n')).toContain(message);
    expect(errors.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('prints what it was given as text, never as a terminal escape sequence', async () => {
    expect(await cli('\u001b]0;owned\u0007')).toBe(2);
    expect(errors.join('\n')).toContain("unknown command '\\u001b]0;owned\\u0007'");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may be printed
    expect(errors.join('\n')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });

  it('says how to start the local stack when none is running', async () => {
    expect(await cli('tokens', 'list')).toBe(1);
    expect(errors.join('\n')).toContain('start it with `npm start`');
  });

  it('prints help', async () => {
    expect(await cli('--help')).toBe(0);
    expect(printed.join('\n')).toContain('tokens create');
  });

  it('stores --roles in the order of ROLES, once each, and no roles without --roles', () => {
    expect(parseRolesOption('operator, viewer,operator', 'reviewer-a')).toEqual(['viewer', 'operator']);
    expect(parseRolesOption(undefined, undefined)).toBeUndefined();
  });
});
