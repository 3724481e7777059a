/**
 * The read API's opaque cursors, one format for every paged route: the base64url of `<kind>:<position>`.
 * A cursor is accepted only when it is exactly one this API could have written (it decodes to UTF-8,
 * re-encodes to itself, names the route's kind and holds a position of the route's shape), so a garbled
 * or foreign cursor is a 400 rather than a quietly empty page.
 */
export type CursorKind = 'events' | 'reviews';

export function encodeCursor(kind: CursorKind, position: string): string {
  return Buffer.from(`${kind}:${position}`, 'utf8').toString('base64url');
}

/** The position `cursor` stands for, or null when it is not a cursor of `kind` this API returned. */
export function decodeCursor(
  kind: CursorKind,
  cursor: string,
  isPosition: (position: string) => boolean,
): string | null {
  if (!/^[A-Za-z0-9_-]{1,1400}$/.test(cursor)) return null;
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (Buffer.from(decoded, 'utf8').toString('base64url') !== cursor) return null;
  const prefix = `${kind}:`;
  if (!decoded.startsWith(prefix)) return null;
  const position = decoded.slice(prefix.length);
  return isPosition(position) ? position : null;
}
