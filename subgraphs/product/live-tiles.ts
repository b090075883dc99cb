// Live product tiles, read from the speed layer's sketches in the live store: an app's events
// and users per 5-second window, active users merged over 1, 5 and 30 minutes, and a funnel's
// first and last step over the last hour (by minute). A subscription sends a tile at once, then
// on each batch of the app's events (the speed layer's tick) and every 5 seconds.
import {
  APP_MINUTE_MS,
  APP_WINDOW_MS,
  appEventUsersKey,
  appWindowKey,
} from '../../lib/live/live-keys.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import { subscribeTicks } from '../metrics/tick-stream.ts';

export interface LiveFunnel {
  firstStep: string;
  lastStep: string;
}

export interface LiveTile {
  appId: string;
  at: number;
  windows: { start: number; events: number; users: number }[];
  activeUsers: { lastMinute: number; last5Minutes: number; last30Minutes: number };
  conversion: {
    firstStep: string;
    lastStep: string;
    firstStepUsers: number;
    lastStepUsers: number;
    converted: number;
    rate: number | null;
  } | null;
}

/** Starts of the `count` periods of `size` ms ending with the one holding `now`, oldest first. */
function periods(now: number, size: number, count: number): number[] {
  const current = Math.floor(now / size) * size;
  return Array.from({ length: count }, (_, i) => current - (count - 1 - i) * size);
}

export async function readLiveTile(
  live: LiveStore,
  orgId: string,
  appId: string,
  funnel: LiveFunnel | null,
  now = Date.now(),
): Promise<LiveTile> {
  const minute = periods(now, APP_WINDOW_MS, 12);
  const windows = periods(now, APP_WINDOW_MS, 360);
  const users = (starts: readonly number[]) =>
    live.countUnique(starts.map((w) => appWindowKey('users', orgId, appId, w)));
  const stepUsers = (event: string) =>
    periods(now, APP_MINUTE_MS, 60).map((m) => appEventUsersKey(orgId, appId, event, m));
  const [events, perWindow, lastMinute, last5Minutes, last30Minutes, conversion] =
    await Promise.all([
      live.counters(minute.map((w) => appWindowKey('events', orgId, appId, w))),
      Promise.all(minute.map((w) => users([w]))),
      users(minute),
      users(windows.slice(-60)),
      users(windows),
      funnel
        ? Promise.all([
            live.countUnique(stepUsers(funnel.firstStep)),
            live.countUnique(stepUsers(funnel.lastStep)),
            live.countUnique([...stepUsers(funnel.firstStep), ...stepUsers(funnel.lastStep)]),
          ])
        : null,
    ]);
  return {
    appId,
    at: now,
    windows: minute.map((start, i) => ({ start, events: events[i] ?? 0, users: perWindow[i]! })),
    activeUsers: { lastMinute, last5Minutes, last30Minutes },
    conversion:
      funnel && conversion
        ? (() => {
            const [first, last, either] = conversion;
            // Inclusion–exclusion over two estimates: kept within what both allow.
            const both = Math.max(0, Math.min(first, last, first + last - either));
            return {
              ...funnel,
              firstStepUsers: first,
              lastStepUsers: last,
              converted: both,
              rate: first > 0 ? both / first : null,
            };
          })()
        : null,
  };
}

const sleep = (ms: number) => new Promise<null>((resolve) => setTimeout(() => resolve(null), ms));

/**
 * Tiles for a subscription. Closing waits at most for the 5-second timer in flight: the ticks'
 * subscription is released as the generator finishes.
 */
export async function* liveTiles(
  live: LiveStore,
  orgId: string,
  appId: string,
  funnel: LiveFunnel | null,
): AsyncGenerator<LiveTile> {
  const ticks = await subscribeTicks(live, orgId, new Set([appId]));
  try {
    yield await readLiveTile(live, orgId, appId, funnel);
    let pending = ticks.next();
    for (;;) {
      const tick = await Promise.race([pending, sleep(APP_WINDOW_MS)]);
      if (tick?.done) return;
      if (tick) pending = ticks.next();
      yield await readLiveTile(live, orgId, appId, funnel);
    }
  } finally {
    await ticks.return?.();
  }
}
