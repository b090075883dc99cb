// Product trends through the gateway on the embedded product: every number of each answer against
// an independent recount (support/product-recount.ts) of the raw app events posted: a seeded
// stream over 40 days, ranges with unaligned ends in Los Angeles (the organisation's zone, across
// the end of daylight time) and Asia/Kolkata, every math, filter operator, breakdowns with
// "Other" and null groups, the previous period and formulas; events re-sent, another app's and
// another platform's count nowhere. Then bad input, and another organisation posting events
// under the same app id.
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EventInput } from '../schema/event-envelope.ts';
import type { RunningLoupe } from '../scripts/runtime.ts';
import { postGraphQL } from './support/graphql-http.ts';
import { postAccepted } from './support/post-events.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';
import { seeded } from './support/known-batch.ts';
import {
  HLL_STANDARD_ERROR,
  recountTrends,
  type AppEvent,
  type PropertyFilter,
  type TrendSeries,
  type Trends,
  type TrendsQuery,
} from './support/product-recount.ts';

const KEY = 'loupe_product_trends_test_0123';
const APP = 'shop-app';
const ORG_ZONE = 'America/Los_Angeles';
const KOLKATA = 'Asia/Kolkata';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const NOW = Date.now();
/** The stream: 40 days, its last event a little before now. */
const END = NOW - 2 * HOUR - 17_321;
const START = END - 40 * DAY;

/**
 * The last change of Los Angeles' offset at least 5 days before END (its end of daylight time
 * repeats 01:00–02:00, its start skips 02:00–03:00): the Los Angeles ranges go across it, and
 * the stream has a segment around it whenever it lies before the 40 days.
 */
function lastOffsetChange(before: number): number {
  const offset = (ms: number) => DateTime.fromMillis(ms, { zone: ORG_ZONE }).offset;
  let at = Math.floor(before / HOUR) * HOUR;
  while (offset(at - HOUR) === offset(at)) at -= HOUR;
  return at;
}
const DST_CHANGE = lastOffsetChange(END - 5 * DAY);
/** Whether the change repeats an hour (the end of daylight time) rather than skipping one. */
const DST_REPEATS = DateTime.fromMillis(DST_CHANGE, { zone: ORG_ZONE }).isInDST === false;
const ANCHOR = DST_CHANGE;
/** 10:17:31.250 UTC on the day of `ms`. */
const unaligned = (ms: number) => Math.floor(ms / DAY) * DAY + 10 * HOUR + 17 * MINUTE + 31_250;

interface Range {
  from: number;
  to: number;
}
const LA_DAYS: Range = {
  from: unaligned(ANCHOR - 3 * DAY),
  to: unaligned(ANCHOR + 3 * DAY) + 9 * HOUR + 24 * MINUTE + 34_250,
};
const LA_HOURS: Range = {
  from: ANCHOR - 12 * HOUR - 46 * MINUTE - 52_875,
  to: ANCHOR + 19 * HOUR + 5 * MINUTE + 6_007,
};
const KOL_DAYS: Range = {
  from: unaligned(END - 12 * DAY),
  to: unaligned(END - 12 * DAY) + 6 * DAY + 5 * HOUR + 3 * MINUTE + 7_500,
};
const KOL_HOURS: Range = {
  from: unaligned(END - 5 * DAY) + 11 * MINUTE,
  to: unaligned(END - 5 * DAY) + 47 * HOUR + 22 * MINUTE,
};
const MINUTES: Range = {
  from: unaligned(END - 2 * DAY),
  to: unaligned(END - 2 * DAY) + 133 * MINUTE,
};
const LONG: Range = { from: START + 3 * HOUR + 17 * MINUTE + 2_500, to: END + HOUR };
const MONTHS: Range = { from: START + 20 * DAY + 7 * HOUR + 1_001, to: END };
const range = (r: Range) => ({ from: iso(r.from), to: iso(r.to) });

// ---- The stream ----

const EVENT_NAMES = ['page_view', 'add_to_cart', 'purchase', 'signup'] as const;
const SOURCES = ['google', 'facebook', 'newsletter', 'bing', 'Google Ads'] as const;
const PRICES = [0.1, 4.99, 9.99, 19.99, 50, 120.5, 250] as const;
const USERS = 1400;

/**
 * Instants the ranges' edges are tested with: just before `from`, at it, at `to` − 1 ms and at
 * `to`; and both 01:30s of the Los Angeles night that repeats an hour.
 */
const EDGES = [
  ...[LA_DAYS, LA_HOURS, KOL_DAYS, KOL_HOURS, MINUTES].flatMap((r) => [
    r.from - 1,
    r.from,
    r.to - 1,
    r.to,
  ]),
  DST_CHANGE - 30 * MINUTE,
  DST_CHANGE + 30 * MINUTE,
];

