// Ad-hoc trends over an app's events (product_events): one statement per series and period, each
// grouping by bucket and breakdown group and, through GROUPING SETS, over the whole range too.
// With a breakdown, the first series is read by every group first to rank them; past the limit
// the series are read again with the groups outside the top folded into "Other" inside the
// statement, so Other's distinct users and percentiles are exact, not sums of the groups'.
import type { Olap } from '../../lib/olap/olap.port.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import { evaluateFormula, parseFormula, type Formula } from './formulas.ts';
import {
  eventGroupText,
  eventNumber,
  eventPathsOf,
  filterSql,
  loadPathTypes,
  NOT_SET,
  personGroupSql,
  checkRegexes,
  regexesOf,
  SqlParams,
  type FilterInput,
  type PathTypes,
  type PropertyRef,
} from './property-sql.ts';
import {
  bucketSql,
  localDaysBefore,
  trendBucketStarts,
  type TrendInterval,
} from './trend-buckets.ts';

export type TrendMath =
  | 'TOTAL'
  | 'UNIQUE_USERS'
  | 'UNIQUE_USERS_APPROX'
  | 'DAU'
  | 'WAU'
  | 'MAU'
  | 'PROPERTY'
  | 'COUNT_PER_USER';
export type Aggregate = 'SUM' | 'AVG' | 'MIN' | 'MAX' | 'MEDIAN' | 'P90' | 'P95' | 'P99';

export interface SeriesInput {
  event?: string | null;
  where?: FilterInput | null;
  math: TrendMath;
  property?: string | null;
  aggregate?: Aggregate | null;
}

export interface TrendsRequest {
  orgId: string;
  appId: string;
  from: number;
  to: number;
  interval: TrendInterval;
  timeZone: string;
  series: readonly SeriesInput[];
  where?: FilterInput | null;
  breakdown: readonly PropertyRef[];
  breakdownLimit: number;
  compare: boolean;
  formulas: readonly string[];
}

export interface TrendPeriod {
  total: number | null;
  values: (number | null)[];
}

export interface TrendResult extends TrendPeriod {
  label: string;
  event: string | null;
  math: TrendMath | null;
  breakdown: (string | null)[];
  other: boolean;
  previous: TrendPeriod | null;
  standardError: number | null;
}

export interface TrendsAnswer {
  buckets: number[];
  previousBuckets: number[] | null;
  results: TrendResult[];
}

export const TREND_LIMITS = { series: 10, breakdown: 2, buckets: 5_000, breakdownLimit: 1_000 };
/** HyperLogLog with 2^12 registers: 1.04 / sqrt(4096). */
const HLL_STANDARD_ERROR = 0.01625;
const ROLLING_DAYS: Partial<Record<TrendMath, number>> = { DAU: 1, WAU: 7, MAU: 30 };
const LETTERS = 'ABCDEFGHIJ';
const QUANTILE: Partial<Record<Aggregate, number>> = {
  MEDIAN: 0.5,
  P90: 0.9,
  P95: 0.95,
  P99: 0.99,
};

/** An event with a user: tested on user_key, so that the user_id strings are never read. */
const KNOWN_USER = "user_key != sipHash64('')";

/** A group's key as stored in SQL: one text per breakdown property, NOT_SET for none; [] is Other. */
type GroupKey = string[];

interface SeriesRow {
  gk: GroupKey;
  b: number;
  v: number | null;
  n: number;
}

interface Period {
  from: number;
  to: number;
  buckets: number[];
}

/** An aggregate function over a series' rows, taking `arg` from the rows where `when` holds. */
interface AggregateCall {
  name: string;
  /** The function's parameters, as `(0.5)`, or ''. */
  params: string;
  arg: string;
  when?: string;
}

