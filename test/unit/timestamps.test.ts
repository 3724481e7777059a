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
    ['prose', 'yesterday'],
  ])('rejects %s', (_case, text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });

  it('reads back every instant it writes', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
        (date) => {
          expect(parseRfc3339(toUtcIso(date.getTime()))).toBe(date.getTime());
        },
      ),
    );
  });

  it('orders fixed-width UTC strings as it orders instants', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 253_402_300_799_000 }),
        fc.integer({ min: 0, max: 253_402_300_799_000 }),
        (a, b) => {
          expect(Math.sign(toUtcIso(a).localeCompare(toUtcIso(b)))).toBe(Math.sign(a - b));
        },
      ),
    );
  });
});