function buildEvents(seed: number, prefix: string, size: number): AppEvent[] {
  const random = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  // Distinct instants: "latest by event time" must never tie.
  const used = new Set<number>();
  const unique = (ms: number) => {
    let at = ms;
    while (used.has(at)) at++;
    used.add(at);
    return at;
  };
  const times = [
    ...EDGES.map(unique),
    ...Array.from({ length: size }, () => unique(START + Math.floor(random() * (END - START)))),
    // Days either side of the offset change, whether or not the 40 days hold it.
    ...Array.from({ length: Math.floor(size / 5) }, () =>
      unique(DST_CHANGE - 5 * DAY + Math.floor(random() * 10 * DAY)),
    ),
  ];
  return times.map((at, n): AppEvent => {
    const r = random();
    const name = EVENT_NAMES[r < 0.55 ? 0 : r < 0.75 ? 1 : r < 0.9 ? 2 : 3];
    // Skewed: a few users send many events (COUNT_PER_USER has a spread); 5% send no userId.
    const userId = random() < 0.05 ? undefined : `u-${Math.floor(random() ** 1.5 * USERS)}`;
    const properties: Record<string, unknown> = {};
    const c = random();
    if (c < 0.9) properties['country'] = c < 0.4 ? 'US' : c < 0.6 ? 'FR' : c < 0.8 ? 'IN' : null;
    const d = random();
    if (d < 0.85) {
      properties['device'] = {
        type: pick(['mobile', 'desktop', 'tablet']),
        ...(random() < 0.3 ? { os: pick(['ios', 'android']) } : {}),
      };
    } else if (d < 0.93) {
      properties['device'] = { os: 'linux' }; // a device without a type
    }
    if (random() < 0.7) properties['utm_source'] = pick(SOURCES);
    if (random() < 0.6) properties['plan'] = pick(['free', 'pro', 'Enterprise', 'pro-annual']);
    if (random() < 0.3) properties['tags'] = pick([['sale'], ['sale', 'new'], []]);
    if (random() < 0.5) properties['returning'] = random() < 0.5;
    if (random() < 0.4) {
      properties['context'] = { page: { section: pick(['home', 'checkout', 'search']) } };
    }
    // Names and texts a query must quote: an apostrophe, a double quote, a backslash, non-ASCII.
    if (random() < 0.2) properties["o'k"] = pick(['yes', "it's", 'say "hi"', 'back\\slash']);
    if (random() < 0.2) properties['país'] = { ciudad: pick(['Málaga', 'Zürich', 'Köln']) };
    if (name === 'purchase') {
      // Now and then as text: not a JSON number, so no PROPERTY math or GT counts it.
      properties['revenue'] = random() < 0.06 ? '12.50' : pick(PRICES);
      properties['quantity'] = 1 + Math.floor(random() * 3);
    }
    const set: Record<string, string | number | null> = {};
    const setOnce: Record<string, string> = {};
    if (userId !== undefined) {
      if (random() < 0.15) {
        set['tier'] = random() < 0.12 ? null : pick(['gold', 'silver', 'bronze']);
        set['age'] = 18 + Math.floor(random() * 50);
      }
      // A set of first_source overrides every setOnce of it, earlier or later.
      if (random() < 0.03) set['first_source'] = pick(SOURCES);
      if (name === 'signup' || random() < 0.1) setOnce['first_source'] = pick(SOURCES);
    }
    return {
      id: `${prefix}-${n}`,
      type: 'app',
      platform: 'app',
      accountId: APP,
      name,
      occurredAt: iso(at),
      properties,
      ...(userId === undefined
        ? {}
        : { userId, sessionId: `${userId}-${Math.floor(at / (4 * HOUR))}` }),
      ...(Object.keys(set).length > 0 ? { set } : {}),
      ...(Object.keys(setOnce).length > 0 ? { setOnce } : {}),
    };
  });
}

const EVENTS = buildEvents(20261101, 'pt-a', 5000);

/**
 * What must count nowhere in the app's figures: the same events again (an event's id is the
 * pipeline's idempotency key), another app of the organisation, and another platform's account
 * that happens to carry the app's id.
 */
function noise(): EventInput[] {
  const otherApp = buildEvents(4242, 'pt-other', 400).map((e) => ({
    ...e,
    accountId: 'other-app',
  }));
  const instagram = EVENTS.slice(0, 100).map((e, i): EventInput => ({
    id: `pt-ig-${i}`,
    type: 'engagement',
    platform: 'instagram',
    accountId: APP,
    metric: 'likes',
    mode: 'delta',
    value: 1,
    occurredAt: e.occurredAt,
  }));
  return [...EVENTS.slice(0, 300), ...otherApp, ...instagram];
}

/**
 * Groups of equal size, to rank by their text alone: three events each of variant 10, 9 (JSON
 * numbers), a, b, and three without one.
 */
const TIES: AppEvent[] = [10, 9, 'b', 'a', null].flatMap((variant, i) =>
  [0, 1, 2].map((k): AppEvent => ({
    id: `pt-tie-${i}-${k}`,
    type: 'app',
    platform: 'app',
    accountId: APP,
    name: 'page_view',
    userId: `u-tie-${k}`,
    occurredAt: iso(KOL_DAYS.from + 2 * DAY + (3 * i + k) * MINUTE + 333),
    properties: { campaign: 'tie', ...(variant === null ? {} : { variant }) },
  })),
);