/** What aggregates a series' rows (columns gk, b, user_key, num; `value` for PROPERTY), per math. */
function aggregateOf(series: SeriesInput, value = 'num'): AggregateCall {
  switch (series.math) {
    case 'TOTAL':
      return { name: 'count', params: '', arg: '' };
    case 'UNIQUE_USERS':
      return { name: 'uniqExact', params: '', arg: 'user_key', when: KNOWN_USER };
    case 'UNIQUE_USERS_APPROX':
      return { name: 'uniqHLL12', params: '', arg: 'user_key', when: KNOWN_USER };
    case 'PROPERTY': {
      const q = QUANTILE[series.aggregate!];
      if (q !== undefined) return { name: 'quantileExactInclusive', params: `(${q})`, arg: value };
      return { name: series.aggregate!.toLowerCase(), params: '', arg: value };
    }
    default:
      throw new Error(`no plain aggregate for ${series.math}`);
  }
}

/** The call itself, its partial state (with `combinator` State), or the merge of such states. */
function aggregateSql(a: AggregateCall, combinator: '' | 'State' = ''): string {
  const args = a.when ? [a.arg, a.when] : [a.arg];
  return `${a.name}${combinator}${a.when ? 'If' : ''}${a.params}(${args.filter((x) => x).join(', ')})`;
}
const mergedSql = (a: AggregateCall, state: string) => `${a.name}Merge${a.params}(${state})`;

/** A value with no rows behind it: counts are 0, SUMs 0, the other aggregates null. */
function emptyValue(series: SeriesInput): number | null {
  if (series.math === 'PROPERTY' || series.math === 'COUNT_PER_USER') {
    return series.aggregate === 'SUM' ? 0 : null;
  }
  return 0;
}

function checkSeries(s: SeriesInput, label: string, interval: TrendInterval): void {
  const needsAggregate = s.math === 'PROPERTY' || s.math === 'COUNT_PER_USER';
  if (needsAggregate && !s.aggregate) {
    throw badInput(`series ${label}: ${s.math} needs an \`aggregate\``);
  }
  if (!needsAggregate && s.aggregate) {
    throw badInput(
      `series ${label}: \`aggregate\` applies to PROPERTY and COUNT_PER_USER math only`,
    );
  }
  if (s.math === 'PROPERTY' && !s.property) {
    throw badInput(`series ${label}: PROPERTY math needs the numeric \`property\` it aggregates`);
  }
  if (s.math !== 'PROPERTY' && s.property) {
    throw badInput(`series ${label}: \`property\` applies to PROPERTY math only`);
  }
  if (ROLLING_DAYS[s.math] !== undefined && interval !== 'day') {
    throw badInput(
      `series ${label}: ${s.math} counts users over rolling local days at each day; use interval DAY`,
    );
  }
}

/** Checks a request as a whole before anything runs; formulas come back parsed. */
function checkRequest(q: TrendsRequest): Formula[] {
  if (!(q.to > q.from)) throw badInput('range.to must be after range.from');
  if (q.series.length < 1 || q.series.length > TREND_LIMITS.series) {
    throw badInput(`a trend has 1 to ${TREND_LIMITS.series} series, got ${q.series.length}`);
  }
  if (q.breakdown.length > TREND_LIMITS.breakdown) {
    throw badInput(`a breakdown groups by at most ${TREND_LIMITS.breakdown} properties`);
  }
  if (!(q.breakdownLimit >= 1 && q.breakdownLimit <= TREND_LIMITS.breakdownLimit)) {
    throw badInput(`breakdownLimit must be 1 to ${TREND_LIMITS.breakdownLimit}`);
  }
  q.series.forEach((s, i) => checkSeries(s, LETTERS[i]!, q.interval));
  const letters = LETTERS.slice(0, q.series.length);
  return q.formulas.map((text) => parseFormula(text, letters));
}

