// Tells readers that stored events changed: after each OLAP insert the sink bumps two counters
// per account in the live store (lib/live/live-keys.ts `writeMarkKey`). A cached answer over a
// sealed range stays valid while the `late` counters it was computed under are unchanged; its
// fresh tail, while the `any` counters are. Bumps that fail (live store down) are kept and sent
// again, so the sink never waits on the live store and no write goes unmarked once it is back.
import type { Increment, LiveStore } from '../../lib/live/live.port.ts';
import { WRITE_MARK_TTL_SECONDS, writeMarkKey } from '../../lib/live/live-keys.ts';
import type { Logger } from '../../lib/logger.ts';

const QUARTER_MS = 15 * 60_000;
/** Events this close to the next quarter-hour count as late, so clocks apart by less agree. */
const CLOCK_MARGIN_MS = 60_000;
const RETRY_MS = 1_000;

export interface WrittenRow {
  org_id: string;
  account_id: string;
  /** Event time, ms. */
  occurred_at: number;
}

export interface WriteMarker {
  /** Marks rows of an insert that finished at `writtenAt`; never throws. */
  mark(rows: readonly WrittenRow[], writtenAt: number): Promise<void>;
}

/**
 * Events before this instant are late for an insert finished at `writtenAt`: a reader that may not
 * have seen the insert can only have sealed ranges ending at a quarter-hour up to its clock.
 */
export function lateBefore(writtenAt: number): number {
  return Math.floor((writtenAt + CLOCK_MARGIN_MS) / QUARTER_MS) * QUARTER_MS;
}

export function createWriteMarker(deps: { live: LiveStore; logger?: Logger }): WriteMarker {
  const { live, logger } = deps;
  const pending = new Map<string, number>();
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();

  const send = async (): Promise<void> => {
    if (pending.size === 0) return;
    const ops: Increment[] = [...pending].map(([key, by]) => ({ key, by }));
    pending.clear();
    try {
      await live.increment(ops, WRITE_MARK_TTL_SECONDS);
      if (failing) {
        failing = false;
        logger?.info('olap-sink: write marks reach the live store again');
      }
    } catch (error) {
      for (const { key, by } of ops) pending.set(key, (pending.get(key) ?? 0) + by);
      if (!failing) {
        failing = true;
        logger?.warn(
          { err: error },
          'olap-sink: live store unreachable; write marks kept and sent again once it answers',
        );
      }
      timer ??= setTimeout(() => {
        timer = undefined;
        void flush();
      }, RETRY_MS).unref();
    }
  };
  // One send at a time, so retried bumps and new ones never race.
  const flush = () => (sending = sending.then(send));

  return {
    mark(rows, writtenAt) {
      const late = lateBefore(writtenAt);
      const seen = new Set<string>();
      for (const row of rows) {
        const any = writeMarkKey('any', row.org_id, row.account_id);
        if (!seen.has(any)) {
          seen.add(any);
          pending.set(any, (pending.get(any) ?? 0) + 1);
        }
        if (row.occurred_at < late) {
          const key = writeMarkKey('late', row.org_id, row.account_id);
          if (!seen.has(key)) {
            seen.add(key);
            pending.set(key, (pending.get(key) ?? 0) + 1);
          }
        }
      }
      return flush();
    },
  };
}