// ---- Talking to the product ----

let loupe: RunningLoupe;
let keyB: string;

const graphql = <T>(key: string, query: string, variables: Record<string, unknown> = {}) =>
  postGraphQL<T>(loupe.urls.gateway!, key, query, variables);

const postEvents = (key: string, events: readonly object[]) =>
  postAccepted(loupe.urls.ingest!, key, events);

const TRENDS = /* GraphQL */ `
  query ($app: ID!, $q: TrendsQuery!) {
    product(appId: $app) {
      trends(query: $q) {
        from
        to
        timeZone
        interval
        buckets
        previousBuckets
        results {
          label
          event
          math
          breakdown
          other
          total
          values
          previous {
            total
            values
          }
          standardError
        }
      }
    }
  }
`;

interface Answer {
  from: string;
  to: string;
  timeZone: string;
  interval: string;
  buckets: string[];
  previousBuckets: string[] | null;
  results: {
    label: string;
    event: string | null;
    math: string | null;
    breakdown: (string | null)[];
    other: boolean;
    total: number | null;
    values: (number | null)[];
    previous: { total: number | null; values: (number | null)[] } | null;
    standardError: number | null;
  }[];
}

function trendsReply(q: TrendsQuery, key = KEY) {
  return graphql<{ product: { trends: Answer } | null }>(key, TRENDS, { app: APP, q });
}

async function trends(q: TrendsQuery, key = KEY): Promise<Answer> {
  const reply = await trendsReply(q, key);
  expect(reply.errors).toBeUndefined();
  expect(reply.data?.product).toBeTruthy();
  return reply.data!.product!.trends;
}

/** Every app event the organisation has sent so far. */
let sent: readonly AppEvent[] = [...EVENTS, ...TIES];
const recount = (q: TrendsQuery, events: readonly AppEvent[] = sent) =>
  recountTrends(events, q, ORG_ZONE);

const instant = (text: string) => iso(Date.parse(text));

/** Each number as a soft assertion named by result and bucket, so one run lists every miss. */
function close(where: string, actual: number | null | undefined, expected: number | null) {
  if (expected === null) expect.soft(actual, where).toBeNull();
  else expect.soft(actual, where).toBeCloseTo(expected, 9);
}

function expectRecount(got: Answer, want: Trends) {
  expect(instant(got.from)).toBe(iso(want.from));
  expect(instant(got.to)).toBe(iso(want.to));
  expect(got.timeZone).toBe(want.timeZone);
  expect(got.interval).toBe(want.interval);
  // Soft: with buckets wrong the numbers still say what was counted where.
  expect.soft(got.buckets.map(instant), 'buckets').toEqual(want.buckets.map(iso));
  expect
    .soft(got.previousBuckets?.map(instant) ?? null, 'previousBuckets')
    .toEqual(want.previousBuckets?.map(iso) ?? null);
  const identity = (r: Answer['results'][number] | Trends['results'][number]) => ({
    label: r.label,
    event: r.event,
    math: r.math,
    breakdown: r.breakdown,
    other: r.other,
  });
  expect(got.results.map(identity)).toEqual(want.results.map(identity));
  want.results.forEach((w, i) => {
    const g = got.results[i]!;
    const name = `${w.label}${w.other ? ' Other' : w.breakdown.length > 0 ? ` ${JSON.stringify(w.breakdown)}` : ''}`;
    const numbers = (what: string, gp: typeof g.previous, wp: typeof w.previous, at: number[]) => {
      if (w.math === 'UNIQUE_USERS_APPROX') {
        // An estimate: checked against the exact count by its own test.
        expect(gp!.values).toHaveLength(wp!.values.length);
        return;
      }
      close(`${name} ${what}total`, gp!.total, wp!.total);
      expect(gp!.values, `${name} ${what}values`).toHaveLength(wp!.values.length);
      wp!.values.forEach((v, j) =>
        close(`${name} ${what}values[${j}] ${iso(at[j]!)}`, gp!.values[j], v),
      );
    };
    numbers('', g, w, want.buckets);
    if (w.previous === null) expect(g.previous, `${name} previous`).toBeNull();
    else numbers('previous ', g.previous, w.previous, want.previousBuckets!);
    expect(g.standardError, `${name} standardError`).toBe(w.standardError);
  });
}

async function expectQuery(q: TrendsQuery) {
  const want = recount(q);
  expectRecount(await trends(q), want);
  return want;
}

beforeAll(async () => {
  loupe = await startEmbeddedProduct(KEY);
  keyB = (await loupe.createOrganisation('Other org')).apiKey;
  await postEvents(KEY, EVENTS);
  await postEvents(KEY, TIES);
  await postEvents(KEY, noise());
  await loupe.caughtUp();
}, 180_000);
afterAll(async () => loupe?.close());

const all = (s: TrendSeries = {}): TrendSeries => ({ event: null, ...s });
const purchases = (s: TrendSeries = {}): TrendSeries => ({ event: 'purchase', ...s });
const pageViews = (s: TrendSeries = {}): TrendSeries => ({ event: 'page_view', ...s });
const revenue = (aggregate: TrendSeries['aggregate']) =>
  purchases({ math: 'PROPERTY', property: 'revenue', aggregate });
