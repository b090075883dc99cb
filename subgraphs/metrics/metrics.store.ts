// Reads metric series: rollups from the OLAP store, plus the live tail the sink has not written
// yet. Deltas add up per bucket; lifetime totals become the change of their level between
// consecutive buckets, starting from the level before the range, so re-observed or late totals
// never count twice.
import { counterKey, hourOf, HOUR_MS } from '../../lib/live/live-keys.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import type { MetricName } from '../../schema/event-envelope.ts';
import { bucketStarts, ceilBucket, floorBucket, type Granularity } from './buckets.ts';

export interface MetricsRequest {
  orgId: string;
  accountId: string;
  /** Restricts to one post; the account's own and all its posts' metrics otherwise. */
  postId?: string;
  from: number;
  to: number;
  granularity: Granularity;
  metrics: readonly MetricName[];
}

export interface MetricSeries {
  metric: MetricName;
  total: number;
  points: { at: number; value: number }[];
}

export interface MetricsAnswer {
  series: MetricSeries[];
  /**
   * True when the live store answered for the range's latest hours, so counts the rollups do not
   * hold yet are included; false when the answer comes from the rollups alone (a range before
   * the live tail, or the live store unreachable).
   */
  live: boolean;
}

const TABLE: Record<Granularity, string> = {
  hour: 'metrics_hourly',
  day: 'metrics_daily',
  month: 'metrics_monthly',
};

/** Hours before now in which the live store may hold changes the sink has not written yet. */
const LIVE_TAIL_HOURS = 2;

/** `at` = -1 marks the distinct-users total over the whole range. */
interface Row {
  metric: MetricName;
  at: number;
  value: number;
}

export interface MetricsStore {
  read(request: MetricsRequest): Promise<MetricsAnswer>;
}

