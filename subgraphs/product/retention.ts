// Retention: each person in the cohort of the local period of their first start event in the
// range, then, per later period, whether they did the return event in it (ON) or in it or later
// (ON_OR_AFTER). Two statements, both counting in ClickHouse: cohort sizes, and people per
// cohort and return period (ON) or per cohort and last return period (ON_OR_AFTER).
import type { Olap } from '../../lib/olap/olap.port.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import { nextBucket, type Granularity } from '../../lib/time/zoned-buckets.ts';
import type { StepInput } from './funnels.ts';
import {
  checkRegexes,
  eventPathsOf,
  filterSql,
  loadPathTypes,
  regexesOf,
  SqlParams,
  type FilterInput,
} from './property-sql.ts';
import { bucketSql, trendBucketStarts } from './trend-buckets.ts';

export type RetentionCriterion = 'ON' | 'ON_OR_AFTER';

export interface RetentionRequest {
  orgId: string;
  appId: string;
  from: number;
  to: number;
  period: Extract<Granularity, 'day' | 'week' | 'month'>;
  timeZone: string;
  startEvent: StepInput;
  returnEvent: StepInput;
  criterion: RetentionCriterion;
  periods: number;
}

export interface RetentionCohort {
  start: number;
  users: number;
  retained: (number | null)[];
  rates: (number | null)[];
}

const MAX_PERIODS = 60;
const MAX_COHORTS = 400;

export async function runRetention(
  olap: Olap,
  q: RetentionRequest,
  now = Date.now(),
): Promise<RetentionCohort[]> {
  if (!(q.to > q.from)) throw badInput('range.to must be after range.from');
  if (!(q.periods >= 1 && q.periods <= MAX_PERIODS)) {
    throw badInput(`periods must be 1 to ${MAX_PERIODS}`);
  }
  const cohorts = trendBucketStarts(q.from, q.to, q.period, q.timeZone);
  if (cohorts.length > MAX_COHORTS) {
    throw badInput(
      `the range holds ${cohorts.length} cohorts; at most ${MAX_COHORTS}: use a longer period`,
    );
  }
  await checkRegexes(olap, [q.startEvent.where, q.returnEvent.where].flatMap(regexesOf));
  // Every period start from the first cohort's to `periods` after the last one's.
  const starts = [...cohorts];
  for (let i = 0; i < q.periods; i++) starts.push(nextBucket(starts.at(-1)!, q.period, q.timeZone));
  const index = new Map(starts.map((s, i) => [s, i]));
  const end = nextBucket(starts.at(-1)!, q.period, q.timeZone);

  const types = await loadPathTypes(
    olap,
    q.orgId,
    q.appId,
    [q.startEvent.where, q.returnEvent.where].flatMap(eventPathsOf),
  );
  const params = new SqlParams({ org: q.orgId, app: q.appId, tz: q.timeZone }, types);
  const instant = (ms: number) => `fromUnixTimestamp64Milli(${params.bind(ms, 'Int64')}, 'UTC')`;
  const matches = (s: StepInput) =>
    [
      `event = ${params.bind(s.event, 'String')}`,
      ...[s.where].filter((f): f is FilterInput => !!f).map((f) => `(${filterSql(f, params)})`),
    ].join(' AND ');
  const period = bucketSql(q.period, '{tz:String}');
  const scope = `org_id = {org:String} AND app_id = {app:String} AND user_id != ''`;
  const firstStarts = `SELECT user_id, ${bucketSql(q.period, '{tz:String}', 'min(timestamp)')} AS cohort
    FROM product_events
    WHERE ${scope} AND timestamp >= ${instant(q.from)} AND timestamp < ${instant(q.to)} AND ${matches(q.startEvent)}
    GROUP BY user_id`;
  const returns = `SELECT DISTINCT user_id, ${period} AS rp
    FROM product_events
    WHERE ${scope} AND timestamp >= ${instant(cohorts[0]!)} AND timestamp < ${instant(end)}
      AND ${matches(q.returnEvent)}`;
  const last = q.criterion === 'ON_OR_AFTER';
  const [sizes, back] = await Promise.all([
    olap.query<{ cohort: number | string; n: number | string }>(
      `SELECT cohort, count() AS n FROM (${firstStarts}) GROUP BY cohort`,
      params.values,
    ),
    olap.query<{ cohort: number | string; rp: number | string; n: number | string }>(
      `SELECT cohort, rp, count() AS n
       FROM (SELECT s.user_id AS user_id, s.cohort AS cohort, ${last ? 'max(r.rp)' : 'r.rp'} AS rp
             FROM (${firstStarts}) AS s INNER JOIN (${returns}) AS r ON r.user_id = s.user_id
             WHERE r.rp > s.cohort
             ${last ? 'GROUP BY s.user_id, s.cohort' : ''})
       GROUP BY cohort, rp`,
      params.values,
    ),
  ]);

  const size = new Map(sizes.map((r) => [Number(r.cohort), Number(r.n)]));
  const counts = new Map<number, number[]>();
  for (const r of back) {
    const c = index.get(Number(r.cohort));
    const p = index.get(Number(r.rp));
    if (c === undefined || p === undefined) continue;
    const list = counts.get(c) ?? new Array<number>(q.periods + 1).fill(0);
    counts.set(c, list);
    // ON_OR_AFTER: a last return past the periods asked still counts in each of them.
    const k = last ? Math.min(p - c, q.periods) : p - c;
    if (k <= q.periods) list[k]! += Number(r.n);
  }
  return cohorts.map((start, c) => {
    const users = size.get(start) ?? 0;
    const found = counts.get(c) ?? new Array<number>(q.periods + 1).fill(0);
    // ON_OR_AFTER: a person's last return period counts for it and every period before it.
    if (last) for (let k = q.periods - 1; k >= 1; k--) found[k]! += found[k + 1]!;
    const retained = found.map((n, k): number | null => {
      if (k === 0) return users;
      const begins = starts[c + k];
      return begins === undefined || begins > now ? null : n;
    });
    return {
      start,
      users,
      retained,
      rates: retained.map((n) => (n === null || users === 0 ? null : n / users)),
    };
  });
}
