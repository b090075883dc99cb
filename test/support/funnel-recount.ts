// An independent recount of product funnels and retention (schema/subgraphs/product.graphql) over
// the app events as sent: plain TypeScript, local periods by luxon, written from the SDL's doc
// strings and nothing else. Funnels are counted by brute force: every way through the funnel of
// every person is enumerated, then the best one is kept, so no cleverness can hide a miscount.
//
// Readings of the SDL this recount takes (where it says less than a test needs):
// - The window is inclusive: a step counts at entry + window exactly (as PostHog's `<=`).
// - Exclusions: an exclusion event invalidates a way when it falls strictly after the way's
//   `fromStep` event and strictly before its `toStep` event. For a way that has not reached
//   `toStep`, "between" runs from its `fromStep` event to the end of its window (entry + window,
//   inclusive): the time in which it was still on its way to `toStep`. A way that has not reached
//   `fromStep` is never excluded. So a person who did A, B, X (X excluded between B and C) and
//   never C counts at A only, not at B.
// - Of a person's ways reaching the furthest step with the earliest entry, the one whose step
//   times are earliest, step by step, gives the times (Amplitude's "earliest-longest").
// - UNORDERED: a way is any set of distinct events, one per step it covers, all within the window
//   from the earliest of them, which is its entry and must fall in the range (whatever step it
//   is, as PostHog's any-order funnels). Step i of it is its (i + 1)-th event in time, and a
//   person counts at step i when their way covers i + 1 steps.
// - STRICT: "the user's events" are all the app's events of that user, of any name or property.
// - Retention: a cohort's `start` is its period's local start, even before the range's `from`
//   ("the cohort's period start"; trends' buckets say they are clipped, cohorts do not).
import { DateTime } from 'luxon';
import {
  holds,
  personsOf,
  propertyAt,
  type AppEvent,
  type Breakdown,
  type Persons,
  type PropertyFilter,
} from './product-recount.ts';

export type { AppEvent, Breakdown, PropertyFilter };
export type FunnelOrder = 'ORDERED' | 'STRICT' | 'UNORDERED';
export type WindowUnit = 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';

/** The GraphQL inputs, as plain JSON: the same object is the query's variable and the recount's. */
export interface Duration {
  value: number;
  unit: WindowUnit;
}
export interface FunnelStep {
  event: string;
  where?: PropertyFilter;
}
export interface FunnelExclusion {
  event: string;
  where?: PropertyFilter;
  fromStep?: number;
  toStep?: number;
}
export interface FunnelQuery {
  range: { from: string; to: string };
  steps: FunnelStep[];
  order?: FunnelOrder;
  window?: Duration;
  where?: PropertyFilter;
  exclusions?: FunnelExclusion[];
  breakdown?: Breakdown;
  breakdownLimit?: number;
}

export interface FunnelStepResult {
  step: number;
  event: string;
  users: number;
  conversionFromPrevious: number | null;
  conversionFromFirst: number | null;
  medianSecondsToConvert: number | null;
  averageSecondsToConvert: number | null;
}
export interface FunnelBreakdown {
  breakdown: (string | null)[];
  other: boolean;
  steps: FunnelStepResult[];
}
/** What `funnel` answers, with instants as epoch milliseconds. */
export interface Funnel {
  from: number;
  to: number;
  order: FunnelOrder;
  windowSeconds: number;
  steps: FunnelStepResult[];
  breakdowns: FunnelBreakdown[];
}

const UNIT_SECONDS: Record<WindowUnit, number> = {
  SECOND: 1,
  MINUTE: 60,
  HOUR: 3_600,
  DAY: 86_400, // a DAY is 24 hours, a WEEK 7 days, a MONTH 30 days
  WEEK: 7 * 86_400,
  MONTH: 30 * 86_400,
};

export const windowSecondsOf = (window: Duration | undefined): number =>
  window === undefined ? 14 * 86_400 : window.value * UNIT_SECONDS[window.unit];

// ---- One person's ways ----

/** One of a person's events, with its instant. */
interface Timed {
  at: number;
  event: AppEvent;
}

