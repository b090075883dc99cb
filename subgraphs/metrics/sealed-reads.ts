// Cached answers for the ranges dashboards ask again and again ("the last 30 days, up to now"),
// exact at every millisecond, without planning the router's statement each time (planning, not
// reading, is what that statement costs). A range [from, to) is cut at quarter-hours:
//   head [from, A): inside one quarter-hour; that quarter's raw rows, cached;
//   core [A, B): whole quarter-hours up to the current one; the router's answer, cached;
//   tail [B, to): the current quarter-hour (and later ones); raw rows, cached until any write.
// Sealed parts (head, core) stay valid while the sink's `late` write marks for their accounts are
// unchanged, the tail while its `any` marks are (ingest/pipeline/write-marks.ts). Counters add up
// across the cuts. Lifetime totals change by their level's moves, so the head and tail use each
// series' level at the quarter-hour before `from` and at B. Distinct users seen only at the ends
// are added where the core never saw them.
import type { LiveStore } from '../../lib/live/live.port.ts';
import { createWriteMarkedCache } from '../../lib/live/write-marked-cache.ts';
import type { Olap, OlapParams } from '../../lib/olap/olap.port.ts';
import { bucketStarts, floorBucket, nextBucket } from '../../lib/time/zoned-buckets.ts';
import { MAX_EVENT_LEAD_MS } from '../../lib/config.ts';
import { ENGAGEMENTS } from '../../schema/engagement.ts';
import type { MetricName, Platform } from '../../schema/event-envelope.ts';
import {
  groupSql,
  SCOPE_SQL,
  scopeParams,
  seriesSql,
  storedMetricsOf,
  type SeriesQuery,
  type SeriesRow,
} from './series.sql.ts';
import { readStoredValues, type StoredValues, type Value } from './stored-values.ts';

const QUARTER_MS = 15 * 60_000;
/** A cached part is dropped after this long even when no write touched it. */
const MAX_AGE_MS = 60 * 60_000;
/** Values and rows all cached parts may hold together (about 100 bytes each); oldest go first. */
const MAX_CACHED = 2_000_000;
/** A part bigger than this is used once and not kept. */
const MAX_PART = 200_000;
const [DELTA, TOTAL] = [1, 2];

export interface SealedReads {
  /** The stored answer from cached parts, or undefined when this range is not served so. */
  read(q: SeriesQuery): Promise<StoredValues | undefined>;
}

/** One observation of a raw event; events without observations come with metric ''. */
interface EdgeRow {
  metric: string;
  /** 1: a change, 2: a lifetime total (the enum's codes; 0 for no observation). */
  mode: number;
  value: number;
  t: number;
  account_id: string;
  post_id: string;
  user_id: string;
}

/** Per series (metric, account, post): its level at the head's quarter-hour and at B. */
type Levels = Map<string, { atHead: number; atB: number }>;

const floorQuarter = (ms: number) => Math.floor(ms / QUARTER_MS) * QUARTER_MS;
const ceilQuarter = (ms: number) => Math.ceil(ms / QUARTER_MS) * QUARTER_MS;
const rowCount = (rows: readonly unknown[]) => rows.length;
const seriesKey = (metric: string, account: string, post: string) =>
  `${metric}\u0000${account}\u0000${post}`;

/**
 * Where a range [from, to) read at `nowMs` is cut: the head quarter-hour starts at `head`, the core
 * is [coreFrom, coreTo), the tail [coreTo, tailEnd); undefined when no whole past quarter-hour lies
 * inside the range (nothing sealed to keep).
 */
export function sealedCuts(
  from: number,
  to: number,
  nowMs: number,
): { head: number; coreFrom: number; coreTo: number; tailEnd: number } | undefined {
  const head = floorQuarter(from);
  const coreFrom = head === from ? from : head + QUARTER_MS;
  const coreTo = floorQuarter(Math.min(to, nowMs));
  if (coreTo <= coreFrom) return undefined;
  // Events may carry times a little ahead of the clock, no more: the tail reads up to there.
  const tailEnd = Math.max(
    coreTo + QUARTER_MS,
    ceilQuarter(Math.min(to, nowMs + MAX_EVENT_LEAD_MS)),
  );
  return { head, coreFrom, coreTo, tailEnd };
}

