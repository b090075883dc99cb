// The funnel walk of funnel-ways.ts done inside ClickHouse, for funnels it can answer exactly the
// same way: without exclusions, and (UNORDERED) with steps on distinct event names, so that an
// event matches one step at most. Each person's events become sorted arrays; for every step an
// array of "the next event at or after here that matches it" turns each entry's greedy way into
// one array lookup per step, instead of a scan per entry. Only the figures per breakdown group
// and for everyone leave the engine, not the events.
import type { FunnelOrder } from './funnel-ways.ts';
import type { SqlParams } from './property-sql.ts';

export interface WalkShape {
  order: FunnelOrder;
  steps: number;
  windowMs: number;
  from: number;
  to: number;
  /** Breakdown groups answered before the rest is folded into Other; none without a breakdown. */
  breakdownLimit: number | null;
}

/** A row of walkFiguresSql: everyone (`everyone` 1), a top group, or Other (`top` 0). */
export interface WalkFigures {
  everyone: number;
  top: number;
  g: string;
  users: (number | string)[];
  medians: (number | null)[];
  averages: (number | null)[];
}

/** Whether a funnel's ways can be walked in SQL with the same answer as funnel-ways.ts. */
export function walksInSql(
  order: FunnelOrder,
  stepEvents: readonly string[],
  exclusions: number,
): boolean {
  if (exclusions > 0) return false;
  return order !== 'UNORDERED' || new Set(stepEvents).size === stepEvents.length;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Whether an event (step mask `m`, time `t`) is an entry: the first step (any, unordered) in range. */
export function entrySql(shape: WalkShape, params: SqlParams): string {
  const mask = shape.order === 'UNORDERED' ? 2 ** shape.steps - 1 : 1;
  const from = params.bind(shape.from, 'Int64');
  const to = params.bind(shape.to, 'Int64');
  return `(bitAnd(m, ${mask}) != 0 AND t >= ${from} AND t < ${to})`;
}

/**
 * Figures per group over `tagged`, a statement of rows (person, t ms, m step mask, g breakdown
 * text of an entry): every event of the people, of whom those with an entry in the range count.
 */
export function walkFiguresSql(tagged: string, shape: WalkShape, params: SqlParams): string {
  const k = shape.steps;
  const window = params.bind(shape.windowMs, 'Int64');
  const unordered = shape.order === 'UNORDERED';
  const entry = entrySql(shape, params);
  // a{s}[i]: the index of the first event at or after i that matches step s, 0 for none.
  const next = range(k)
    .filter((s) => unordered || s > 0)
    .map(
      (s) =>
        `arrayReverseFill(x -> x != 0, arrayMap((m, i) -> if(bitTest(m, ${s}), i, 0), ms, idx)) AS a${s}`,
    );
  // last_tied[i]: the index of the last event at event i's millisecond.
  const tied =
    shape.order === 'STRICT'
      ? [
          `arrayReverseFill(x -> x != 0, arrayMap(i -> if(i = length(ts) OR ts[i + 1] != ts[i], i, 0), idx)) AS last_tied`,
        ]
      : [];
  // p{s}[j]: the event that the way from entry j (of `entries`) takes for step s, 0 for none;
  // the greedy way of funnel-ways.ts, where STRICT lets only events of the same millisecond by.
  const taken = range(k)
    .slice(1)
    .map((s) => {
      const before = s === 1 ? 'entries' : `p${s - 1}`;
      const candidate = `a${s}[p + 1]`;
      const strict =
        shape.order === 'STRICT'
          ? `if(${candidate} != 0 AND ${candidate} <= last_tied[p] + 1, ${candidate}, 0)`
          : candidate;
      return `arrayMap(p -> if(p = 0, 0, ${strict}), ${before}) AS p${s}`;
    });
  // UNORDERED: each other step's first event at or after the entry (one step per event).
  const stepEvents = unordered
    ? range(k).map((s) => `arrayMap(i -> a${s}[i], entries)`)
    : ['entries', ...taken.map((_, i) => `p${i + 1}`)];
  // r{s}[j]: whether the way from entry j reaches step s within the window of its entry.
  const reached = stepEvents.map(
    (p, s) => `arrayMap((p, i) -> p != 0 AND ts[p] <= ts[i] + ${window}, ${p}, entries) AS r${s}`,
  );
  const lambdaArgs = range(k).map((s) => `x${s}`);
  const levels = `arrayMap((${lambdaArgs.join(', ')}) -> toUInt32(${lambdaArgs.join(' + ')}), ${range(
    k,
  )
    .map((s) => `r${s}`)
    .join(', ')}) AS levels`;
  // The first entry whose way reaches the furthest; its step times in the order they came.
  const at = (p: string) => (p === 'entries' ? 'ts[entries[best]]' : `ts[${p}[best]]`);
  const times = unordered
    ? `arraySort(arrayFilter((t, r) -> r, [${range(k)
        .map((s) => `ts[a${s}[entries[best]]]`)
        .join(', ')}], [${range(k)
        .map((s) => `r${s}[best]`)
        .join(', ')}]))`
    : `arraySlice([${stepEvents.map(at).join(', ')}], 1, level)`;
  // Without a breakdown the events carry no group text at all.
  const grouped = shape.breakdownLimit !== null;
  const group = grouped ? 'gs[entries[best]]' : "''";

  const people = `
    SELECT ${group} AS g, level,
           arrayMap(i -> (way[i + 1] - way[i]) / 1000, range(1, toUInt64(level))) AS seconds
    FROM (
      SELECT arraySort(x -> (x.1, if(x.2 = 0, 32, bitCount(bitXor(x.2, x.2 - 1)) - 1), x.2),
                       groupArray(${grouped ? '(t, m, g)' : '(t, m)'})) AS ev,
             arrayMap(x -> x.1, ev) AS ts, arrayMap(x -> x.2, ev) AS ms,
             ${grouped ? 'arrayMap(x -> x.3, ev) AS gs,' : ''}
             arrayEnumerate(ev) AS idx,
             arrayFilter((i, m, t) -> ${entry}, idx, ms, ts) AS entries,
             ${[...next, ...tied, ...taken, ...reached, levels].join(',\n             ')},
             arrayMax(levels) AS level,
             arrayFirstIndex(l -> l = level, levels) AS best,
             ${times} AS way
      FROM (${tagged})
      GROUP BY person
      HAVING countIf(${entry}) > 0
    )`;
  const perGroup = `
    SELECT g, ${range(k)
      .map(
        (s) =>
          `countIf(level > ${s}) AS u${s}` +
          (s > 0 ? `, groupArrayIf(seconds[${s}], level > ${s}) AS d${s}` : ''),
      )
      .join(', ')}
    FROM (${people}) GROUP BY g`;
  const seconds = (s: number) => `arrayFlatten(groupArray(d${s}))`;
  const figures = [
    `[${range(k)
      .map((s) => `sum(u${s})`)
      .join(', ')}] AS users`,
    `[NULL, ${range(k)
      .slice(1)
      .map(
        (s) =>
          `if(empty(${seconds(s)}), NULL, arrayReduce('quantileExactInclusive(0.5)', ${seconds(s)}))`,
      )
      .join(', ')}] AS medians`,
    `[NULL, ${range(k)
      .slice(1)
      .map((s) => `if(empty(${seconds(s)}), NULL, arrayAvg(${seconds(s)}))`)
      .join(', ')}] AS averages`,
  ].join(', ');
  const limit = shape.breakdownLimit;
  if (limit === null) {
    return `SELECT 1 AS everyone, 0 AS top, '' AS g, ${figures} FROM (${perGroup})`;
  }
  // Groups best first by people (ties: by text, not set last); past the limit, one Other group.
  const ranked = `
    SELECT *, row_number() OVER (ORDER BY u0 DESC, g = char(0), g) <= ${params.bind(limit, 'UInt32')} AS is_top,
           if(is_top, g, '') AS top_g
    FROM (${perGroup})`;
  return `
    SELECT toUInt8(grouping(is_top) = 1) AS everyone, is_top AS top, top_g AS g, ${figures}
    FROM (${ranked})
    GROUP BY GROUPING SETS ((is_top, top_g), ())`;
}
