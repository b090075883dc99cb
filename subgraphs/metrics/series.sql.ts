// The query router of the metrics subgraph, as one ClickHouse statement: the rows the range plan
// (range-pieces.ts) names, from the month, day, hour and quarter-hour rollups and raw events,
// each tagged with its local bucket, and the rows before the range that give the level lifetime
// totals start from. One table reference per source, because planning, not reading, is what a
// statement of many branches spends its time on.
import { ENGAGEMENT_COMPONENTS, ENGAGEMENTS } from '../../schema/engagement.ts';
import { PLATFORMS, type MetricName } from '../../schema/event-envelope.ts';
import type { Granularity } from '../../lib/time/zoned-buckets.ts';
import { planRange, type Grain, type RangePlan } from './range-pieces.ts';
import type { OlapParams } from '../../lib/olap/olap.port.ts';

/** `series`: one group per stored series (account and post, NUL-joined), for sealed reads. */
export type GroupBy = 'none' | 'account' | 'post' | 'platform' | 'series';

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
  /** Platform of each account: what its engagements are, and its group for `groupBy: 'platform'`. */
  platforms?: ReadonlyMap<string, string>;
}

/**
 * `series` rows: one per metric, group and bucket start (`at`, ms), with the sum of changes
 * (`delta`), the change of lifetime totals (`level`) and the distinct users (`users`, meaningful
 * for app_events); `at` = -1 is the whole range, `at` = -2 the level just before it (`level`).
 * A `newest` row, when the range holds any event: the newest event time in the range as `at`.
 */
export interface SeriesRow {
  kind: 'series' | 'newest';
  metric: string;
  g: string;
  at: number;
  delta: number;
  level: number;
  users: number;
}

const F = "fromUnixTimestamp64Milli({from:Int64}, 'UTC')";
const T = "fromUnixTimestamp64Milli({to:Int64}, 'UTC')";

const TABLE: Record<Grain, string> = {
  month: 'metrics_monthly',
  day: 'metrics_daily',
  hour: 'metrics_hourly',
  quarter: 'metrics_quarter_hourly',
};

/** The stored metrics a query reads: derived ones (users, engagements) are made from others. */
export function storedMetricsOf(metrics: readonly MetricName[]): MetricName[] {
  return [
    ...new Set<MetricName>([
      ...metrics.filter((m) => m !== 'unique_users' && m !== 'engagements'),
      ...(metrics.includes('unique_users') ? (['app_events'] as const) : []),
      ...(metrics.includes('engagements') ? ENGAGEMENT_COMPONENTS : []),
    ]),
  ];
}

/** The organisation, accounts and post a query may read, over `events` or any rollup. */
export const SCOPE_SQL = (q: Pick<SeriesQuery, 'postId'>): string =>
  `org_id = {org:String} AND account_id IN {accounts:Array(String)}` +
  (q.postId === undefined ? '' : ' AND post_id = {post:String}');

const PLATFORM_OF =
  "transform(account_id, {accounts:Array(String)}, {platforms:Array(String)}, '')";

/** The group of a row, as SQL over `account_id` and `post_id`. */
export function groupSql(groupBy: GroupBy): string {
  return {
    none: "''",
    account: 'account_id',
    post: 'post_id',
    platform: PLATFORM_OF,
    series: 'concat(account_id, char(0), post_id)',
  }[groupBy];
}

/** The parameters SCOPE_SQL and groupSql refer to. */
export function scopeParams(q: SeriesQuery): OlapParams {
  const accounts = [...q.accountIds];
  return {
    org: q.orgId,
    accounts,
    platforms: accounts.map((a) => q.platforms?.get(a) ?? ''),
    post: q.postId ?? '',
  };
}