const perUser = (aggregate: TrendSeries['aggregate']) =>
  pageViews({ math: 'COUNT_PER_USER', aggregate });
const hasNull = (t: Trends) => t.results.some((r) => r.values.includes(null));

// ---- Every math, in several zones and intervals ----

describe('every math, recounted', () => {
  test('by day in the organisation zone, across the end of daylight time', async () => {
    const want = await expectQuery({
      range: range(LA_DAYS),
      series: [
        pageViews(),
        all({ math: 'UNIQUE_USERS' }),
        all({ math: 'DAU' }),
        all({ math: 'WAU' }),
        all({ math: 'MAU' }),
        revenue('SUM'),
        revenue('AVG'),
        revenue('MIN'),
        revenue('MAX'),
        revenue('MEDIAN'),
      ],
    });
    expect(want.timeZone).toBe(ORG_ZONE);
    const lengths = want.buckets.slice(1).map((b, i) => b - want.buckets[i]!);
    expect(lengths).toContain(DST_REPEATS ? 25 * HOUR : 23 * HOUR);
  });

  test('percentiles and counts per user, by day in the organisation zone', async () => {
    await expectQuery({
      range: range(LA_DAYS),
      interval: 'DAY',
      series: [
        revenue('P90'),
        revenue('P95'),
        revenue('P99'),
        perUser('SUM'),
        perUser('AVG'),
        perUser('MIN'),
        perUser('MAX'),
        perUser('MEDIAN'),
        perUser('P90'),
        all({ math: 'COUNT_PER_USER', aggregate: 'P99' }),
      ],
    });
  });

  test('by hour across the repeated hour in Los Angeles, with the previous period', async () => {
    const want = await expectQuery({
      range: range(LA_HOURS),
      interval: 'HOUR',
      compare: true,
      series: [
        all(),
        all({ math: 'UNIQUE_USERS' }),
        perUser('AVG'),
        perUser('P95'),
        revenue('SUM'),
        revenue('AVG'),
      ],
    });
    // Around the change the local hours are still one real hour each: a repeated 01:00 is two
    // buckets of its own, a skipped 02:00 none.
    const lengths = want.buckets.slice(1).map((b, i) => b - want.buckets[i]!);
    expect(new Set(lengths)).toEqual(new Set([HOUR]));
    expect(want.buckets).toEqual(expect.arrayContaining([DST_CHANGE - HOUR, DST_CHANGE]));
  });

  test('by day in Asia/Kolkata, with the previous period', async () => {
    await expectQuery({
      range: range(KOL_DAYS),
      timeZone: KOLKATA,
      compare: true,
      series: [
        all(),
        all({ math: 'UNIQUE_USERS' }),
        all({ math: 'DAU' }),
        all({ math: 'WAU' }),
        all({ math: 'MAU' }),
        perUser('MEDIAN'),
        perUser('P99'),
        revenue('P95'),
        revenue('MIN'),
        purchases({ math: 'PROPERTY', property: 'quantity', aggregate: 'AVG' }),
      ],
    });
  });

  test('by hour in Asia/Kolkata (half-hour offset)', async () => {
    await expectQuery({
      range: range(KOL_HOURS),
      interval: 'HOUR',
      timeZone: KOLKATA,
      series: [all(), all({ math: 'UNIQUE_USERS' }), revenue('MAX'), perUser('SUM')],
    });
  });

  test('by ISO week in Asia/Kolkata over the whole stream', async () => {
    await expectQuery({
      range: range(LONG),
      interval: 'WEEK',
      timeZone: KOLKATA,
      series: [all(), all({ math: 'UNIQUE_USERS' }), revenue('SUM'), perUser('MEDIAN')],
    });
  });

  test('by month in the organisation zone, with the previous period', async () => {
    await expectQuery({
      range: range(MONTHS),
      interval: 'MONTH',
      compare: true,
      series: [all(), all({ math: 'UNIQUE_USERS' }), revenue('AVG'), perUser('MAX')],
    });
  });

  test('by minute', async () => {
    await expectQuery({
      range: range(MINUTES),
      interval: 'MINUTE',
      series: [all(), all({ math: 'UNIQUE_USERS' })],
    });
  });
});

// ---- Filters ----

