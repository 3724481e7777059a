/**
 * RFC 3339 timestamps with an explicit offset (`Z` or `±hh:mm`), validated to the calendar: JavaScript's
 * Date quietly rolls 2026-02-30 over to March 2, so the parsed fields are checked against the input. Every
 * year RFC 3339 can write (0000–9999) is kept as sent: `Date.UTC` would read years 0–99 as 1900–1999.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch, or undefined when `value` is not an RFC 3339 timestamp with offset. */
export function parseRfc3339(value: string): number | undefined {
  const match = RFC3339.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone, sign, oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // Leap seconds (:60) are valid RFC 3339 but not representable; they are rejected rather than guessed.
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const offsetHours = Number(oh);
    const offsetMins = Number(om);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const millis = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0;
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, second, millis);
  const instant = local.getTime() - offsetMinutes * 60_000;
  // An offset can carry 0000-01-01 or 9999-12-31 across the edge of the years a sort key can hold.
  if (instant < MIN_INSTANT_MS || instant > MAX_INSTANT_MS) return undefined;
  return instant;
}

/**
 * The first and last instants the ledger can hold: those whose UTC form has a four-digit year (RFC 3339's
 * own range, and what keeps sort keys fixed-width). "All of time" in a read means this range.
 */
export const MIN_INSTANT_MS = Date.parse('0000-01-01T00:00:00.000Z');
export const MAX_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Proleptic Gregorian, as RFC 3339 counts: year 0 is a leap year, 1900 is not, 2000 is. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Fixed-width UTC form used in sort keys: string order equals time order. */
export function toUtcIso(epochMillis: number): string {
  return new Date(epochMillis).toISOString();
}