/** Runs a trends request: every series, then the formulas over them. */
export async function runTrends(olap: Olap, q: TrendsRequest): Promise<TrendsAnswer> {
  const formulas = checkRequest(q);
  const buckets = trendBucketStarts(q.from, q.to, q.interval, q.timeZone);
  const span = q.to - q.from;
  const previous = q.compare
    ? {
        from: q.from - span,
        to: q.from,
        buckets: trendBucketStarts(q.from - span, q.from, q.interval, q.timeZone),
      }
    : null;
  const most = Math.max(buckets.length, previous?.buckets.length ?? 0);
  if (most > TREND_LIMITS.buckets) {
    throw badInput(
      `the range spans ${most} ${q.interval} buckets; at most ${TREND_LIMITS.buckets}: use a coarser interval`,
    );
  }
  await checkRegexes(olap, [q.where, ...q.series.map((s) => s.where)].flatMap(regexesOf));
  const types = await loadPathTypes(olap, q.orgId, q.appId, [
    ...[q.where, ...q.series.map((s) => s.where)].flatMap(eventPathsOf),
    ...q.series.flatMap((s) => (s.property ? [s.property] : [])),
    ...q.breakdown.filter((b) => !b.person).map((b) => b.path),
  ]);

  const current: Period = { from: q.from, to: q.to, buckets };
  const read = (series: SeriesInput, period: Period, top: GroupKey[] | null) =>
    readSeries(olap, q, types, series, period, top);

  // Groups: the first series' best over the current period. Every series is read with the rest
  // folded into Other, so a value only a later series has is in Other, not lost.
  let first = await read(q.series[0]!, current, null);
  let top: GroupKey[] | null = null;
  if (q.breakdown.length > 0) {
    const ranked = rankGroups(first, q.series[0]!);
    top = ranked.slice(0, q.breakdownLimit);
    if (ranked.length > q.breakdownLimit) first = await read(q.series[0]!, current, top);
  }
  const reads = await Promise.all(
    q.series.map(async (series, i) => ({
      now: i === 0 ? first : await read(series, current, top),
      before: previous ? await read(series, previous, top) : null,
    })),
  );
  const periodsOf = (gk: GroupKey) =>
    q.series.map((series, i) => ({
      gk,
      now: periodOf(reads[i]!.now, gk, series, buckets),
      before:
        reads[i]!.before && previous
          ? periodOf(reads[i]!.before, gk, series, previous.buckets)
          : null,
    }));
  // Other is answered when the first series overflowed, or when any series counts something
  // outside the top (a value only a later series has).
  const other = top ? periodsOf([]) : [];
  const counts = (p: TrendPeriod | null) =>
    p !== null && [p.total, ...p.values].some((v) => v !== null && v !== 0);
  const withOther = other.some((o) => counts(o.now) || counts(o.before));
  const groups: GroupKey[] = top ? [...top, ...(withOther ? [[]] : [])] : [[]];
  const byGroup = groups.map((gk) => (gk.length === 0 && top ? other : periodsOf(gk)));
  const perSeries = q.series.map((_, i) => byGroup.map((g) => g[i]!));

  const results: TrendResult[] = [];
  q.series.forEach((series, i) => {
    for (const g of perSeries[i]!) {
      results.push({
        label: LETTERS[i]!,
        event: series.event ?? null,
        math: series.math,
        ...groupFields(g.gk, q.breakdown.length),
        ...g.now,
        previous: g.before,
        standardError: series.math === 'UNIQUE_USERS_APPROX' ? HLL_STANDARD_ERROR : null,
      });
    }
  });
  for (const formula of formulas) {
    groups.forEach((gk, j) => {
      const scope =
        (pick: (p: { now: TrendPeriod; before: TrendPeriod | null }) => TrendPeriod | null) =>
        (index: number | 'total') =>
          Object.fromEntries(
            perSeries.map((list, i) => {
              const period = pick(list[j]!);
              return [
                LETTERS[i]!,
                index === 'total' ? (period?.total ?? null) : (period?.values[index] ?? null),
              ];
            }),
          );
      const over = (pick: Parameters<typeof scope>[0], length: number): TrendPeriod => {
        const at = scope(pick);
        return {
          total: evaluateFormula(formula, at('total')),
          values: Array.from({ length }, (_, k) => evaluateFormula(formula, at(k))),
        };
      };
      results.push({
        label: formula.text,
        event: null,
        math: null,
        ...groupFields(gk, q.breakdown.length),
        ...over((p) => p.now, buckets.length),
        previous: previous ? over((p) => p.before, previous.buckets.length) : null,
        standardError: null,
      });
    });
  }
  return { buckets, previousBuckets: previous?.buckets ?? null, results };
}

