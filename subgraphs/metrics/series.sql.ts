// The query router of the metrics subgraph, as one ClickHouse statement. A range [from, to) at
// any instant, bucketed in any time zone, is read from the coarsest source that fits each part:
// a UTC month, day, hour or quarter-hour rollup row is used when it lies inside the range and
// inside one local bucket, and its parent (the next coarser row) does not; raw events fill what
// no quarter-hour covers (the range's unaligned ends). Every instant is counted by exactly one
// source, because a row that fits makes every finer row inside it fit too.
import type { MetricName } from '../../schema/event-envelope.ts';
import type { Granularity } from '../../lib/time/zoned-buckets.ts';
import type { OlapParams } from '../../lib/olap/olap.port.ts';

export type GroupBy = 'none' | 'account' | 'post' | 'platform';

export interface SeriesQuery {
  orgId: string;
  accountIds: readonly string[];
  /** Restricts to one post; the accounts' own and all their posts' metrics otherwise. */
  postId?: string;
  from: number;
  to: number;
  granularity: Granularity;
  timeZone: string;
  metrics: readonly MetricName[];
  groupBy: GroupBy;
  /** Platform of each account, for `groupBy: 'platform'`. */
  platforms?: ReadonlyMap<string, string>;
}

/**
 * One row per metric, group and bucket (`at`, ms). `kind` is `delta` (sum of changes), `level`
 * (change of lifetime totals), `users` (distinct app users; `at` = -1 is the whole range) or
 * `newest` (one row: the newest event time in the range as `at`, the events there as `value`).
 */
export interface SeriesRow {
  kind: 'delta' | 'level' | 'users' | 'newest';
  metric: string;
  g: string;
  at: number;
  value: number;
}

const F = "fromUnixTimestamp64Milli({from:Int64}, 'UTC')";
const T = "fromUnixTimestamp64Milli({to:Int64}, 'UTC')";

/** The start of the local bucket holding `x`, in the query's zone. */
function bucketOf(g: Granularity, x: string): string {
  const tz = '{tz:String}';
  switch (g) {
    case 'hour':
      return `toStartOfHour(${x}, ${tz})`;
    case 'day':
      return `toStartOfDay(${x}, ${tz})`;
    case 'week':
      return `toDateTime(toStartOfWeek(${x}, 1, ${tz}), ${tz})`;
    case 'month':
      return `toDateTime(toStartOfMonth(${x}, ${tz}), ${tz})`;
  }
}

/** A UTC source grain: its rollup table, the end of a row starting at `b`, and its parent. */
interface Grain {
  table: string;
  end: (b: string) => string;
  parent?: { start: (b: string) => string; end: (b: string) => string };
}

const MONTH: Grain = { table: 'metrics_monthly', end: (b) => `addMonths(${b}, 1)` };
const DAY: Grain = {
  table: 'metrics_daily',
  end: (b) => `(${b} + INTERVAL 1 DAY)`,
  parent: {
    start: (b) => `toDateTime(toStartOfMonth(${b}), 'UTC')`,
    end: (b) => `addMonths(toDateTime(toStartOfMonth(${b}), 'UTC'), 1)`,
  },
};
const HOUR: Grain = {
  table: 'metrics_hourly',
  end: (b) => `(${b} + INTERVAL 1 HOUR)`,
  parent: {
    start: (b) => `toStartOfDay(${b})`,
    end: (b) => `(toStartOfDay(${b}) + INTERVAL 1 DAY)`,
  },
};
const QUARTER: Grain = {
  table: 'metrics_quarter_hourly',
  end: (b) => `(${b} + INTERVAL 15 MINUTE)`,
  parent: {
    start: (b) => `toStartOfHour(${b})`,
    end: (b) => `(toStartOfHour(${b}) + INTERVAL 1 HOUR)`,
  },
};
const GRAINS = [MONTH, DAY, HOUR, QUARTER];