const FILTERS: [string, PropertyFilter][] = [
  ["o'k EQ it's (quotes in name and value)", { property: "o'k", op: 'EQ', value: "it's" }],
  [
    'o\'k IN say "hi", back\\slash',
    { property: "o'k", op: 'IN', value: ['say "hi"', 'back\\slash'] },
  ],
  ["o'k REGEX \\\\ (a backslash)", { property: "o'k", op: 'REGEX', value: '\\\\' }],
  [
    'país.ciudad CONTAINS ZÜR (non-ASCII, any case)',
    { property: 'país.ciudad', op: 'CONTAINS', value: 'ZÜR' },
  ],
  ['país.ciudad EQ Málaga', { property: 'país.ciudad', op: 'EQ', value: 'Málaga' }],
  ['country EQ US', { property: 'country', op: 'EQ', value: 'US' }],
  ['returning EQ true (a boolean by its text)', { property: 'returning', op: 'EQ', value: true }],
  ['revenue EQ 50 (a number by its text)', { property: 'revenue', op: 'EQ', value: 50 }],
  ['revenue EQ "12.50" (text)', { property: 'revenue', op: 'EQ', value: '12.50' }],
  ['tags EQ sale (a list equals nothing)', { property: 'tags', op: 'EQ', value: 'sale' }],
  [
    'context.page.section EQ checkout',
    { property: 'context.page.section', op: 'EQ', value: 'checkout' },
  ],
  ['country NEQ US (unset and null hold)', { property: 'country', op: 'NEQ', value: 'US' }],
  ['device NEQ x (an object is not set)', { property: 'device', op: 'NEQ', value: 'x' }],
  ['country IN US, FR', { property: 'country', op: 'IN', value: ['US', 'FR'] }],
  ['revenue IN 9.99, 50', { property: 'revenue', op: 'IN', value: [9.99, 50] }],
  ['country NOT_IN US, FR', { property: 'country', op: 'NOT_IN', value: ['US', 'FR'] }],
  ['plan CONTAINS PRO (any case)', { property: 'plan', op: 'CONTAINS', value: 'PRO' }],
  ['utm_source CONTAINS "gle ad"', { property: 'utm_source', op: 'CONTAINS', value: 'gle ad' }],
  ['utm_source REGEX ^(goo|bin)', { property: 'utm_source', op: 'REGEX', value: '^(goo|bin)' }],
  ['plan REGEX o (unanchored)', { property: 'plan', op: 'REGEX', value: 'o' }],
  ['revenue GT 19.99 (not its text)', { property: 'revenue', op: 'GT', value: 19.99 }],
  ['revenue GTE 50', { property: 'revenue', op: 'GTE', value: 50 }],
  ['revenue LT 10', { property: 'revenue', op: 'LT', value: 10 }],
  ['revenue LTE 9.99', { property: 'revenue', op: 'LTE', value: 9.99 }],
  ['quantity GT 1', { property: 'quantity', op: 'GT', value: 1 }],
  ['utm_source IS_SET', { property: 'utm_source', op: 'IS_SET' }],
  ['tags IS_SET (a list is a value)', { property: 'tags', op: 'IS_SET' }],
  ['device.type IS_SET', { property: 'device.type', op: 'IS_SET' }],
  ['country IS_NOT_SET (missing or null)', { property: 'country', op: 'IS_NOT_SET' }],
  ['device IS_NOT_SET (an object)', { property: 'device', op: 'IS_NOT_SET' }],
  ['person tier EQ gold', { property: 'tier', person: true, op: 'EQ', value: 'gold' }],
  ['person tier NEQ gold', { property: 'tier', person: true, op: 'NEQ', value: 'gold' }],
  [
    'person first_source IN google, newsletter (set beats setOnce)',
    { property: 'first_source', person: true, op: 'IN', value: ['google', 'newsletter'] },
  ],
  [
    'person first_source NOT_IN google',
    { property: 'first_source', person: true, op: 'NOT_IN', value: ['google'] },
  ],
  [
    'person first_source CONTAINS GOO',
    { property: 'first_source', person: true, op: 'CONTAINS', value: 'GOO' },
  ],
  [
    'person tier REGEX ^(gold|silver)$',
    { property: 'tier', person: true, op: 'REGEX', value: '^(gold|silver)$' },
  ],
  ['person age GT 40', { property: 'age', person: true, op: 'GT', value: 40 }],
  ['person age GTE 40', { property: 'age', person: true, op: 'GTE', value: 40 }],
  ['person age LT 30', { property: 'age', person: true, op: 'LT', value: 30 }],
  ['person age LTE 30', { property: 'age', person: true, op: 'LTE', value: 30 }],
  ['person tier IS_SET', { property: 'tier', person: true, op: 'IS_SET' }],
  ['person tier IS_NOT_SET (null unsets)', { property: 'tier', person: true, op: 'IS_NOT_SET' }],
  [
    'AND: country US, device.type IN mobile, tablet',
    {
      and: [
        { property: 'country', op: 'EQ', value: 'US' },
        { property: 'device.type', op: 'IN', value: ['mobile', 'tablet'] },
      ],
    },
  ],
  [
    'OR: country FR, person tier gold',
    {
      or: [
        { property: 'country', op: 'EQ', value: 'FR' },
        { property: 'tier', person: true, op: 'EQ', value: 'gold' },
      ],
    },
  ],
  [
    'AND of OR: (revenue GTE 50 or plan CONTAINS pro) and utm_source IS_SET and country NOT_IN IN',
    {
      and: [
        {
          or: [
            { property: 'revenue', op: 'GTE', value: 50 },
            { property: 'plan', op: 'CONTAINS', value: 'pro' },
          ],
        },
        { property: 'utm_source', op: 'IS_SET' },
        { property: 'country', op: 'NOT_IN', value: ['IN'] },
      ],
    },
  ],
];