function groupFields(
  gk: GroupKey,
  properties: number,
): { breakdown: (string | null)[]; other: boolean } {
  if (properties > 0 && gk.length === 0) return { breakdown: [], other: true };
  return { breakdown: gk.map((v) => (v === NOT_SET ? null : v)), other: false };
}

/** One group's figures in one period, with its empty buckets filled. */
function periodOf(
  rows: readonly SeriesRow[],
  gk: GroupKey,
  series: SeriesInput,
  buckets: readonly number[],
): TrendPeriod {
  const key = JSON.stringify(gk);
  const empty = emptyValue(series);
  const index = new Map(buckets.map((b, i) => [b, i]));
  const values = buckets.map(() => empty);
  const rolling = ROLLING_DAYS[series.math] !== undefined;
  let total: number | null = rolling ? null : empty;
  for (const r of rows) {
    if (JSON.stringify(r.gk) !== key) continue;
    const value = r.n > 0 ? r.v : empty;
    if (r.b === -1) {
      if (!rolling) total = value;
      continue;
    }
    const i = index.get(r.b);
    if (i === undefined)
      throw new Error(`trends: bucket ${new Date(r.b).toISOString()} is not one of the range's`);
    values[i] = value;
  }
  return { total, values };
}

/** Groups best first by the first series: its total (rolling math: the sum of its values). */
function rankGroups(rows: readonly SeriesRow[], series: SeriesInput): GroupKey[] {
  const score = new Map<string, { gk: GroupKey; value: number }>();
  const rolling = ROLLING_DAYS[series.math] !== undefined;
  for (const r of rows) {
    const key = JSON.stringify(r.gk);
    const entry = score.get(key) ?? { gk: r.gk, value: rolling ? 0 : -Infinity };
    if (rolling && r.b !== -1) entry.value += r.v ?? 0;
    if (!rolling && r.b === -1) entry.value = r.n > 0 && r.v !== null ? r.v : -Infinity;
    score.set(key, entry);
  }
  const text = (v: string) => (v === NOT_SET ? null : v);
  const byText = (a: GroupKey, b: GroupKey) => {
    for (let i = 0; i < a.length; i++) {
      const x = text(a[i]!);
      const y = text(b[i]!);
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      return x < y ? -1 : 1;
    }
    return 0;
  };
  return [...score.values()]
    .sort((a, b) => b.value - a.value || byText(a.gk, b.gk))
    .map((e) => e.gk);
}

