import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '#lib/events/schema.ts';
import { KILL_SWITCH_UNIT } from '#lib/kill-switch/flips.ts';
import { LedgerLaneHistory } from '#lib/kill-switch/history.ts';
import type { EventIndex, StoredEvent } from '#lib/ports.ts';
import { InMemoryEventIndex } from '../support/in-memory-stores.ts';

/** The recorded flips of code-review's own flag, oldest first, as the flip recorder writes them. */
function indexOf(flips: { to: 'enabled' | 'disabled'; reason: string; at: string }[]): EventIndex {
  const index = new InMemoryEventIndex();
  index.add(
    ...flips.map(
      (flip, i): StoredEvent => ({
        event: {
          eventId: `flip-${i}`,
          type: 'rollback',
          workflowId: 'code-review',
          unitId: KILL_SWITCH_UNIT,
          occurredAt: flip.at,
          reason: flip.reason,
          initiatedBy: 'operator',
          to: flip.to,
        } as LedgerEvent,
        occurredAtMs: Date.parse(flip.at),
        receivedAt: flip.at,
        contentHash: `h-${i}`,
        expiresAt: Number.MAX_SAFE_INTEGER,
        archiveKey: 'k',
      }),
    ),
  );
  return index;
}

const history = (flips: Parameters<typeof indexOf>[0]) => new LedgerLaneHistory(indexOf(flips), 0);

describe('LedgerLaneHistory.lastFlip: why a lane is off', () => {
  it('is the latest recorded flip when that one turned the lane off', async () => {
    const flips = history([
      { to: 'disabled', reason: 'drill off', at: '2026-03-01T10:00:00Z' },
      { to: 'enabled', reason: 'drill on', at: '2026-03-01T10:00:05Z' },
      { to: 'disabled', reason: 'defect rate up 60%', at: '2026-03-02T06:00:00Z' },
    ]);
    expect(await flips.lastFlip('code-review', 'workflow')).toEqual({
      reason: 'defect rate up 60%',
      changedAt: '2026-03-02T06:00:00Z',
    });
  });

  it('is unknown while the ledger has not yet recorded the flip that turned the lane off', async () => {
    // The flags already say "off"; the newest recorded flip is an older "on" (a drill's end).
    const flips = history([
      { to: 'disabled', reason: 'drill off', at: '2026-03-01T10:00:00Z' },
      { to: 'enabled', reason: 'drill on', at: '2026-03-01T10:00:05Z' },
    ]);
    expect(await flips.lastFlip('code-review', 'workflow')).toBeUndefined();
  });
});