/**
 * A way through the funnel: its events, the first its entry. Under ORDERED and STRICT `events[i]`
 * did step i; under UNORDERED they are in time order, whichever steps they did.
 */
interface Way {
  events: Timed[];
}
const reached = (way: Way) => way.events.length - 1;

interface Prepared {
  from: number;
  to: number;
  order: FunnelOrder;
  windowMs: number;
  last: number;
  matchesStep: (e: AppEvent, step: number) => boolean;
  exclusions: { from: number; to: number; matches: (e: AppEvent) => boolean }[];
}

const inRange = (q: Prepared, at: number) => at >= q.from && at < q.to;

/** STRICT: another event of the person strictly between two steps; one at the same ms never is. */
function brokenBetween(all: readonly Timed[], a: Timed, b: Timed): boolean {
  return all.some((x) => x !== a && x !== b && x.at > a.at && x.at < b.at);
}

/** ORDERED and STRICT: every chain of distinct events, each step at or after the one before. */
function sequentialWays(all: readonly Timed[], q: Prepared): Way[] {
  const ways: Way[] = [];
  const candidates = Array.from({ length: q.last + 1 }, (_, s) =>
    all.filter((t) => q.matchesStep(t.event, s)),
  );
  const extend = (chain: Timed[]) => {
    ways.push({ events: chain }); // every prefix is itself a way, reaching its last step
    const step = chain.length;
    if (step > q.last) return;
    const entry = chain[0]!;
    const previous = chain.at(-1)!;
    for (const next of candidates[step]!) {
      if (chain.includes(next)) continue; // one event does one step (page_view → page_view)
      // Same ms as the step before: taken in whichever order completes more, so allowed.
      if (next.at < previous.at || next.at - entry.at > q.windowMs) continue;
      if (q.order === 'STRICT' && brokenBetween(all, previous, next)) continue;
      extend([...chain, next]);
    }
  };
  for (const entry of candidates[0]!) if (inRange(q, entry.at)) extend([entry]);
  return ways;
}

/** UNORDERED: every set of distinct events, one per step covered, within the window of the first. */
function unorderedWays(all: readonly Timed[], q: Prepared): Way[] {
  const ways: Way[] = [];
  for (const entry of all) {
    if (!inRange(q, entry.at)) continue;
    for (let entryStep = 0; entryStep <= q.last; entryStep++) {
      if (!q.matchesStep(entry.event, entryStep)) continue;
      // Each other step: done by none, or by one event from the entry to the end of its window.
      const assign = (step: number, chosen: Timed[]) => {
        if (step > q.last) {
          ways.push({ events: [...chosen].sort((a, b) => a.at - b.at) });
          return;
        }
        if (step === entryStep) return assign(step + 1, chosen);
        assign(step + 1, chosen);
        for (const t of all) {
          if (chosen.includes(t) || !q.matchesStep(t.event, step)) continue;
          if (t.at < entry.at || t.at - entry.at > q.windowMs) continue;
          assign(step + 1, [...chosen, t]);
        }
      };
      assign(0, [entry]);
    }
  }
  return ways;
}

function excluded(way: Way, all: readonly Timed[], q: Prepared): boolean {
  const entry = way.events[0]!;
  return q.exclusions.some((x) => {
    if (reached(way) < x.from) return false; // never got to fromStep: nothing to exclude it from
    const start = way.events[x.from]!.at;
    const toEvent = way.events[x.to];
    // Not at toStep yet: it was on its way there until its window closed.
    const between = toEvent
      ? (at: number) => at > start && at < toEvent.at
      : (at: number) => at > start && at <= entry.at + q.windowMs;
    return all.some((t) => between(t.at) && x.matches(t.event));
  });
}

/** Furthest first; then the earliest entry; then the earliest times step by step. */
function better(a: Way, b: Way): boolean {
  if (reached(a) !== reached(b)) return reached(a) > reached(b);
  for (let i = 0; i < a.events.length; i++) {
    if (a.events[i]!.at !== b.events[i]!.at) return a.events[i]!.at < b.events[i]!.at;
  }
  return false;
}