const chunks = <T>(xs: readonly T[], n: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

describe('filters, recounted (each a series of its own, by day in Asia/Kolkata)', () => {
  test.each(chunks(FILTERS, 10).map((c) => [c.map(([name]) => name).join('; '), c] as const))(
    '%s',
    async (_, filters) => {
      const q: TrendsQuery = {
        range: range(KOL_DAYS),
        timeZone: KOLKATA,
        series: filters.map(([, where]) => all({ where })),
      };
      const want = await expectQuery(q);
      // Each filter keeps some events and drops some, or it tests nothing (but the never-true ones).
      const totals = want.results.map((r) => r.total);
      expect(totals.filter((t) => t !== 0 && t !== null).length).toBeGreaterThan(
        filters.length / 2,
      );
    },
  );

  test("a query's filter applies besides each series' own, with every math", async () => {
    await expectQuery({
      range: range(LA_DAYS),
      where: {
        or: [
          { property: 'device.type', op: 'EQ', value: 'mobile' },
          { property: 'tier', person: true, op: 'IS_SET' },
        ],
      },
      series: [
        all(),
        all({ math: 'UNIQUE_USERS', where: { property: 'country', op: 'EQ', value: 'IN' } }),
        all({ math: 'WAU', where: { property: 'plan', op: 'IS_SET' } }),
        revenue('AVG'),
        perUser('MEDIAN'),
      ],
    });
  });
});

// ---- Breakdowns, the previous period and formulas ----

describe('breakdowns, recounted', () => {
  test('a value only a later series has is in Other, not lost', async () => {
    const want = await expectQuery({
      range: range(LA_DAYS),
      series: [pageViews(), purchases(), revenue('SUM')],
      breakdown: [{ property: 'revenue' }],
    });
    // Page views carry no revenue: the first series has one group (null), the purchases are Other.
    const other = want.results.filter((r) => r.other);
    expect(other.map((r) => r.label)).toEqual(['A', 'B', 'C']);
    expect(other[1]!.total).toBeGreaterThan(0);
  });

  test('by country, top 2 and Other, with the previous period', async () => {
    const want = await expectQuery({
      range: range(LA_DAYS),
      compare: true,
      series: [pageViews(), pageViews({ math: 'UNIQUE_USERS' })],
      breakdown: [{ property: 'country' }],
      breakdownLimit: 2,
    });
    expect(want.results.filter((r) => r.other)).toHaveLength(2);
  });

  test('by country with the null group (missing and null alike)', async () => {
    const want = await expectQuery({
      range: range(LA_DAYS),
      series: [all({ math: 'UNIQUE_USERS' }), revenue('SUM')],
      breakdown: [{ property: 'country' }],
    });
    expect(want.results.some((r) => r.breakdown[0] === null)).toBe(true);
    expect(want.results.some((r) => r.other)).toBe(false);
  });

  test('by country and device.type, top 5 and Other', async () => {
    const want = await expectQuery({
      range: range(KOL_DAYS),
      timeZone: KOLKATA,
      series: [all(), revenue('SUM'), all({ math: 'UNIQUE_USERS' })],
      breakdown: [{ property: 'country' }, { property: 'device.type' }],
      breakdownLimit: 5,
    });
    expect(want.results.some((r) => r.other)).toBe(true);
  });

  test('by country and device.type, every pair, null pairs included', async () => {
    const want = await expectQuery({
      range: range(KOL_HOURS),
      timeZone: KOLKATA,
      series: [all()],
      breakdown: [{ property: 'country' }, { property: 'device.type' }],
    });
    expect(want.results.some((r) => r.breakdown.includes(null))).toBe(true);
  });

  test('by a person property (latest value) and by one event property beside it', async () => {
    const want = await expectQuery({
      range: range(KOL_DAYS),
      timeZone: KOLKATA,
      series: [all({ math: 'UNIQUE_USERS' }), purchases()],
      breakdown: [{ property: 'tier', person: true }, { property: 'returning' }],
      breakdownLimit: 6,
    });
    expect(want.results.some((r) => r.breakdown[0] === null)).toBe(true);
  });

  test('by a list property (its JSON text), top 3 and Other', async () => {
    await expectQuery({
      range: range(LA_DAYS),
      series: [all()],
      breakdown: [{ property: 'tags' }],
      breakdownLimit: 3,
    });
  });

  test('by names and texts that need quoting, nested and not', async () => {
    const want = await expectQuery({
      range: range(KOL_DAYS),
      timeZone: KOLKATA,
      series: [all(), all({ math: 'UNIQUE_USERS' })],
      breakdown: [{ property: "o'k" }, { property: 'país.ciudad' }],
    });
    expect(want.results.some((r) => r.breakdown[0] === 'say "hi"')).toBe(true);
  });

  test("ties rank by the values' text (10 before 9), null last", async () => {
    const q = (breakdownLimit: number): TrendsQuery => ({
      range: range(KOL_DAYS),
      timeZone: KOLKATA,
      series: [all({ where: { property: 'campaign', op: 'EQ', value: 'tie' } })],
      breakdown: [{ property: 'variant' }],
      breakdownLimit,
    });
    const shown = (t: Trends) => t.results.map((r) => (r.other ? 'Other' : r.breakdown[0]));
    expect(shown(await expectQuery(q(10)))).toEqual(['10', '9', 'a', 'b', null]);
    expect(shown(await expectQuery(q(3)))).toEqual(['10', '9', 'a', 'Other']);
  });

  test('by a number property (its text, beside a string of digits), top 4 and Other', async () => {
    const want = await expectQuery({
      range: range(LA_DAYS),
      series: [purchases(), purchases({ math: 'UNIQUE_USERS' })],
      breakdown: [{ property: 'revenue' }],
      breakdownLimit: 4,
    });
    expect(want.results.some((r) => r.other)).toBe(true);
  });

  test('ranked by the sum of DAU values, WAU beside it, with the previous period', async () => {
    await expectQuery({
      range: range(LA_DAYS),
      compare: true,
      series: [all({ math: 'DAU' }), all({ math: 'WAU' }), all()],
      breakdown: [{ property: 'device.type' }],
      breakdownLimit: 2,
    });
  });
});

describe('formulas, recounted', () => {
  test('A / B, A - B and (A - B) * 100 per group, Other and totals, with the previous period', async () => {
    await expectQuery({
      range: range(LA_DAYS),
      compare: true,
      series: [purchases(), pageViews()],
      breakdown: [{ property: 'country' }],
      breakdownLimit: 2,
      formulas: ['A / B', 'A - B', '(A - B) * 100'],
    });
  });

  test('division by zero gives null, by hour', async () => {
    const fr = { property: 'country', op: 'EQ', value: 'FR' } as const;
    const want = await expectQuery({
      range: range(KOL_HOURS),
      interval: 'HOUR',
      timeZone: KOLKATA,
      series: [purchases({ where: fr }), all({ event: 'add_to_cart', where: fr })],
      breakdown: [{ property: 'device.type' }],
      breakdownLimit: 2,
      formulas: ['A / B', 'A - B'],
    });
    expect(hasNull(want)).toBe(true);
  });

  test('a null operand gives null: an average of no events, and DAU totals', async () => {
    const want = await expectQuery({
      range: range(LA_DAYS),
      series: [revenue('AVG'), purchases(), all({ math: 'DAU' })],
      breakdown: [{ property: 'device.type' }],
      breakdownLimit: 2,
      formulas: ['A * B', 'C - B'],
    });
    expect(want.results.find((r) => r.label === 'C - B')?.total).toBeNull();
  });
});

describe('the examples', () => {
  test('unique users where country = US by device.type over the last 7 days', async () => {
    const want = await expectQuery({
      range: { from: iso(NOW - 7 * DAY), to: iso(NOW) },
      interval: 'DAY',
      series: [{ math: 'UNIQUE_USERS', where: { property: 'country', op: 'EQ', value: 'US' } }],
      breakdown: [{ property: 'device.type' }],
    });
    expect(want.buckets).toHaveLength(8);
  });

  test('UNIQUE_USERS_APPROX is within 5% of the exact count, with its standard error', async () => {
    const q: TrendsQuery = {
      range: range(LONG),
      interval: 'WEEK',
      series: [all({ math: 'UNIQUE_USERS_APPROX' }), all({ math: 'UNIQUE_USERS' })],
    };
    const want = recount(q);
    const exact = want.results[1]!.total!;
    expect(exact).toBeGreaterThanOrEqual(1000);
    const got = await trends(q);
    expectRecount(got, want);
    const [approx, unique] = got.results;
    expect(unique!.total).toBe(exact);
    expect(Math.abs(approx!.total! - exact) / exact).toBeLessThan(0.05);
    expect(approx!.standardError).toBe(HLL_STANDARD_ERROR);
    expect(unique!.standardError).toBeNull();
  });
});

// ---- Bad input ----

const VALID: TrendsQuery = { range: range(LA_DAYS), series: [pageViews()] };
const where = (filter: PropertyFilter): TrendsQuery => ({ ...VALID, where: filter });
let nested: PropertyFilter = { property: 'country', op: 'EQ', value: 'US' };
for (let i = 0; i < 6; i++) nested = { and: [nested] };

const BAD: [string, TrendsQuery, RegExp][] = [
  [
    'a regex that does not compile',
    where({ property: 'utm_source', op: 'REGEX', value: 'goo(gle' }),
    /goo\(gle/,
  ],
  [
    'a property path deeper than 5 names',
    where({ property: 'a.b.c.d.e.f', op: 'IS_SET' }),
    /a\.b\.c\.d\.e\.f/,
  ],
  ['filters nested deeper than 5', where(nested), /nest|deep/i],
  ['11 series', { ...VALID, series: Array.from({ length: 11 }, () => pageViews()) }, /series/i],
  ['no series', { ...VALID, series: [] }, /series/i],
  [
    'three breakdowns',
    {
      ...VALID,
      breakdown: [{ property: 'country' }, { property: 'plan' }, { property: 'device.type' }],
    },
    /breakdown/i,
  ],
  ['WAU by hour', { ...VALID, interval: 'HOUR', series: [all({ math: 'WAU' })] }, /WAU/],
  [
    'PROPERTY without a property',
    { ...VALID, series: [purchases({ math: 'PROPERTY', aggregate: 'SUM' })] },
    /property/i,
  ],
  [
    'a formula naming an unknown letter',
    { ...VALID, series: [pageViews(), purchases()], formulas: ['A / C'] },
    /\bC\b/,
  ],
  [
    'a formula that is not arithmetic',
    { ...VALID, series: [pageViews(), purchases()], formulas: ['max(A, B)'] },
    /max/,
  ],
  [
    'a filter with both and and op',
    where({
      and: [{ property: 'country', op: 'EQ', value: 'US' }],
      property: 'plan',
      op: 'EQ',
      value: 'pro',
    }),
    /\band\b/,
  ],
  ['GT with a string', where({ property: 'revenue', op: 'GT', value: 'ten' }), /GT/],
  ['an unknown time zone', { ...VALID, timeZone: 'Mars/Olympus_Mons' }, /Mars\/Olympus_Mons/],
  [
    'to not after from',
    { ...VALID, range: { from: iso(LA_DAYS.from), to: iso(LA_DAYS.from) } },
    /\bto\b|\bfrom\b/,
  ],
  [
    'too many buckets: minutes over 30 days',
    { ...VALID, interval: 'MINUTE', range: { from: iso(END - 30 * DAY), to: iso(END) } },
    /bucket/i,
  ],
];

describe('bad input', () => {
  test('an unknown operator is a validation error', async () => {
    const reply = await graphql(
      KEY,
      `query { product(appId: "${APP}") { trends(query: {
        range: { from: "${iso(LA_DAYS.from)}", to: "${iso(LA_DAYS.to)}" }
        series: [{ where: { property: "country", op: LIKE, value: "US" } }]
      }) { buckets } } }`,
    );
    expect(reply.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(reply.errors?.[0]?.message).toMatch(/LIKE/);
  });

  test.each(BAD)('%s', async (_, q, mentions) => {
    const reply = await trendsReply(q);
    expect(reply.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(reply.errors?.[0]?.message).toMatch(mentions);
  });
});

// ---- Later events ----

describe('answers after more events', () => {
  test('events and person properties sent after an answer are in the next one', async () => {
    const q: TrendsQuery = {
      range: range(LA_DAYS),
      series: [
        all(),
        all({
          math: 'UNIQUE_USERS',
          where: { property: 'tier', person: true, op: 'EQ', value: 'gold' },
        }),
      ],
      breakdown: [{ property: 'country' }, { property: 'tier', person: true }],
      breakdownLimit: 8,
    };
    expectRecount(await trends(q), recount(q));
    const event = (n: number, at: number, extra: Partial<AppEvent> = {}): AppEvent => ({
      id: `pt-late-${n}`,
      type: 'app',
      platform: 'app',
      accountId: APP,
      name: 'page_view',
      occurredAt: iso(at),
      properties: { country: 'FR' },
      ...extra,
    });
    const late = [
      // In the range: at its start, inside it, at its last millisecond; and at its end (outside).
      event(0, LA_DAYS.from + 3, { userId: 'u-late' }),
      event(1, LA_DAYS.from + 2 * DAY + 7, { userId: 'u-late' }),
      event(2, LA_DAYS.to - 1 - 3, { userId: 'u-1' }),
      event(3, LA_DAYS.to + 5, { userId: 'u-2' }),
      // After every other event: the users' latest tier, so past ranges regroup them.
      ...['u-1', 'u-2', 'u-3', 'u-4', 'u-5'].map((userId, i) =>
        event(4 + i, END + (i + 1) * 1_000, { userId, name: 'signup', set: { tier: 'gold' } }),
      ),
    ];
    await postEvents(KEY, late);
    await loupe.caughtUp();
    const before = sent;
    sent = [...before, ...late];
    expect(recount(q)).not.toEqual(recount(q, before));
    expectRecount(await trends(q), recount(q));
  });
});

// ---- Tenancy (last: the other organisation's events start tracking the app for it) ----

describe('tenancy', () => {
  test('another organisation gets null for the app, then only its own events under its id', async () => {
    const before = await graphql<{ product: unknown }>(
      keyB,
      'query ($app: ID!) { product(appId: $app) { appId } }',
      { app: APP },
    );
    expect(before.errors).toBeUndefined();
    expect(before.data).toEqual({ product: null });
    // The same app id and the same user ids, other events and other person properties.
    const eventsB = buildEvents(977, 'pt-b', 700);
    await postEvents(keyB, eventsB);
    await loupe.caughtUp();
    const q: TrendsQuery = {
      range: range(KOL_DAYS),
      timeZone: KOLKATA,
      series: [
        all(),
        all({ math: 'UNIQUE_USERS' }),
        all({ where: { property: 'tier', person: true, op: 'EQ', value: 'gold' } }),
        revenue('SUM'),
      ],
      breakdown: [{ property: 'country' }],
    };
    expectRecount(await trends(q, keyB), recount(q, eventsB));
    expectRecount(await trends(q), recount(q));
  });
});
