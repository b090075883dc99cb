// A limit over a sliding window, kept in the live store so every gateway replica shares it (Redis
// in server mode): what was taken in the current window, plus the previous window's share that
// still overlaps the last `windowMs` (the sliding-window counter). Check and take are two calls,
// so replicas racing may pass the limit by what each takes at once; a live store that does not
// answer lets requests through, with a warning, rather than refusing every caller.
import { demandKey } from '../lib/live/live-keys.ts';
import type { LiveStore } from '../lib/live/live.port.ts';
import type { Logger } from '../lib/logger.ts';

export type Take =
  { ok: true; remaining: number } | { ok: false; remaining: number; retryAfterSeconds: number };

export interface SlidingWindow {
  readonly limit: number;
  readonly windowSeconds: number;
  /** Takes `amount` for `id` when it fits under the limit; says what remains either way. */
  take(id: string, amount: number): Promise<Take>;
}

export function createSlidingWindow(options: {
  live: LiveStore;
  name: string;
  limit: number;
  windowMs?: number;
  logger?: Logger;
  now?: () => number;
}): SlidingWindow {
  const { live, name, limit, windowMs = 60_000, logger, now = Date.now } = options;
  const ttlSeconds = Math.ceil((2 * windowMs) / 1000);
  return {
    limit,
    windowSeconds: windowMs / 1000,
    async take(id, amount) {
      const at = now();
      const start = Math.floor(at / windowMs) * windowMs;
      const current = demandKey(name, id, start);
      const previous = demandKey(name, id, start - windowMs);
      let used: number;
      let earlier: number;
      const overlap = 1 - (at - start) / windowMs;
      try {
        const [cur, prev] = await live.counters([current, previous]);
        earlier = prev! * overlap;
        used = cur! + earlier;
      } catch (error) {
        logger?.warn({ err: error, limit: name }, 'live store unreachable: limit not applied');
        return { ok: true, remaining: limit };
      }
      if (used + amount > limit) {
        return {
          ok: false,
          remaining: Math.max(0, Math.floor(limit - used)),
          retryAfterSeconds: retryAfter(used + amount - limit, earlier, at - start, windowMs),
        };
      }
      try {
        await live.increment([{ key: current, by: amount }], ttlSeconds);
      } catch (error) {
        logger?.warn({ err: error, limit: name }, 'live store unreachable: limit not applied');
      }
      return { ok: true, remaining: Math.max(0, Math.floor(limit - used - amount)) };
    },
  };
}

/**
 * Seconds until `excess` of what was taken has slid out of the window: the previous window's
 * share leaves at an even pace until the window turns; past that, the current one's starts to.
 */
function retryAfter(excess: number, earlier: number, elapsed: number, windowMs: number): number {
  const rest = windowMs - elapsed;
  if (earlier > 0 && earlier >= excess)
    return Math.max(1, Math.ceil(((excess / earlier) * rest) / 1000));
  return Math.max(1, Math.ceil(rest / 1000));
}