/** The person's best valid way, or null when they did not enter. */
function bestWay(all: readonly Timed[], q: Prepared): Way | null {
  const ways = q.order === 'UNORDERED' ? unorderedWays(all, q) : sequentialWays(all, q);
  let best: Way | null = null;
  for (const way of ways) {
    if (excluded(way, all, q)) continue;
    if (best === null || better(way, best)) best = way;
  }
  return best;
}

// ---- Figures over a group of people ----

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  // An even count: the mean of the two middle values.
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const average = (values: readonly number[]) =>
  values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;

function stepResults(ways: readonly Way[], steps: readonly FunnelStep[]): FunnelStepResult[] {
  const users = steps.map((_, i) => ways.filter((w) => reached(w) >= i).length);
  return steps.map((s, i) => {
    const seconds =
      i === 0
        ? []
        : ways
            .filter((w) => reached(w) >= i)
            .map((w) => (w.events[i]!.at - w.events[i - 1]!.at) / 1000);
    const previous = i === 0 ? null : users[i - 1]!;
    return {
      step: i,
      event: s.event,
      users: users[i]!,
      conversionFromPrevious: i === 0 ? 1 : previous === 0 ? null : users[i]! / previous!,
      conversionFromFirst: users[0] === 0 ? null : users[i]! / users[0]!,
      medianSecondsToConvert: i === 0 ? null : median(seconds),
      averageSecondsToConvert: i === 0 ? null : average(seconds),
    };
  });
}

function textOf(v: unknown): string {
  return Array.isArray(v) ? JSON.stringify(v) : String(v);
}

