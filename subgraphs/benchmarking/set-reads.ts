// A competitor set's mentions and posts, kept between queries while the stored events they come
// from are unchanged (lib/live/write-marked-cache.ts), so a dashboard asking for "the last 90 days,
// up to now" again plans no statement. Mentions are cut as sealed reads cut a range
// (subgraphs/metrics/sealed-reads.ts): the head quarter-hour and the core of whole quarter-hours
// are kept under the `late` marks, the open tail under the `any` marks. Posts and their lifetime
// counters change with any write, so they are kept under the `any` marks, read for whole
// quarter-hours around the range and trimmed to it here.
import type { LiveStore } from '../../lib/live/live.port.ts';
import { createWriteMarkedCache } from '../../lib/live/write-marked-cache.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { sealedCuts } from '../metrics/sealed-reads.ts';
import {
  readMentionQuarters,
  readMentionTimes,
  readSetPosts,
  type MentionAt,
  type SetPost,
} from './set-reads.sql.ts';

const QUARTER_MS = 15 * 60_000;
/** A kept answer is dropped after this long even when no write touched it. */
const MAX_AGE_MS = 60 * 60_000;
/** Rows all kept answers may hold together; the oldest go first. */
const MAX_HELD = 1_000_000;
/** An answer bigger than this is used once and not kept. */
const MAX_ENTRY = 200_000;

export interface SetScope {
  orgId: string;
  accountIds: readonly string[];
  from: number;
  to: number;
}

export interface SetReads {
  /**
   * Mentions of each account in [from, to), per bucket index of `bucketStarts`. Every zone offset
   * is a whole number of quarter-hours, so a quarter-hour lies in one bucket.
   */
  mentions(q: SetScope, bucketStarts: readonly number[]): Promise<Map<string, number[]>>;
  /** Every post the accounts published in [from, to), with its lifetime counters. */
  posts(q: SetScope): Promise<SetPost[]>;
}

const rowCount = (rows: readonly unknown[]) => rows.length;
const floorQuarter = (ms: number) => Math.floor(ms / QUARTER_MS) * QUARTER_MS;
const ceilQuarter = (ms: number) => Math.ceil(ms / QUARTER_MS) * QUARTER_MS;

/** The index of the bucket `t` falls in: the last start at or before it; -1 before the first. */
function bucketIndex(starts: readonly number[], t: number): number {
  let lo = -1;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function createSetReads(deps: {
  olap: Olap;
  live: LiveStore;
  now?: () => number;
}): SetReads {
  const { olap, now = Date.now } = deps;
  const cache = createWriteMarkedCache({
    live: deps.live,
    name: 'benchmark-sets',
    maxHeld: MAX_HELD,
    maxEntry: MAX_ENTRY,
    maxAgeMs: MAX_AGE_MS,
    now,
  });

  return {
    async mentions(q, bucketStarts) {
      const scope = { orgId: q.orgId, accountIds: q.accountIds };
      const counts = new Map<string, number[]>();
      const add = (account: string, t: number, n: number) => {
        if (t < q.from || t >= q.to) return;
        const i = bucketIndex(bucketStarts, t);
        if (i < 0) return;
        let list = counts.get(account);
        if (!list) counts.set(account, (list = new Array<number>(bucketStarts.length).fill(0)));
        list[i]! += n;
      };
      const addTimes = (rows: readonly MentionAt[]) => {
        for (const r of rows) add(r.account_id, Number(r.t), 1);
      };

      // Nothing sealed to keep, or no marks to trust: the ends from the events, the rest whole.
      const direct = async () => {
        const lo = ceilQuarter(q.from);
        const hi = Math.max(lo, floorQuarter(q.to));
        const [quarters, ends] = await Promise.all([
          lo < hi ? readMentionQuarters(olap, { ...scope, from: lo, to: hi }) : [],
          lo < hi
            ? Promise.all([
                readMentionTimes(olap, { ...scope, from: q.from, to: lo }),
                readMentionTimes(olap, { ...scope, from: hi, to: q.to }),
              ]).then((both) => both.flat())
            : readMentionTimes(olap, { ...scope, from: q.from, to: q.to }),
        ]);
        for (const r of quarters) add(r.account_id, Number(r.q), Number(r.n));
        addTimes(ends);
        return counts;
      };

      const cuts = sealedCuts(q.from, q.to, now());
      const marks = cuts && (await cache.marks(q.orgId, q.accountIds));
      if (!cuts || !marks) return direct();
      const { head, coreFrom, coreTo, tailEnd } = cuts;
      const key = (part: string, ...bounds: number[]) =>
        JSON.stringify(['mentions', part, q.orgId, q.accountIds, ...bounds]);
      const headKey = key('head', head);
      const coreKey = key('core', coreFrom, coreTo);
      const tailKey = key('tail', coreTo, tailEnd);
      const missing =
        !cache.holds(coreKey, marks.late) ||
        (head < q.from && !cache.holds(headKey, marks.late)) ||
        (q.to > coreTo && !cache.holds(tailKey, marks.any));
      if (missing && !(await cache.keep(q.orgId, q.accountIds))) return direct();
      const [headRows, quarters, tailRows] = await Promise.all([
        head < q.from
          ? cache.get(
              headKey,
              marks.late,
              () => readMentionTimes(olap, { ...scope, from: head, to: coreFrom }),
              rowCount,
            )
          : [],
        cache.get(
          coreKey,
          marks.late,
          () => readMentionQuarters(olap, { ...scope, from: coreFrom, to: coreTo }),
          rowCount,
        ),
        q.to > coreTo
          ? cache.get(
              tailKey,
              marks.any,
              () => readMentionTimes(olap, { ...scope, from: coreTo, to: tailEnd }),
              rowCount,
            )
          : [],
      ]);
      addTimes(headRows);
      for (const r of quarters) add(r.account_id, Number(r.q), Number(r.n));
      addTimes(tailRows);
      return counts;
    },

    async posts(q) {
      // Whole quarter-hours around the range, so the key holds while `from` and `to` move on.
      const wide = { ...q, from: floorQuarter(q.from), to: ceilQuarter(q.to) };
      const inRange = (posts: readonly SetPost[]) =>
        posts.filter((p) => p.publishedMs >= q.from && p.publishedMs < q.to);
      const marks = await cache.marks(q.orgId, q.accountIds);
      const key = JSON.stringify(['posts', q.orgId, q.accountIds, wide.from, wide.to]);
      if (!marks || (!cache.holds(key, marks.any) && !(await cache.keep(q.orgId, q.accountIds)))) {
        return readSetPosts(olap, q);
      }
      return inRange(await cache.get(key, marks.any, () => readSetPosts(olap, wide), rowCount));
    },
  };
}