/** One series over one period: rows per group and bucket (`b` -1: the whole period). */
async function readSeries(
  olap: Olap,
  q: TrendsRequest,
  types: PathTypes,
  series: SeriesInput,
  period: Period,
  top: GroupKey[] | null,
): Promise<SeriesRow[]> {
  const params = new SqlParams({ org: q.orgId, app: q.appId, tz: q.timeZone }, types);
  const days = ROLLING_DAYS[series.math];
  // Rolling math reaches back to the local midnight days − 1 before the period's first day.
  const since =
    days === undefined ? period.from : localDaysBefore(period.from, days - 1, q.timeZone);
  const instant = (ms: number) => `fromUnixTimestamp64Milli(${params.bind(ms, 'Int64')}, 'UTC')`;
  const joins: string[] = [];
  const texts = q.breakdown.map((b, i) => {
    if (!b.person) return eventGroupText(b.path, params);
    joins.push(
      `LEFT JOIN (${personGroupSql(b.path, params)}) AS pb${i} ON pb${i}.user_id = e.user_id`,
    );
    return `pb${i}.text`;
  });
  // A group is one text column per property (k0, k1), grouped by as plain strings, which hash far
  // faster than an array of them; o marks Other, and gk puts a group's texts together at the end.
  const ks = texts.map((t, i) => `ifNull(${t}, char(0)) AS k${i}`);
  const xs = texts.map((_, i) => `x${i}`);
  // Each group of the top as one array per property, so the parameters stay flat lists.
  const inTop = top
    ? `arrayExists((${xs.join(', ')}) -> ${xs.map((x, i) => `${x} = k${i}`).join(' AND ')}, ${texts
        .map((_, i) =>
          params.bind(
            top.map((g) => g[i]!),
            'Array(String)',
          ),
        )
        .join(', ')})`
    : '';
  const other = top ? `NOT ${inTop}` : 'false';
  const gs = texts.map((_, i) => `if(o, '', k${i}) AS g${i}`);
  const group = [...texts.map((_, i) => `g${i}`), 'o'].join(', ');
  const gk = `if(o, CAST([], 'Array(String)'), CAST([${texts.map((_, i) => `g${i}`).join(', ')}], 'Array(String)'))`;
  const where = [
    'e.org_id = {org:String}',
    'e.app_id = {app:String}',
    `e.timestamp >= ${instant(since)}`,
    `e.timestamp < ${instant(period.to)}`,
    ...(series.event ? [`e.event = ${params.bind(series.event, 'String')}`] : []),
    ...[q.where, series.where]
      .filter((f): f is FilterInput => !!f)
      .map((f) => `(${filterSql(f, params)})`),
  ];
  const num = series.math === 'PROPERTY' ? eventNumber(series.property!, params) : 'NULL';
  const rows = `
    SELECT ${[...ks, `${other} AS o`, ...gs].join(', ')}, ${bucketSql(q.interval, '{tz:String}')} AS bk, e.user_key AS user_key, ${num} AS num
    FROM product_events AS e ${joins.join(' ')}
    WHERE ${where.join(' AND ')}`;
  const bucketOrWhole = 'if(grouping(bk) = 1, toInt64(-1), bk)';

  let sql: string;
  if (days !== undefined) {
    const first = period.buckets[0]!;
    const last = period.buckets.at(-1)!;
    sql = `
      SELECT ${gk} AS gk, target AS b, toFloat64(uniqExact(user_key)) AS v, count() AS n
      FROM (SELECT DISTINCT ${group}, user_key, toDate(fromUnixTimestamp64Milli(bk, 'UTC'), {tz:String}) AS day
            FROM (${rows}) WHERE ${KNOWN_USER})
      ARRAY JOIN arrayMap(i -> toInt64(toUnixTimestamp(toDateTime(day + i, {tz:String}))) * 1000, range(${days})) AS target
      WHERE target >= ${params.bind(first, 'Int64')} AND target <= ${params.bind(last, 'Int64')}
      GROUP BY ${group}, b`;
  } else if (series.math === 'COUNT_PER_USER') {
    const agg = aggregateSql(aggregateOf({ ...series, math: 'PROPERTY' }, 'c'));
    sql = `
      SELECT ${gk} AS gk, b, toFloat64(${agg}) AS v, count() AS n
      FROM (SELECT ${group}, ${bucketOrWhole} AS b, user_key, count() AS c
            FROM (${rows}) WHERE ${KNOWN_USER}
            GROUP BY GROUPING SETS ((${group}, bk, user_key), (${group}, user_key)))
      GROUP BY ${group}, b`;
  } else {
    // Each group's buckets are aggregated once into partial states, and the whole period merges
    // those: a quarter faster than aggregating every row twice.
    const agg = aggregateOf(series);
    const counted = series.math === 'PROPERTY' ? 'countIf(num IS NOT NULL)' : 'count()';
    sql = `
      SELECT ${gk} AS gk, ${bucketOrWhole} AS b, toFloat64(${mergedSql(agg, 's')}) AS v, sum(c) AS n
      FROM (SELECT ${group}, bk, ${aggregateSql(agg, 'State')} AS s, ${counted} AS c
            FROM (${rows}) GROUP BY ${group}, bk)
      GROUP BY GROUPING SETS ((${group}, bk), (${group}))`;
  }
  const found = await olap.query<{
    gk: string[];
    b: number | string;
    v: number | null;
    n: number | string;
  }>(`${sql} SETTINGS join_use_nulls = 1`, params.values);
  return found.map((r) => ({
    gk: r.gk,
    b: Number(r.b),
    v: r.v === null ? null : Number(r.v),
    n: Number(r.n),
  }));
}
