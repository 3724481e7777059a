/**
 * Text for an operator's terminal. Everything the CLI prints goes through here, and much of it comes from
 * the ledger (model and tool names, reasons, workflow and unit IDs): a control character in it would reach
 * the terminal as an escape sequence (retitle the window, rewrite a line, hide text), so each one is shown
 * as `\u001b`-style text instead. Newlines and tabs are kept, as are JSON lines: an escape of this form
 * inside a JSON string reads back as the same character.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

export function terminalSafe(text: string): string {
  return text.replace(
    CONTROL,
    (char) => `\\u${(char.codePointAt(0) as number).toString(16).padStart(4, '0')}`,
  );
}