export function createSealedReads(deps: {
  olap: Olap;
  live: LiveStore;
  now?: () => number;
}): SealedReads {
  const { olap, live, now = Date.now } = deps;
  const cache = createWriteMarkedCache({
    live,
    name: 'sealed-reads',
    maxHeld: MAX_CACHED,
    maxEntry: MAX_PART,
    maxAgeMs: MAX_AGE_MS,
    now,
  });
  const cached = cache.get.bind(cache);

  const edgeRows = (q: SeriesQuery, from: number, to: number) =>
    olap.query<EdgeRow>(
      `SELECT metric, CAST(mode, 'Int8') AS mode, value, toInt64(toUnixTimestamp64Milli(occurred_at)) AS t,
              account_id, post_id, user_id
       FROM events
       LEFT ARRAY JOIN metric_names AS metric, metric_modes AS mode, metric_values AS value
       WHERE ${SCOPE_SQL(q)}
         AND occurred_at >= fromUnixTimestamp64Milli({lo:Int64}, 'UTC')
         AND occurred_at < fromUnixTimestamp64Milli({hi:Int64}, 'UTC')
       ORDER BY t`,
      { ...scopeParams(q), lo: from, hi: to },
    );

  /** Each series' level just before `head` and at `to`, from the router over [head, to). */
  async function levelsOf(q: SeriesQuery, head: number, to: number): Promise<Levels> {
    const metrics = storedMetricsOf(q.metrics).filter((m) => m !== 'app_events');
    const levels: Levels = new Map();
    if (metrics.length === 0) return levels;
    // Month buckets in UTC: the fewest rollup rows; only the levels' moves are kept.
    const { sql, params } = seriesSql({
      ...q,
      metrics,
      from: head,
      to,
      granularity: 'month',
      timeZone: 'UTC',
      groupBy: 'series',
    });
    for (const row of await olap.query<SeriesRow>(sql, params)) {
      if (row.kind !== 'series' || row.at === -1) continue;
      const [account, post] = row.g.split('\u0000') as [string, string];
      const key = seriesKey(row.metric, account, post);
      const level = levels.get(key) ?? { atHead: 0, atB: 0 };
      if (row.at === -2) level.atHead += row.level;
      level.atB += row.level;
      levels.set(key, level);
    }
    return levels;
  }

  /** For users seen at the ends: whether the core saw them, and in its first or last bucket. */
  async function membership(
    q: SeriesQuery,
    users: string[],
    core: { from: number; to: number; firstEnd: number; lastStart: number },
  ): Promise<Map<string, { first: boolean; last: boolean }>> {
    const found = await olap.query<{ user_id: string; g: string; first: number; last: number }>(
      `SELECT user_id, ${groupSql(q.groupBy)} AS g,
              max(occurred_at < fromUnixTimestamp64Milli({first_end:Int64}, 'UTC')) AS first,
              max(occurred_at >= fromUnixTimestamp64Milli({last_start:Int64}, 'UTC')) AS last
       FROM events
       WHERE ${SCOPE_SQL(q)} AND has(metric_names, 'app_events') AND user_id IN {users:Array(String)}
         AND occurred_at >= fromUnixTimestamp64Milli({lo:Int64}, 'UTC')
         AND occurred_at < fromUnixTimestamp64Milli({hi:Int64}, 'UTC')
       GROUP BY user_id, g`,
      {
        ...scopeParams(q),
        users,
        lo: core.from,
        hi: core.to,
        first_end: core.firstEnd,
        last_start: core.lastStart,
      } satisfies OlapParams,
    );
    return new Map(
      found.map((r) => [`${r.g}\u0000${r.user_id}`, { first: r.first > 0, last: r.last > 0 }]),
    );
  }

  return {
    async read(q) {
      const cuts = sealedCuts(q.from, q.to, now());
      if (!cuts) return undefined;
      const { head, coreFrom, coreTo, tailEnd } = cuts;
      const marks = await cache.marks(q.orgId, q.accountIds);
      if (!marks) return undefined;

      const stored = storedMetricsOf(q.metrics);
      const scope = JSON.stringify([q.orgId, q.accountIds, q.postId ?? null, stored]);
      const coreKey = JSON.stringify([
        'core',
        scope,
        q.metrics,
        q.granularity,
        q.timeZone,
        q.groupBy,
        q.accountIds.map((a) => q.platforms?.get(a) ?? ''),
        head,
        coreFrom,
        coreTo,
      ]);
      const headKey = JSON.stringify(['head', scope, head]);
      const tailKey = JSON.stringify(['tail', scope, coreTo, tailEnd]);
      const missing =
        !cache.holds(coreKey, marks.late) ||
        (head < q.from && !cache.holds(headKey, marks.late)) ||
        (q.to > coreTo && !cache.holds(tailKey, marks.any));
      if (missing && !(await cache.keep(q.orgId, q.accountIds))) return undefined;
      const [core, headRows, tailRows] = await Promise.all([
        cached(
          coreKey,
          marks.late,
          () => readStoredValues(olap, { ...q, from: coreFrom, to: coreTo }),
          (core) => core.values.length,
        ),
        head < q.from
          ? cached(headKey, marks.late, () => edgeRows(q, head, coreFrom), rowCount)
          : [],
        q.to > coreTo
          ? cached(tailKey, marks.any, () => edgeRows(q, coreTo, tailEnd), rowCount)
          : [],
      ]);

      const buckets = bucketStarts(q.from, q.to, q.granularity, q.timeZone);
      const bucketOf = (t: number) => {
        let lo = 0;
        let hi = buckets.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (buckets[mid]! <= t) lo = mid;
          else hi = mid - 1;
        }
        return buckets[lo]!;
      };
      const wanted = new Set<string>(q.metrics);
      const wantsUsers = wanted.has('unique_users');
      const engaged = (metric: string, account: string) => {
        if (!wanted.has('engagements')) return false;
        const platform = q.platforms?.get(account) as Platform | undefined;
        return platform !== undefined && ENGAGEMENTS[platform].includes(metric as MetricName);
      };
      const groupOf = (row: EdgeRow) =>
        q.groupBy === 'account'
          ? row.account_id
          : q.groupBy === 'platform'
            ? (q.platforms?.get(row.account_id) ?? '')
            : q.groupBy === 'post'
              ? row.post_id
              : q.groupBy === 'series'
                ? `${row.account_id}\u0000${row.post_id}`
                : '';

      const values: Value[] = [...core.values];
      const add = (row: EdgeRow, at: number, value: number) => {
        const g = groupOf(row);
        if (wanted.has(row.metric)) values.push({ metric: row.metric, g, at, value });
        if (engaged(row.metric, row.account_id)) {
          values.push({ metric: 'engagements', g, at, value });
        }
      };
      // Each series' level moves within an end; `before` holds its level as the end begins.
      const levelMoves = (
        rows: readonly EdgeRow[],
        before: (row: EdgeRow) => number,
        onMove: (row: EdgeRow, change: number) => void,
      ) => {
        const level = new Map<string, number>();
        for (const row of rows) {
          if (row.mode !== TOTAL || row.metric === '') continue;
          const key = seriesKey(row.metric, row.account_id, row.post_id);
          const last = level.get(key) ?? before(row);
          if (row.value !== last) onMove(row, row.value - last);
          level.set(key, row.value);
        }
      };
      // Head: the rows of its quarter-hour before `from` set where each level stands at `from`.
      const headBefore = headRows.filter((r) => r.t < q.from);
      const headIn = headRows.filter((r) => r.t >= q.from);
      const tailIn = tailRows.filter((r) => r.t < q.to);
      // Series levels are a second router statement: read (and kept) only when an end moves one.
      const movesLevels = [...headIn, ...tailIn].some((r) => r.mode === TOTAL && r.metric !== '');
      const levels = movesLevels
        ? await cached(
            JSON.stringify(['levels', scope, head, coreTo]),
            marks.late,
            () => levelsOf(q, head, coreTo),
            (found) => found.size,
          )
        : (new Map() as Levels);
      const levelAt = (row: EdgeRow, when: 'atHead' | 'atB') =>
        levels.get(seriesKey(row.metric, row.account_id, row.post_id))?.[when] ?? 0;
      const atFrom = new Map<string, number>();
      for (const row of headBefore) {
        if (row.mode === TOTAL && row.metric !== '') {
          atFrom.set(seriesKey(row.metric, row.account_id, row.post_id), row.value);
        }
      }
      const first = buckets[0]!;
      levelMoves(
        headIn,
        (row) =>
          atFrom.get(seriesKey(row.metric, row.account_id, row.post_id)) ?? levelAt(row, 'atHead'),
        (row, change) => {
          // The core starts from the level at A; the range starts from the level at `from`.
          add(row, first, change);
          add(row, -2, -change);
        },
      );
      levelMoves(
        tailIn,
        (row) => levelAt(row, 'atB'),
        (row, change) => add(row, bucketOf(row.t), change),
      );
      for (const row of [...headIn, ...tailIn]) {
        if (row.mode === DELTA && row.metric !== '') add(row, bucketOf(row.t), row.value);
      }

      if (wantsUsers) {
        // Users at the ends, per group: the buckets each was seen in.
        const seen = new Map<string, Map<string, Set<number>>>();
        for (const row of [...headIn, ...tailIn]) {
          if (row.metric !== 'app_events' || row.user_id === '') continue;
          const g = groupOf(row);
          let users = seen.get(g);
          if (!users) seen.set(g, (users = new Map<string, Set<number>>()));
          let at = users.get(row.user_id);
          if (!at) users.set(row.user_id, (at = new Set()));
          at.add(bucketOf(row.t));
        }
        if (seen.size > 0) {
          // Every user of the head's quarter-hour and the tail, so `from` moving keeps the key.
          const candidates = [
            ...new Set(
              [...headRows, ...tailRows]
                .filter((r) => r.metric === 'app_events' && r.user_id !== '')
                .map((r) => r.user_id),
            ),
          ].sort();
          const coreFirst = floorBucket(coreFrom, q.granularity, q.timeZone);
          const coreLast = floorBucket(coreTo - 1, q.granularity, q.timeZone);
          const inCore = await cached(
            JSON.stringify(['users', coreKey, candidates]),
            marks.late,
            () =>
              membership(q, candidates, {
                from: coreFrom,
                to: coreTo,
                firstEnd: nextBucket(coreFirst, q.granularity, q.timeZone),
                lastStart: coreLast,
              }),
            (found) => found.size,
          );
          for (const [g, users] of seen) {
            let fresh = 0;
            const freshIn = new Map<number, number>();
            for (const [user, at] of users) {
              const found = inCore.get(`${g}\u0000${user}`);
              if (!found) fresh++;
              for (const bucket of at) {
                const known =
                  (bucket === coreFirst && found?.first) || (bucket === coreLast && found?.last);
                if (!known) freshIn.set(bucket, (freshIn.get(bucket) ?? 0) + 1);
              }
            }
            values.push({ metric: 'unique_users', g, at: -1, value: fresh });
            for (const [at, value] of freshIn) {
              values.push({ metric: 'unique_users', g, at, value });
            }
          }
        }
      }

      const newestEventAt = tailIn.at(-1)?.t ?? core.newestEventAt ?? headIn.at(-1)?.t ?? null;
      return { values, newestEventAt };
    },
  };
}