/** Ties by text, null last. */
function compareValues(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function breakdowns(
  ways: readonly Way[],
  query: FunnelQuery,
  persons: Persons,
  breakdown: Breakdown,
): FunnelBreakdown[] {
  const limit = query.breakdownLimit ?? 25;
  // First touch: the value on the entry event of the person's way.
  const valueOf = (w: Way): string | null => {
    const entry = w.events[0]!.event;
    const v = breakdown.person
      ? persons.get(entry.userId!)?.get(breakdown.property)
      : propertyAt(entry.properties, breakdown.property);
    return v === undefined ? null : textOf(v);
  };
  const groups = new Map<string | null, Way[]>();
  for (const w of ways) {
    const v = valueOf(w);
    groups.set(v, [...(groups.get(v) ?? []), w]);
  }
  const ranked = [...groups.entries()].sort(
    (a, b) => b[1].length - a[1].length || compareValues(a[0], b[0]),
  );
  const top = ranked.slice(0, limit).map(([value, group]) => ({
    breakdown: [value],
    other: false,
    steps: stepResults(group, query.steps),
  }));
  const rest = ranked.slice(limit).flatMap(([, group]) => group);
  return rest.length === 0
    ? top
    : [...top, { breakdown: [], other: true, steps: stepResults(rest, query.steps) }];
}

// ---- The whole query ----

/** Each person's events of the app, in time order; events without a userId are nobody's. */
function byPerson(all: readonly AppEvent[]): Map<string, Timed[]> {
  const people = new Map<string, Timed[]>();
  for (const event of all) {
    if (event.userId === undefined) continue;
    const list = people.get(event.userId) ?? [];
    list.push({ at: Date.parse(event.occurredAt), event });
    people.set(event.userId, list);
  }
  for (const list of people.values()) list.sort((a, b) => a.at - b.at);
  return people;
}

export function recountFunnel(all: readonly AppEvent[], query: FunnelQuery): Funnel {
  const persons = personsOf(all);
  const order = query.order ?? 'ORDERED';
  const last = query.steps.length - 1;
  const windowSeconds = windowSecondsOf(query.window);
  const passes = (f: PropertyFilter | undefined, e: AppEvent) =>
    f === undefined || holds(f, e, persons);
  const q: Prepared = {
    from: Date.parse(query.range.from),
    to: Date.parse(query.range.to),
    order,
    windowMs: windowSeconds * 1000,
    last,
    matchesStep: (e, s) => {
      const step = query.steps[s]!;
      return e.name === step.event && passes(step.where, e) && passes(query.where, e);
    },
    exclusions: (query.exclusions ?? []).map((x) => ({
      // Under UNORDERED an exclusion covers the whole funnel.
      from: order === 'UNORDERED' ? 0 : (x.fromStep ?? 0),
      to: order === 'UNORDERED' ? last : (x.toStep ?? last),
      matches: (e: AppEvent) => e.name === x.event && passes(x.where, e) && passes(query.where, e),
    })),
  };
  const ways: Way[] = [];
  for (const events of byPerson(all).values()) {
    const way = bestWay(events, q);
    if (way !== null) ways.push(way);
  }
  return {
    from: q.from,
    to: q.to,
    order,
    windowSeconds,
    steps: stepResults(ways, query.steps),
    breakdowns: query.breakdown ? breakdowns(ways, query, persons, query.breakdown) : [],
  };
}

// ---- Retention ----

export type RetentionPeriod = 'DAY' | 'WEEK' | 'MONTH';
export type RetentionCriterion = 'ON' | 'ON_OR_AFTER';
export interface RetentionQuery {
  range: { from: string; to: string };
  period?: RetentionPeriod;
  timeZone?: string;
  startEvent: FunnelStep;
  returnEvent: FunnelStep;
  criterion?: RetentionCriterion;
  periods?: number;
}
export interface RetentionCohort {
  start: number;
  users: number;
  retained: (number | null)[];
  rates: (number | null)[];
}
export interface Retention {
  from: number;
  to: number;
  timeZone: string;
  period: RetentionPeriod;
  cohorts: RetentionCohort[];
}

const PERIOD_UNIT = { DAY: 'day', WEEK: 'week', MONTH: 'month' } as const; // luxon weeks: ISO
const PERIOD_PLURAL = { DAY: 'days', WEEK: 'weeks', MONTH: 'months' } as const;

export function recountRetention(
  all: readonly AppEvent[],
  query: RetentionQuery,
  organisationZone: string,
  now: number,
): Retention {
  const zone = query.timeZone ?? organisationZone;
  const period = query.period ?? 'DAY';
  const criterion = query.criterion ?? 'ON';
  const periods = query.periods ?? 7;
  const from = Date.parse(query.range.from);
  const to = Date.parse(query.range.to);
  const persons = personsOf(all);
  const first = DateTime.fromMillis(from, { zone }).startOf(PERIOD_UNIT[period]);
  // Calendar steps from the local start of the first period: a local day is 23 to 25 hours.
  const periodStart = (i: number) => first.plus({ [PERIOD_PLURAL[period]]: i }).toMillis();
  const periodIndex = (at: number) => {
    let i = 0;
    while (periodStart(i + 1) <= at) i++;
    return i;
  };
  const matches = (step: FunnelStep, e: AppEvent) =>
    e.name === step.event && (step.where === undefined || holds(step.where, e, persons));

  const cohortCount = (() => {
    let n = 0;
    while (periodStart(n) < to) n++;
    return n;
  })();
  const members = Array.from({ length: cohortCount }, () => new Set<string>());
  for (const [user, events] of byPerson(all)) {
    const start = events.find(
      (t) => t.at >= from && t.at < to && matches(query.startEvent, t.event),
    );
    if (start) members[periodIndex(start.at)]!.add(user);
  }
  const returns = new Map<string, number[]>();
  for (const [user, events] of byPerson(all)) {
    returns.set(
      user,
      events.filter((t) => matches(query.returnEvent, t.event)).map((t) => t.at),
    );
  }

  const cohorts = members.map((users, c): RetentionCohort => {
    const retained = Array.from({ length: periods + 1 }, (_, k): number | null => {
      if (k === 0) return users.size; // the cohort's own period: every person of it
      const begins = periodStart(c + k);
      const ends = periodStart(c + k + 1);
      if (begins > now) return null; // a period that has not begun
      let n = 0;
      for (const user of users) {
        const times = returns.get(user) ?? [];
        const back =
          criterion === 'ON'
            ? times.some((at) => at >= begins && at < ends)
            : times.some((at) => at >= begins); // in it or any later period
        if (back) n++;
      }
      return n;
    });
    return {
      start: periodStart(c),
      users: users.size,
      retained,
      rates: retained.map((r) => (r === null || users.size === 0 ? null : r / users.size)),
    };
  });
  return { from, to, timeZone: zone, period, cohorts };
}
