// The funnel walk of funnel-ways.ts done inside ClickHouse, for funnels it can answer exactly the
// same way: without exclusions, and (UNORDERED) with steps on distinct event names, so that an
// event matches one step at most. Each person's events become sorted arrays, and the greedy way
// from every entry is found at once, by passes over whole arrays that carry each step's time
// back from the next event matching it: linear in the person's events, not a scan per entry.
// Only the figures per breakdown group and for everyone leave the engine, not the events.
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
 * Arrays over a person's sorted events (ts, ms, idx), every one aligned with them, so that each
 * is built by passes over whole arrays: a lambda that looked another array up by index would
 * copy that array once per element, quadratic in the person's events.
 */
interface WayArrays {
  columns: string[];
  /** The array whose element i is the time the way from event i takes for step t, 0 for none. */
  time(t: number): string;
}

/** `arr` with each element replaced by the value at the next element where `flag` holds. */
const atNext = (arr: string, flag: string) =>
  `arrayPushBack(arrayPopFront(arrayReverseFill((x, f) -> f, ${arr}, ${flag})), 0)`;

/**
 * ORDERED and STRICT: the greedy way of funnel-ways.ts, built from the last step back. c{s}_{t}[i]
 * is the time of step t on the way that event i continues as step s: its own time for t = s, and
 * for t > s the time of step t on the way of the next event matching step s + 1 (STRICT: only
 * when that is the next event, or one at the same millisecond), or 0 when the way stops.
 */
function orderedWays(k: number, order: FunnelOrder): WayArrays {
  const columns = range(k).map((s) => `arrayMap(m -> bitTest(m, ${s}), ms) AS b${s}`);
  if (order === 'STRICT') {
    // After the last event at event i's millisecond, the next event may not be skipped.
    columns.push(
      `arrayReverseFill(x -> x != 0, arrayMap((t, next, i) -> if(t != next, i, 0), ts, arrayPushBack(arrayPopFront(ts), -1), idx)) AS last_tied`,
    );
  }
  for (let s = k - 1; s >= 0; s--) {
    columns.push(`arrayMap((t, b) -> if(b, t, 0), ts, b${s}) AS c${s}_${s}`);
    if (s === k - 1) continue;
    const next = s + 1;
    let keep = `b${s}`;
    if (order === 'STRICT') {
      columns.push(
        `arrayMap((b, n, last) -> b AND n != 0 AND n <= last + 1, b${s}, ${atNext(`arrayMap((b, i) -> if(b, i, 0), b${next}, idx)`, `b${next}`)}, last_tied) AS keep${s}`,
      );
      keep = `keep${s}`;
    }
    for (let t = next; t < k; t++) {
      columns.push(
        `arrayMap((x, b) -> if(b, x, 0), ${atNext(`c${next}_${t}`, `b${next}`)}, ${keep}) AS c${s}_${t}`,
      );
    }
  }
  return { columns, time: (t) => `c0_${t}` };
}

/**
 * UNORDERED, one step per event: u{s}[i] is the time of the first event at or after event i that
 * matches step s (0 for none), which is where the way from entry i covers step s.
 */
function unorderedWays(k: number): WayArrays {
  const columns = range(k).flatMap((s) => [
    `arrayMap(m -> bitTest(m, ${s}), ms) AS b${s}`,
    `arrayReverseFill((x, f) -> f, arrayMap((t, b) -> if(b, t, 0), ts, b${s}), b${s}) AS u${s}`,
  ]);
  return { columns, time: (t) => `u${t}` };
}

/**
 * Figures per group over `tagged`, a statement of rows (person, t ms, m step mask, g breakdown
 * text of an entry): every event of the people, of whom those with an entry in the range count.
 */
export function walkFiguresSql(tagged: string, shape: WalkShape, params: SqlParams): string {
  const k = shape.steps;
  const window = params.bind(shape.windowMs, 'Int64');
  const entry = entrySql(shape, params);
  const arrays = shape.order === 'UNORDERED' ? unorderedWays(k) : orderedWays(k, shape.order);
  // levels[i]: how far the way from event i reaches when i is an entry (0 when not): its steps
  // whose times are set and within the window from the entry.
  const args = range(k).map((t) => `x${t}`);
  const levels = `arrayMap((e, t, ${args.join(', ')}) -> if(e, toUInt32(${args
    .map((x) => `(${x} != 0 AND ${x} <= t + ${window})`)
    .join(' + ')}), 0), arrayMap((m, t) -> ${entry}, ms, ts), ts, ${range(k)
    .map((t) => arrays.time(t))
    .join(', ')}) AS levels`;
  // The first entry whose way reaches the furthest: its step times, in the order they came.
  const times = `[${range(k)
    .map((t) => `${arrays.time(t)}[best]`)
    .join(', ')}]`;
  const way =
    shape.order === 'UNORDERED'
      ? `arraySort(arrayFilter(x -> x != 0 AND x <= deadline, ${times}))`
      : `arraySlice(${times}, 1, level)`;
  // Without a breakdown the events carry no group text at all.
  const grouped = shape.breakdownLimit !== null;

  const people = `
    SELECT ${grouped ? 'gs[best]' : "''"} AS g, level,
           arrayMap(d -> d / 1000, arrayPopFront(arrayDifference(way))) AS seconds
    FROM (
      SELECT arraySort(x -> (x.1, if(x.2 = 0, 32, bitCount(bitXor(x.2, x.2 - 1)) - 1), x.2),
                       groupArray(${grouped ? '(t, m, g)' : '(t, m)'})) AS ev,
             arrayMap(x -> x.1, ev) AS ts, arrayMap(x -> x.2, ev) AS ms,
             ${grouped ? 'arrayMap(x -> x.3, ev) AS gs,' : ''}
             arrayEnumerate(ev) AS idx,
             ${[...arrays.columns, levels].join(',\n             ')},
             arrayMax(levels) AS level,
             arrayFirstIndex(l -> l = level, levels) AS best,
             ts[best] + ${window} AS deadline,
             ${way} AS way
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
