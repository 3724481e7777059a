import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HOT_INDEX_DAYS,
  hotFloorMs,
  hotIndexDaysFrom,
  indexExpiresAt,
} from '#lib/storage/ledger-table.ts';

const receivedAtMs = Date.parse('2026-11-24T12:00:00Z');
const receivedSeconds = receivedAtMs / 1000;
const retentionExpiresAt = receivedSeconds + 731 * 86_400;

describe('the hot window', () => {
  it('keeps an event in the index for the hot window after it arrived, never past its retention', () => {
    expect(indexExpiresAt({ type: 'action', receivedAtMs, retentionExpiresAt, hotIndexDays: 45 })).toBe(
      receivedSeconds + 45 * 86_400,
    );
    expect(
      indexExpiresAt({
        type: 'action',
        receivedAtMs,
        retentionExpiresAt: receivedSeconds + 10,
        hotIndexDays: 45,
      }),
    ).toBe(receivedSeconds + 10);
  });

  it('keeps rollback events (the lane history) for their whole retention', () => {
    expect(indexExpiresAt({ type: 'rollback', receivedAtMs, retentionExpiresAt, hotIndexDays: 45 })).toBe(
      retentionExpiresAt,
    );
  });

  it('puts the floor where an event that occurred then still has its index item', () => {
    const nowMs = Date.parse('2026-12-01T00:00:00Z');
    const floor = hotFloorMs(nowMs, 45);
    // An event that occurred at the floor arrived at most 5 minutes before it (the future-skew limit):
    const earliestArrival = floor - 5 * 60_000;
    const expires = indexExpiresAt({
      type: 'action',
      receivedAtMs: earliestArrival,
      retentionExpiresAt: Number.MAX_SAFE_INTEGER,
      hotIndexDays: 45,
    });
    expect(expires * 1000).toBe(nowMs);
    expect(floor).toBe(nowMs - 45 * 86_400_000 + 5 * 60_000);
  });

  it('reads the window from the environment, and says what is wrong with a bad one', () => {
    expect(hotIndexDaysFrom(undefined)).toBe(DEFAULT_HOT_INDEX_DAYS);
    expect(hotIndexDaysFrom('')).toBe(DEFAULT_HOT_INDEX_DAYS);
    expect(hotIndexDaysFrom('90')).toBe(90);
    for (const bad of ['0', '1.5', 'x', '9999']) {
      expect(() => hotIndexDaysFrom(bad)).toThrow(
        `LEDGER_HOT_INDEX_DAYS must be a whole number of days from 1 to 750, not '${bad}'`,
      );
    }
  });
});