export function seriesSql(q: SeriesQuery): { sql: string; params: OlapParams } {
  const scope =
    `org_id = {org:String} AND account_id IN {accounts:Array(String)}` +
    (q.postId === undefined ? '' : ' AND post_id = {post:String}');
  const group = {
    none: "''",
    account: 'account_id',
    post: 'post_id',
    platform: "transform(account_id, {accounts:Array(String)}, {platforms:Array(String)}, '')",
  }[q.groupBy];
  const bucket = (x: string) => bucketOf(q.granularity, x);
  /** Inside the range and inside one local bucket. */
  const fits = (start: string, end: string) =>
    `(${start} >= ${F} AND ${end} <= ${T} AND ${bucket(start)} = ${bucket(`(${end} - INTERVAL 1 SECOND)`)})`;
  /** Wholly before the range: part of the level the range starts from. */
  const before = (end: string) => `(${end} <= ${F})`;

  const additive = q.metrics.filter((m) => m !== 'unique_users');
  const wantsUsers = q.metrics.includes('unique_users');
  const metricsOf = [...additive, ...(wantsUsers ? ['app_events'] : [])];
  const columns = `metric, ${group} AS g, post_id`;

  // Rows of the range carry their bucket start (ms) as `idx`; rows before it carry -1.
  const branches: string[] = [];
  for (const grain of GRAINS) {
    const { parent } = grain;
    const used = (test: (start: string, end: string) => string) =>
      `${test('bucket', grain.end('bucket'))}` +
      (parent ? ` AND NOT ${test(parent.start('bucket'), parent.end('bucket'))}` : '');
    const source = `FROM ${grain.table} WHERE ${scope} AND metric IN {metrics:Array(String)}`;
    branches.push(`
      SELECT ${columns}, toInt64(toUnixTimestamp(${bucket('bucket')})) * 1000 AS idx,
             toInt64(delta_sum) AS delta, level, level_count, users
      ${source} AND bucket >= ${F} AND bucket < ${T}
        AND ${used(fits)}`);
    branches.push(`
      SELECT ${columns}, toInt64(-1) AS idx, toInt64(0) AS delta, level, level_count, users
      ${source} AND level_count > 0 AND bucket < ${F}
        AND ${used((_, end) => before(end))}`);
  }
  // Raw events: the part of the range, and of the time before it, no quarter-hour row covers.
  const quarter = 'toStartOfFifteenMinutes(occurred_at)';
  const quarterEnd = `(${quarter} + INTERVAL 15 MINUTE)`;
  const raw = (idx: string, where: string) => `
      SELECT ${columns}, ${idx} AS idx,
             sumIf(value, mode = 'delta') AS delta,
             argMaxStateIf(value, occurred_at, mode = 'total') AS level,
             countIf(mode = 'total') AS level_count,
             uniqCombined64StateIf(user_id, user_id != '') AS users
      FROM events
      ARRAY JOIN metric_names AS metric, metric_modes AS mode, metric_values AS value
      WHERE ${scope} AND metric IN {metrics:Array(String)} AND ${where}
      GROUP BY metric, g, post_id, idx`;
  branches.push(
    raw(
      `toInt64(toUnixTimestamp(${bucket('occurred_at')})) * 1000`,
      `occurred_at >= ${F} AND occurred_at < ${T} AND NOT ${fits(quarter, quarterEnd)}`,
    ),
    raw(
      'toInt64(-1)',
      `occurred_at >= toStartOfFifteenMinutes(${F}) AND occurred_at < ${F} AND NOT ${before(quarterEnd)}`,
    ),
  );

  const parts: string[] = [];
  if (additive.length > 0) {
    parts.push(`
      SELECT 'delta' AS kind, metric, g, idx AS at, toFloat64(sum(delta)) AS value
      FROM pieces WHERE idx >= 0 AND metric IN {additive:Array(String)}
      GROUP BY metric, g, idx HAVING value != 0`);
    // Per series (metric, post), each bucket's change from the level before it: the previous
    // bucket with a level, or for the first, the level before the range.
    parts.push(`
      SELECT 'level' AS kind, metric, g, idx AS at,
             toFloat64(sum(if(n = 1, lvl - base, lvl - prev))) AS value
      FROM (
        SELECT metric, g, idx, lvl, base,
               lagInFrame(lvl) OVER w AS prev, row_number() OVER w AS n
        FROM (
          SELECT metric, g, post_id, idx, argMaxMerge(level) AS lvl
          FROM pieces WHERE idx >= 0 AND metric IN {additive:Array(String)}
          GROUP BY metric, g, post_id, idx HAVING sum(level_count) > 0
        ) AS levels
        LEFT JOIN (
          SELECT metric, g, post_id, argMaxMerge(level) AS base
          FROM pieces WHERE idx = -1 AND metric IN {additive:Array(String)}
          GROUP BY metric, g, post_id HAVING sum(level_count) > 0
        ) AS before USING (metric, g, post_id)
        WINDOW w AS (PARTITION BY metric, g, post_id ORDER BY idx
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
      )
      GROUP BY metric, g, idx HAVING value != 0`);
  }
  if (wantsUsers) {
    // A subquery, because the outer `'unique_users' AS metric` alias would shadow the column.
    const appUsers = "SELECT g, idx, users FROM pieces WHERE idx >= 0 AND metric = 'app_events'";
    parts.push(`
      SELECT 'users' AS kind, 'unique_users' AS metric, g, idx AS at,
             toFloat64(uniqCombined64Merge(users)) AS value
      FROM (${appUsers}) GROUP BY g, idx`);
    parts.push(`
      SELECT 'users' AS kind, 'unique_users' AS metric, g, toInt64(-1) AS at,
             toFloat64(uniqCombined64Merge(users)) AS value
      FROM (${appUsers}) GROUP BY g`);
  }
  // The newest event: found in the newest quarter-hour with data, so only that part is read raw.
  parts.push(`
      SELECT 'newest' AS kind, '' AS metric, '' AS g,
             toInt64(toUnixTimestamp64Milli(max(occurred_at))) AS at, toFloat64(count()) AS value
      FROM events
      WHERE ${scope} AND occurred_at < ${T} AND occurred_at >= greatest(${F}, (
        SELECT max(bucket) FROM metrics_quarter_hourly
        WHERE ${scope} AND bucket >= toStartOfFifteenMinutes(${F}) AND bucket < ${T}))`);
  const sql = `
    WITH pieces AS (${branches.join('\n      UNION ALL')})
    ${parts.join('\n    UNION ALL')}`;
  const accounts = [...q.accountIds];
  return {
    sql,
    params: {
      org: q.orgId,
      accounts,
      platforms: accounts.map((a) => q.platforms?.get(a) ?? ''),
      post: q.postId ?? '',
      metrics: metricsOf,
      additive,
      from: q.from,
      to: q.to,
      tz: q.timeZone,
    },
  };
}
