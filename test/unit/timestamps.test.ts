import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRfc3339, toUtcIso } from '#lib/events/timestamps.ts';

describe('parseRfc3339', () => {
  it.each([
    ['2026-11-24T08:00:00Z', Date.UTC(2026, 10, 24, 8)],
    ['2026-11-24T09:00:00+01:00', Date.UTC(2026, 10, 24, 8)],
    ['2026-11-24T03:30:00-04:30', Date.UTC(2026, 10, 24, 8)],
    ['2026-11-24t08:00:00.123456z', Date.UTC(2026, 10, 24, 8, 0, 0, 123)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    // Years 0–99 stay years 0–99 (Date.UTC would read them as 1900–1999); year 0 is a leap year.
    ['0050-06-15T12:00:00Z', Date.parse('0050-06-15T12:00:00.000Z')],
    ['0000-02-29T00:00:00Z', Date.parse('0000-02-29T00:00:00.000Z')],
    ['0099-12-31T23:59:59.999Z', Date.parse('0099-12-31T23:59:59.999Z')],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
  ])('reads %s', (text, expected) => {
    expect(parseRfc3339(text)).toBe(expected);
  });

  it.each([
    ['no offset', '2026-11-24T08:00:00'],
    ['a date only', '2026-11-24'],
    ['February 30th', '2026-02-30T00:00:00Z'],
    ['February 29th of a common year', '2026-02-29T00:00:00Z'],
    ['hour 24', '2026-11-24T24:00:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['an offset of 24 hours', '2026-11-24T08:00:00+24:00'],
    ['February 29th of 1900 (not a leap year)', '1900-02-29T00:00:00Z'],
    ['February 29th of year 1 (not a leap year)', '0001-02-29T00:00:00Z'],
    ['an instant before year 0000 in UTC', '0000-01-01T00:30:00+01:00'],
    ['an instant after year 9999 in UTC', '9999-12-31T23:30:00-01:00'],
    ['prose', 'yesterday'],
  ])('rejects %s', (_case, text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });

  it('reads back every instant it writes', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0000-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (date) => {
          expect(parseRfc3339(toUtcIso(date.getTime()))).toBe(date.getTime());
        },
      ),
    );
  });

  it('orders fixed-width UTC strings as it orders instants', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }),
        fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }),
        (a, b) => {
          expect(Math.sign(toUtcIso(a).localeCompare(toUtcIso(b)))).toBe(Math.sign(a - b));
        },
      ),
    );
  });
});