export function createMetricsStore(deps: {
  olap: Olap;
  live?: LiveStore;
  /** Told once when the live store stops answering and once when it answers again. */
  logger?: Logger;
  now?: () => number;
}): MetricsStore {
  const { olap, live, logger, now = Date.now } = deps;

  // The rollups answer alone while the live store is down: reported once per outage, not per read.
  let liveDown = false;
  async function liveCounters(store: LiveStore, keys: readonly string[]) {
    try {
      const counters = await store.counters(keys);
      if (liveDown) {
        liveDown = false;
        logger?.info('metrics: live store answers again; live tail merged again');
      }
      return counters;
    } catch (error) {
      if (!liveDown) {
        liveDown = true;
        if (logger) {
          logger.warn({ err: error }, 'metrics: live store unreachable; answering from rollups');
        } else {
          process.emitWarning(
            `metrics: live store unreachable; answering from rollups: ${String(error)}`,
          );
        }
      }
      return undefined;
    }
  }

  async function rollupRows(request: MetricsRequest, from: number, to: number): Promise<Row[]> {
    const additive = request.metrics.filter((m) => m !== 'unique_users');
    const wantsUsers = request.metrics.includes('unique_users');
    const t = TABLE[request.granularity];
    const scope = `org_id = {org:String} AND account_id = {account:String}${
      request.postId === undefined ? '' : ' AND post_id = {post:String}'
    }`;
    const inRange =
      "bucket >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND bucket < fromUnixTimestamp64Milli({to:Int64}, 'UTC')";
    // A subquery, because the outer `'unique_users' AS metric` alias would shadow the column.
    const appUsers = `SELECT bucket, users FROM ${t}
      WHERE ${scope} AND metric = 'app_events' AND ${inRange}`;
    const parts: string[] = [];
    if (additive.length > 0) {
      parts.push(`
        SELECT metric, bucket, toFloat64(sum(delta_sum)) AS value
        FROM ${t} WHERE ${scope} AND metric IN {metrics:Array(String)} AND ${inRange}
        GROUP BY metric, bucket HAVING value != 0`);
      // Level changes per series; the first bucket's change is measured from the level before.
      parts.push(`
        SELECT metric, bucket, toFloat64(if(n = 1, lvl - base, lvl - prev)) AS value
        FROM (
          SELECT metric, bucket, lvl, base,
                 lagInFrame(lvl) OVER w AS prev, row_number() OVER w AS n
          FROM (
            SELECT metric, post_id, bucket, argMaxMerge(level) AS lvl
            FROM ${t} WHERE ${scope} AND metric IN {metrics:Array(String)} AND ${inRange}
            GROUP BY metric, post_id, bucket HAVING sum(level_count) > 0
          ) AS levels
          LEFT JOIN (${baselineSql(scope)}) AS before USING (metric, post_id)
          WINDOW w AS (PARTITION BY metric, post_id ORDER BY bucket
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        )`);
    }
    if (wantsUsers) {
      parts.push(`
        SELECT 'unique_users' AS metric, bucket, toFloat64(uniqCombined64Merge(users)) AS value
        FROM (${appUsers}) GROUP BY bucket`);
    }
    const totalsOfUsers = wantsUsers
      ? `UNION ALL
         SELECT 'unique_users' AS metric, -1 AS at, toFloat64(uniqCombined64Merge(users)) AS value
         FROM (${appUsers})`
      : '';
    const sql = `
      SELECT metric, toInt64(toUnixTimestamp(bucket)) * 1000 AS at, sum(value) AS value
      FROM (${parts.join('\nUNION ALL\n')})
      GROUP BY metric, bucket
      ${totalsOfUsers}`;
    return olap.query<Row>(sql, {
      org: request.orgId,
      account: request.accountId,
      post: request.postId ?? '',
      metrics: additive,
      from,
      to,
    });
  }

  /**
   * Live counters minus what the hourly rollup already holds, per metric and hour (never < 0);
   * `live` says whether the live store answered for the tail hours at all.
   */
  async function liveTail(
    request: MetricsRequest,
    from: number,
    to: number,
  ): Promise<{ extra: Map<string, number>; live: boolean }> {
    const extra = new Map<string, number>();
    const nowMs = now();
    const tailFrom = Math.max(from, hourOf(nowMs) - (LIVE_TAIL_HOURS - 1) * HOUR_MS);
    const tailTo = Math.min(to, hourOf(nowMs) + HOUR_MS);
    const metrics = request.metrics.filter((m) => m !== 'unique_users');
    if (!live || tailFrom >= tailTo || metrics.length === 0) return { extra, live: false };

    const hours = bucketStarts(tailFrom, tailTo, 'hour');
    const keys = metrics.flatMap((m) =>
      hours.map((h) => counterKey(request.orgId, request.accountId, request.postId ?? '', m, h)),
    );
    const counters = await liveCounters(live, keys);
    if (!counters) return { extra, live: false };
    // Nothing counted live in the tail hours: nothing to add, and no second rollup query.
    if (counters.every((c) => c <= 0)) return { extra, live: true };
    const stored = await rollupRows({ ...request, granularity: 'hour', metrics }, tailFrom, tailTo);
    const storedAt = new Map(stored.map((r) => [`${r.metric}|${r.at}`, r.value]));
    metrics.forEach((metric, mi) => {
      hours.forEach((hour, hi) => {
        const counter = counters[mi * hours.length + hi] ?? 0;
        const missing = counter - (storedAt.get(`${metric}|${hour}`) ?? 0);
        if (missing > 0) extra.set(`${metric}|${hour}`, missing);
      });
    });
    return { extra, live: true };
  }

  return {
    async read(request) {
      const from = floorBucket(request.from, request.granularity);
      const to = ceilBucket(request.to, request.granularity);
      const [rows, tail] = await Promise.all([
        rollupRows(request, from, to),
        liveTail(request, from, to),
      ]);

      const values = new Map<string, number>();
      const userTotal = { value: 0 };
      for (const row of rows) {
        if (row.at === -1) userTotal.value = row.value;
        else values.set(`${row.metric}|${row.at}`, row.value);
      }
      for (const [key, missing] of tail.extra) {
        const [metric, hour] = key.split('|');
        const bucket = floorBucket(Number(hour), request.granularity);
        const slot = `${metric}|${bucket}`;
        values.set(slot, (values.get(slot) ?? 0) + missing);
      }

      const starts = bucketStarts(from, to, request.granularity);
      const series = request.metrics.map((metric): MetricSeries => {
        const points = starts.map((at) => ({ at, value: values.get(`${metric}|${at}`) ?? 0 }));
        const total =
          metric === 'unique_users' ? userTotal.value : points.reduce((sum, p) => sum + p.value, 0);
        return { metric, total, points };
      });
      return { series, live: tail.live };
    },
  };
}

/**
 * The level of each series just before the range: month rollups for whole months before it,
 * then day and hour rollups for the part of its first month and day before `from`.
 */
function baselineSql(scope: string): string {
  const from = "fromUnixTimestamp64Milli({from:Int64}, 'UTC')";
  const layer = (table: string, lower: string | null, upper: string) => `
    SELECT metric, post_id, level, level_count FROM ${table}
    WHERE ${scope} AND metric IN {metrics:Array(String)}
      ${lower === null ? '' : `AND bucket >= ${lower}`} AND bucket < ${upper}`;
  return `
    SELECT metric, post_id, argMaxMerge(level) AS base FROM (
      ${layer('metrics_monthly', null, `toStartOfMonth(${from})`)}
      UNION ALL
      ${layer('metrics_daily', `toStartOfMonth(${from})`, `toStartOfDay(${from})`)}
      UNION ALL
      ${layer('metrics_hourly', `toStartOfDay(${from})`, from)}
    )
    GROUP BY metric, post_id HAVING sum(level_count) > 0`;
}
