import { describe, expect, it } from 'vitest';
import { terminalSafe } from '../../cli/terminal.ts';

describe('terminalSafe: data never reaches the terminal as an escape sequence', () => {
  it.each([
    ['an OSC title change (ESC ] 0 ; … BEL)', 'claude\u001b]0;owned\u0007', 'claude\\u001b]0;owned\\u0007'],
    ['a CSI that clears the screen', 'x\u001b[2Jy', 'x\\u001b[2Jy'],
    ['a C1 CSI', 'x\u009b31my', 'x\\u009b31my'],
    ['a carriage return that rewrites the line', 'ok\rFAIL', 'ok\\u000dFAIL'],
    ['DEL and NUL', 'a\u007fb\u0000c', 'a\\u007fb\\u0000c'],
    ['a right-to-left override', 'tool\u202egnp.exe', 'tool\\u202egnp.exe'],
  ])('shows %s as text', (_what, input, expected) => {
    expect(terminalSafe(input)).toBe(expected);
  });

  it('keeps newlines, tabs and ordinary text, accents and emoji included', () => {
    expect(terminalSafe('a\tb\nc — é 🙂')).toBe('a\tb\nc — é 🙂');
  });

  it('keeps a JSON line meaning the same', () => {
    const value = { model: 'evil\u009b\u202e', n: 1 };
    expect(JSON.parse(terminalSafe(JSON.stringify(value)))).toEqual(value);
  });
});