export function seriesSql(
  q: SeriesQuery,
  plan: RangePlan = planRange(q.from, q.to, q.granularity, q.timeZone),
): { sql: string; params: OlapParams } {
  const scope = SCOPE_SQL(q);
  const group = groupSql(q.groupBy);
  const wantsUsers = q.metrics.includes('unique_users');
  const wantsEngagements = q.metrics.includes('engagements');
  // A counter that is an engagement on its account's platform counts a second time, as one.
  const engaged = `has(multiIf(${PLATFORMS.map((p) => `${PLATFORM_OF} = '${p}', {eng_${p}:Array(String)}`).join(', ')}, []), metric)`;
  const columns = `metric, ${group} AS g, account_id, post_id`;
  const params: OlapParams = {};
  const instant = (name: string, ms: number) => {
    params[name] = ms;
    return `fromUnixTimestamp64Milli({${name}:Int64}, 'UTC')`;
  };

  // Rows of the range carry their bucket start (ms) as `idx`; rows before it carry -1.
  const { before } = plan;
  const beforeSpans: Record<Grain, [number, number]> = {
    month: [-Infinity, before.month],
    day: [before.month, before.day],
    hour: [before.day, before.hour],
    quarter: [before.hour, before.quarter],
  };
  const branches: string[] = [];
  for (const grain of ['month', 'day', 'hour', 'quarter'] as const) {
    const pieces = plan.rollups[grain];
    const [lo, hi] = beforeSpans[grain];
    const wanted: string[] = [];
    if (lo < hi) {
      const upper = `bucket < ${instant(`${grain}_before_hi`, hi)}`;
      wanted.push(
        lo === -Infinity
          ? `(level_count > 0 AND ${upper})`
          : `(level_count > 0 AND bucket >= ${instant(`${grain}_before_lo`, lo)} AND ${upper})`,
      );
    }
    if (pieces.starts.length > 0) {
      params[`${grain}_starts`] = pieces.starts;
      params[`${grain}_buckets`] = pieces.buckets;
      wanted.push(
        `(bucket >= ${instant(`${grain}_lo`, pieces.starts[0]!)} AND ` +
          `bucket <= ${instant(`${grain}_hi`, pieces.starts.at(-1)!)})`,
      );
    }
    if (wanted.length === 0) continue;
    const idx =
      pieces.starts.length === 0
        ? 'toInt64(-1)'
        : `if(bucket < ${F}, toInt64(-1), transform(toInt64(toUnixTimestamp(bucket)) * 1000,
             {${grain}_starts:Array(Int64)}, {${grain}_buckets:Array(Int64)}, toInt64(-2)))`;
    branches.push(`
      SELECT ${columns}, ${idx} AS idx, toInt64(delta_sum) AS delta, level, level_count, users
      FROM ${TABLE[grain]}
      WHERE ${scope} AND metric IN {metrics:Array(String)} AND (${wanted.join(' OR ')})`);
  }
  // Raw events: the range's spans no quarter-hour covers, and the part of the quarter-hour
  // before the range that precedes it.
  const rawWanted = [
    `(occurred_at >= ${instant('raw_before_lo', before.quarter)} AND occurred_at < ${F})`,
  ];
  const rawIdx = [`occurred_at < ${F}`, 'toInt64(-1)'];
  plan.raw.forEach((span, i) => {
    const end = instant(`raw_hi${i}`, span.to);
    rawWanted.push(`(occurred_at >= ${instant(`raw_lo${i}`, span.from)} AND occurred_at < ${end})`);
    params[`raw_bucket${i}`] = span.bucket;
    rawIdx.push(`occurred_at < ${end}`, `toInt64({raw_bucket${i}:Int64})`);
  });
  branches.push(`
      SELECT ${columns}, multiIf(${rawIdx.join(', ')}, toInt64(-2)) AS idx,
             sumIf(value, mode = 'delta') AS delta,
             argMaxStateIf(value, occurred_at, mode = 'total') AS level,
             countIf(mode = 'total') AS level_count,
             uniqCombined64StateIf(user_id, user_id != '' AND occurred_at >= ${F}) AS users
      FROM events
      ARRAY JOIN metric_names AS metric, metric_modes AS mode, metric_values AS value
      WHERE ${scope} AND metric IN {metrics:Array(String)} AND (${rawWanted.join(' OR ')})
      GROUP BY metric, g, account_id, post_id, idx`);

  // One pass over the pieces: per series (metric, account, post) and bucket, the sum of changes,
  // and the change of the level since the last bucket before it that had one (or the level
  // before the range); then per group and bucket (`at` -2: the level before the range), and, only
  // when distinct users are asked for (grouping sets cost the planner ~6 ms), per group over the
  // whole range (`at` -1).
  const sql = `
    SELECT 'series' AS kind, m AS metric, g,
           ${wantsUsers ? 'if(grouping(idx) = 1, toInt64(-1), if(idx = -1, toInt64(-2), idx))' : 'if(idx = -1, toInt64(-2), idx)'} AS at,
           toFloat64(sum(d)) AS delta, toFloat64(sum(change)) AS level,
           toFloat64(uniqCombined64Merge(u)) AS users
    FROM (
      SELECT metric, g, idx, u, ${wantsEngagements ? engaged : '0'} AS engaged,
             if(idx >= 0, d, 0) AS d,
             multiIf(idx = -1, lvl, lc > 0, lvl - if(seen > 0, prev, 0), 0) AS change
      FROM (
        SELECT metric, g, account_id, post_id, idx, d, lvl, lc, u,
               argMaxIf(lvl, idx, lc > 0) OVER w AS prev, countIf(lc > 0) OVER w AS seen
        FROM (
          SELECT metric, g, account_id, post_id, idx, sum(delta) AS d, argMaxMerge(level) AS lvl,
                 sum(level_count) AS lc, uniqCombined64MergeState(users) AS u
          FROM (${branches.join('\n      UNION ALL')})
          WHERE idx != -2
          GROUP BY metric, g, account_id, post_id, idx
        )
        WINDOW w AS (PARTITION BY metric, g, account_id, post_id ORDER BY idx
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
      )
      WHERE idx >= -1
    )
    ARRAY JOIN if(engaged, [metric, 'engagements'], [metric]) AS m
    ${wantsUsers ? 'GROUP BY GROUPING SETS ((m, g, idx), (m, g))' : 'GROUP BY m, g, idx'}
    UNION ALL
    -- The newest event in the range: the table is ordered by time within an account.
    SELECT 'newest' AS kind, '' AS metric, '' AS g, toInt64(toUnixTimestamp64Milli(occurred_at)) AS at,
           toFloat64(1) AS delta, toFloat64(0) AS level, toFloat64(0) AS users
    FROM (
      SELECT occurred_at FROM events
      WHERE ${scope} AND occurred_at >= ${F} AND occurred_at < ${T}
      ORDER BY occurred_at DESC LIMIT 1
    )`;
  return {
    sql,
    params: {
      ...params,
      ...scopeParams(q),
      ...Object.fromEntries(PLATFORMS.map((p) => [`eng_${p}`, [...ENGAGEMENTS[p]]])),
      metrics: storedMetricsOf(q.metrics),
      from: q.from,
      to: q.to,
    },
  };
}
