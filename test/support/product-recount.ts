// An independent recount of product trends (schema/subgraphs/product.graphql) over the app events
// as sent: plain TypeScript, local time by luxon, written from the SDL's doc strings and nothing
// else, so that a number the API answers can be checked without trusting its own code.
import { DateTime, type DurationLike } from 'luxon';
import type { EventInput } from '../../schema/event-envelope.ts';

export type AppEvent = Extract<EventInput, { type: 'app' }>;
export type TrendInterval = 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';
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
export type FilterOp =
  | 'EQ'
  | 'NEQ'
  | 'IN'
  | 'NOT_IN'
  | 'CONTAINS'
  | 'REGEX'
  | 'GT'
  | 'GTE'
  | 'LT'
  | 'LTE'
  | 'IS_SET'
  | 'IS_NOT_SET';
export type Scalar = string | number | boolean;

/** The GraphQL inputs, as plain JSON: the same object is the query's variable and the recount's. */
export interface PropertyFilter {
  and?: PropertyFilter[];
  or?: PropertyFilter[];
  property?: string;
  person?: boolean;
  op?: FilterOp;
  value?: Scalar | Scalar[];
}
export interface TrendSeries {
  event?: string | null;
  where?: PropertyFilter;
  math?: TrendMath;
  property?: string;
  aggregate?: Aggregate;
}
export interface Breakdown {
  property: string;
  person?: boolean;
}
export interface TrendsQuery {
  range: { from: string; to: string };
  interval?: TrendInterval;
  timeZone?: string;
  series: TrendSeries[];
  where?: PropertyFilter;
  breakdown?: Breakdown[];
  breakdownLimit?: number;
  compare?: boolean;
  formulas?: string[];
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
/** What `trends` answers, with instants as epoch milliseconds. */
export interface Trends {
  from: number;
  to: number;
  timeZone: string;
  interval: TrendInterval;
  buckets: number[];
  previousBuckets: number[] | null;
  results: TrendResult[];
}

/** 1.04 / √4096: the relative standard error of a HyperLogLog of 4,096 registers. */
export const HLL_STANDARD_ERROR = 0.01625;

// ---- Time ----

const UNIT = {
  MINUTE: 'minute',
  HOUR: 'hour',
  DAY: 'day',
  WEEK: 'week', // luxon's weeks are ISO weeks, Monday first
  MONTH: 'month',
} as const;
const STEP: Record<TrendInterval, DurationLike> = {
  MINUTE: { minutes: 1 },
  HOUR: { hours: 1 },
  DAY: { days: 1 },
  WEEK: { weeks: 1 },
  MONTH: { months: 1 },
};

export interface Period {
  from: number;
  to: number;
  /** Bucket starts, each a local calendar start; the first at or before `from`. */
  starts: number[];
}

export function bucketStarts(
  from: number,
  to: number,
  interval: TrendInterval,
  zone: string,
): number[] {
  // Calendar steps from the local floor: a day stays midnight to midnight across DST (23 or 25 h).
  let local = DateTime.fromMillis(from, { zone }).startOf(UNIT[interval]);
  const starts = [local.toMillis()];
  for (;;) {
    local = local.plus(STEP[interval]);
    if (local.toMillis() >= to) return starts;
    starts.push(local.toMillis());
  }
}

function periodOf(from: number, to: number, interval: TrendInterval, zone: string): Period {
  return { from, to, starts: bucketStarts(from, to, interval, zone) };
}

/** The index of the bucket holding `at`, or -1 outside [from, to). */
function bucketIndex(period: Period, at: number): number {
  if (at < period.from || at >= period.to) return -1;
  let i = period.starts.length - 1;
  while (period.starts[i]! > at) i--;
  return i;
}

const bucketEnd = (period: Period, i: number) => period.starts[i + 1] ?? period.to;

const ROLLING_DAYS: Partial<Record<TrendMath, number>> = { DAU: 1, WAU: 7, MAU: 30 };

/** DAU/WAU/MAU: from local midnight of the bucket's day, N − 1 days back, to the bucket's end. */
function rollingWindow(period: Period, i: number, days: number, zone: string) {
  const day = DateTime.fromMillis(period.starts[i]!, { zone }).startOf('day');
  return { from: day.minus({ days: days - 1 }).toMillis(), to: bucketEnd(period, i) };
}

// ---- Properties ----

type Value = Scalar | unknown[];

/**
 * The value at a dotted path, or undefined when not set: missing, null, or an object (filters
 * and breakdowns name values, not objects).
 */
export function propertyAt(properties: Record<string, unknown>, path: string): Value | undefined {
  let v: unknown = properties;
  for (const name of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    if (!Object.hasOwn(v, name)) return undefined;
    v = (v as Record<string, unknown>)[name];
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v as unknown[];
  return undefined;
}

/** A scalar as itself, 42, 1.5, true; a list by its JSON text. */
function textOf(v: Value): string {
  return Array.isArray(v) ? JSON.stringify(v) : String(v);
}

/** Person properties: each user's latest value of each name. */
export type Persons = Map<string, Map<string, Scalar>>;

/**
 * `set`: the latest by event time wins, null unsets. `setOnce`: only for a name the person never
 * had a `set` of; the earliest wins.
 */
export function personsOf(events: readonly AppEvent[]): Persons {
  const byTime = [...events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  const latestSet = new Map<string, Map<string, Scalar | null>>();
  const firstOnce = new Map<string, Map<string, Scalar | null>>();
  for (const e of byTime) {
    if (e.userId === undefined) continue;
    const sets = latestSet.get(e.userId) ?? new Map<string, Scalar | null>();
    const onces = firstOnce.get(e.userId) ?? new Map<string, Scalar | null>();
    latestSet.set(e.userId, sets);
    firstOnce.set(e.userId, onces);
    for (const [name, value] of Object.entries(e.set ?? {})) sets.set(name, value);
    for (const [name, value] of Object.entries(e.setOnce ?? {})) {
      if (!onces.has(name)) onces.set(name, value);
    }
  }
  const persons: Persons = new Map();
  for (const [user, sets] of latestSet) {
    const properties = new Map<string, Scalar>();
    for (const [name, value] of firstOnce.get(user) ?? []) {
      if (!sets.has(name) && value !== null) properties.set(name, value);
    }
    for (const [name, value] of sets) if (value !== null) properties.set(name, value);
    persons.set(user, properties);
  }
  return persons;
}

function valueOf(
  e: AppEvent,
  target: { property: string; person?: boolean | undefined },
  persons: Persons,
): Value | undefined {
  if (!target.person) return propertyAt(e.properties, target.property);
  return e.userId === undefined ? undefined : persons.get(e.userId)?.get(target.property);
}

// ---- Filters ----

function isScalar(v: Value | undefined): v is Scalar {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function asList(value: PropertyFilter['value']): Scalar[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

export function holds(f: PropertyFilter, e: AppEvent, persons: Persons): boolean {
  if (f.and) return f.and.every((g) => holds(g, e, persons));
  if (f.or) return f.or.some((g) => holds(g, e, persons));
  const v = valueOf(e, { property: f.property!, person: f.person }, persons);
  const wanted = asList(f.value).map(String);
  const number = Number(f.value);
  switch (f.op!) {
    case 'EQ':
    case 'IN':
      // Only a string, number or boolean has a text to compare; a list never equals.
      return isScalar(v) && wanted.includes(textOf(v));
    case 'NEQ':
    case 'NOT_IN':
      return !(isScalar(v) && wanted.includes(textOf(v)));
    case 'CONTAINS':
      return isScalar(v) && textOf(v).toLowerCase().includes(String(f.value).toLowerCase());
    case 'REGEX':
      // The tests' patterns mean the same in RE2 and JavaScript; match() is a search, unanchored.
      return isScalar(v) && new RegExp(String(f.value)).test(textOf(v));
    case 'GT':
      return typeof v === 'number' && v > number;
    case 'GTE':
      return typeof v === 'number' && v >= number;
    case 'LT':
      return typeof v === 'number' && v < number;
    case 'LTE':
      return typeof v === 'number' && v <= number;
    case 'IS_SET':
      return v !== undefined;
    case 'IS_NOT_SET':
      return v === undefined;
  }
}

// ---- Aggregates ----

const QUANTILE: Partial<Record<Aggregate, number>> = {
  MEDIAN: 0.5,
  P90: 0.9,
  P95: 0.95,
  P99: 0.99,
};

/** The value at rank (n − 1) × p of the sorted values, interpolated linearly. */
export function quantile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * p;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function aggregate(values: readonly number[], how: Aggregate): number | null {
  if (how === 'SUM') return values.reduce((s, v) => s + v, 0); // SUM of none is 0
  if (values.length === 0) return null; // the others of none are null
  if (how === 'AVG') return values.reduce((s, v) => s + v, 0) / values.length;
  if (how === 'MIN') return Math.min(...values);
  if (how === 'MAX') return Math.max(...values);
  return quantile(values, QUANTILE[how]!);
}

// ---- One series over one group ----

/** The series' figure over a set of events (a bucket's, a rolling window's or the range's). */
function figure(series: TrendSeries, events: readonly AppEvent[]): number | null {
  const math = series.math ?? 'TOTAL';
  if (math === 'TOTAL') return events.length;
  if (math === 'PROPERTY') {
    const numbers = events
      .map((e) => propertyAt(e.properties, series.property!))
      .filter((v): v is number => typeof v === 'number');
    return aggregate(numbers, series.aggregate!);
  }
  const perUser = new Map<string, number>();
  for (const e of events) {
    // Events without a userId count in no user figure.
    if (e.userId !== undefined) perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1);
  }
  if (math === 'COUNT_PER_USER') return aggregate([...perUser.values()], series.aggregate!);
  return perUser.size; // UNIQUE_USERS, its estimate, DAU, WAU, MAU
}

function measure(
  series: TrendSeries,
  events: readonly AppEvent[],
  period: Period,
  zone: string,
): TrendPeriod {
  const within = (from: number, to: number) =>
    events.filter((e) => {
      const at = Date.parse(e.occurredAt);
      return at >= from && at < to;
    });
  const days = ROLLING_DAYS[series.math ?? 'TOTAL'];
  if (days !== undefined) {
    const values = period.starts.map((_, i) => {
      const w = rollingWindow(period, i, days, zone);
      return figure(series, within(w.from, w.to));
    });
    return { total: null, values };
  }
  const buckets = period.starts.map((): AppEvent[] => []);
  for (const e of events) {
    const i = bucketIndex(period, Date.parse(e.occurredAt));
    if (i >= 0) buckets[i]!.push(e);
  }
  return {
    total: figure(series, within(period.from, period.to)),
    values: buckets.map((b) => figure(series, b)),
  };
}

/** Where a series' figures may reach: the range, and for DAU/WAU/MAU the days before it. */
function reach(series: TrendSeries, period: Period, zone: string) {
  const days = ROLLING_DAYS[series.math ?? 'TOTAL'];
  return days === undefined ? period : { ...rollingWindow(period, 0, days, zone), to: period.to };
}

// ---- Breakdown ----

type Group = (string | null)[];

function groupOf(e: AppEvent, breakdown: readonly Breakdown[], persons: Persons): Group {
  return breakdown.map((b) => {
    const v = valueOf(e, b, persons);
    return v === undefined ? null : textOf(v);
  });
}

/** Ties by the values' text, null last. */
function compareGroups(a: Group, b: Group): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function rankScore(p: TrendPeriod, math: TrendMath): number {
  if (ROLLING_DAYS[math] !== undefined) return p.values.reduce<number>((s, v) => s + (v ?? 0), 0);
  return p.total ?? -Infinity;
}

// ---- Formulas ----

type Operand = number | null;

/** + - * / and parentheses over letters and numbers; any null operand or a division by 0: null. */
export function evaluateFormula(formula: string, letters: Record<string, Operand>): Operand {
  const tokens = formula.match(/\d+(?:\.\d+)?|[A-Z]|[-+*/()]/g) ?? [];
  let at = 0;
  const apply = (op: string, x: Operand, y: Operand): Operand => {
    if (x === null || y === null) return null;
    if (op === '+') return x + y;
    if (op === '-') return x - y;
    if (op === '*') return x * y;
    return y === 0 ? null : x / y;
  };
  const factor = (): Operand => {
    const t = tokens[at++]!;
    if (t === '(') {
      const v = sum();
      at++; // ')'
      return v;
    }
    if (t === '-') return apply('-', 0, factor());
    if (/^[A-Z]$/.test(t)) return letters[t] ?? null;
    return Number(t);
  };
  const product = (): Operand => {
    let v = factor();
    while (tokens[at] === '*' || tokens[at] === '/') v = apply(tokens[at++]!, v, factor());
    return v;
  };
  const sum = (): Operand => {
    let v = product();
    while (tokens[at] === '+' || tokens[at] === '-') v = apply(tokens[at++]!, v, product());
    return v;
  };
  return sum();
}

function formulaOver(formula: string, periods: readonly TrendPeriod[]): TrendPeriod {
  const letters = (pick: (p: TrendPeriod) => Operand) =>
    Object.fromEntries(periods.map((p, i) => [String.fromCharCode(65 + i), pick(p)]));
  return {
    total: evaluateFormula(
      formula,
      letters((p) => p.total),
    ),
    values: periods[0]!.values.map((_, j) =>
      evaluateFormula(
        formula,
        letters((p) => p.values[j] ?? null),
      ),
    ),
  };
}

// ---- The whole query ----

export function recountTrends(
  all: readonly AppEvent[],
  query: TrendsQuery,
  organisationZone: string,
): Trends {
  const zone = query.timeZone ?? organisationZone;
  const interval = query.interval ?? 'DAY';
  const from = Date.parse(query.range.from);
  const to = Date.parse(query.range.to);
  const current = periodOf(from, to, interval, zone);
  const previous = query.compare ? periodOf(from - (to - from), from, interval, zone) : null;
  const persons = personsOf(all);
  const breakdown = query.breakdown ?? [];
  const limit = query.breakdownLimit ?? 25;

  const matching = query.series.map((s) =>
    all.filter(
      (e) =>
        (s.event == null || e.name === s.event) &&
        (s.where === undefined || holds(s.where, e, persons)) &&
        (query.where === undefined || holds(query.where, e, persons)),
    ),
  );

  // Groups: the value tuples of the first series' events, ranked by its figure over the range.
  const first = query.series[0]!;
  const firstEvents = matching[0]!;
  const span = reach(first, current, zone);
  const candidates = new Map<string, Group>();
  for (const e of firstEvents) {
    const at = Date.parse(e.occurredAt);
    if (at < span.from || at >= span.to) continue;
    const g = groupOf(e, breakdown, persons);
    candidates.set(JSON.stringify(g), g);
  }
  const ranked =
    breakdown.length === 0
      ? [{ group: [] as Group, key: '[]' }]
      : [...candidates.entries()]
          .map(([key, group]) => {
            const events = firstEvents.filter(
              (e) => JSON.stringify(groupOf(e, breakdown, persons)) === key,
            );
            const score = rankScore(measure(first, events, current, zone), first.math ?? 'TOTAL');
            return { key, group, score };
          })
          .sort((a, b) => b.score - a.score || compareGroups(a.group, b.group));
  const top = ranked.slice(0, breakdown.length === 0 ? 1 : limit);
  const topKeys = new Set(top.map((g) => g.key));
  // Other is built for every breakdown, and kept below when it counts anything.
  const groups = [
    ...top.map((g) => ({ breakdown: g.group, other: false, keys: (k: string) => k === g.key })),
    ...(breakdown.length > 0
      ? [{ breakdown: [] as Group, other: true, keys: (k: string) => !topKeys.has(k) }]
      : []),
  ];

  const seriesResults: TrendResult[][] = query.series.map((s, i) =>
    groups.map((g) => {
      const events =
        breakdown.length === 0
          ? matching[i]!
          : matching[i]!.filter((e) => g.keys(JSON.stringify(groupOf(e, breakdown, persons))));
      const math = s.math ?? 'TOTAL';
      return {
        label: String.fromCharCode(65 + i),
        event: s.event ?? null,
        math,
        breakdown: g.breakdown,
        other: g.other,
        ...measure(s, events, current, zone),
        previous: previous ? measure(s, events, previous, zone) : null,
        standardError: math === 'UNIQUE_USERS_APPROX' ? HLL_STANDARD_ERROR : null,
      };
    }),
  );
  // Other stays when the first series overflowed the limit, or when some series' Other has a
  // figure other than 0 or null (a value only a later series has).
  const counts = (p: { total: number | null; values: (number | null)[] } | null) =>
    p !== null && [p.total, ...p.values].some((v) => v !== null && v !== 0);
  const keepOther =
    ranked.length > limit ||
    seriesResults.some((rs) => {
      const o = rs.find((r) => r.other);
      return o !== undefined && (counts(o) || counts(o.previous));
    });
  if (breakdown.length > 0 && !keepOther) {
    groups.pop();
    for (const rs of seriesResults) rs.pop();
  }
  const formulaResults = (query.formulas ?? []).flatMap((formula) =>
    groups.map((g, j): TrendResult => {
      const operands = seriesResults.map((rs) => rs[j]!);
      return {
        label: formula,
        event: null,
        math: null,
        breakdown: g.breakdown,
        other: g.other,
        ...formulaOver(formula, operands),
        previous: previous
          ? formulaOver(
              formula,
              operands.map((r) => r.previous!),
            )
          : null,
        standardError: null,
      };
    }),
  );
  return {
    from,
    to,
    timeZone: zone,
    interval,
    buckets: current.starts,
    previousBuckets: previous?.starts ?? null,
    results: [...seriesResults.flat(), ...formulaResults],
  };
}
