// The sink's write marks: every write bumps its accounts' `any` mark, a write holding an event
// from before the quarter-hour (with a minute of margin) their `late` mark too; bumps the live
// store refuses are kept and sent once it answers again, and the sink is never made to wait.
import { describe, expect, test } from 'vitest';
import { writeMarkKey } from '../../lib/live/live-keys.ts';
import { createMemoryLiveStore } from '../../lib/live/memory.live.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import { createWriteMarker, lateBefore } from './write-marks.ts';

const QUARTER = 15 * 60_000;
const at = Date.parse('2026-12-01T12:07:30Z');
const row = (account: string, occurred: number) => ({
  org_id: 'org-1',
  account_id: account,
  occurred_at: occurred,
});
const marks = (live: LiveStore, account: string) =>
  live.counters([writeMarkKey('any', 'org-1', account), writeMarkKey('late', 'org-1', account)]);

describe('write marks', () => {
  test('late means before the quarter-hour a minute from now', () => {
    expect(lateBefore(at)).toBe(Date.parse('2026-12-01T12:00:00Z'));
    expect(lateBefore(Date.parse('2026-12-01T12:14:00Z'))).toBe(Date.parse('2026-12-01T12:15:00Z'));
    expect(lateBefore(Date.parse('2026-12-01T12:13:59.999Z'))).toBe(lateBefore(at));
  });

  test('each write bumps every account once, and late ones the late mark too', async () => {
    const live = createMemoryLiveStore();
    const marker = createWriteMarker({ live });
    const quarter = Math.floor(at / QUARTER) * QUARTER;
    await marker.mark([row('a', at), row('a', at - 1), row('b', at)], at);
    await marker.mark([row('a', quarter), row('b', quarter - 1)], at);
    expect(await marks(live, 'a')).toEqual([2, 0]);
    expect(await marks(live, 'b')).toEqual([2, 1]);
    await live.close();
  });

  test('bumps the live store refuses are sent once it answers again', async () => {
    const memory = createMemoryLiveStore();
    let down = true;
    const live: LiveStore = {
      ...memory,
      increment: (ops, ttl) =>
        down ? Promise.reject(new Error('live store down')) : memory.increment(ops, ttl),
    };
    const marker = createWriteMarker({ live });
    await marker.mark([row('a', at - QUARTER)], at);
    await marker.mark([row('a', at)], at);
    expect(await marks(memory, 'a')).toEqual([0, 0]);
    down = false;
    // Sent by the retry timer, or with the next write, whichever comes first.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await marks(memory, 'a')).toEqual([2, 1]);
    await marker.mark([row('a', at)], at);
    expect(await marks(memory, 'a')).toEqual([3, 1]);
    await memory.close();
  });
});
