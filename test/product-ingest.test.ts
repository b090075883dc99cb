// App events as an SDK sends them, through the collector into product analytics on the embedded
// product: nested properties and their discovery, person properties (set, setOnce, out of order),
// a repeated event id counted once, the device clock corrected by sentAt, far-future times kept
// at receipt with a warning, bad properties refused with a reason, and another organisation
// seeing none of it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningLoupe } from '../scripts/runtime.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';

const KEY = 'loupe_product_ingest_test_01';
const APP = 'app-ingest-test';
const HOUR = 3_600_000;
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

let loupe: RunningLoupe;
let keyB: string;
let serial = 0;

interface Result {
  index: number;
  status: string;
  reason?: string;
  warnings?: string[];
}

function app(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    id: `pi-${serial++}`,
    type: 'app',
    platform: 'app',
    accountId: APP,
    name: 'page_view',
    userId: 'u-1',
    occurredAt: iso(NOW - HOUR),
    ...overrides,
  };
}

async function post(events: unknown[], key = KEY): Promise<{ status: number; results: Result[] }> {
  const res = await fetch(`${loupe.urls.ingest!}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ events }),
  });
  const body = (await res.json()) as { results: Result[] };
  return { status: res.status, results: body.results };
}

async function graphql<T>(query: string, variables: object = {}, key = KEY) {
  const res = await fetch(loupe.urls.gateway!, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: T; errors?: { message: string }[] };
}

/** Events of `name` by the minute over the last day and the next, in UTC. */
async function minutes(name: string): Promise<Map<number, number>> {
  const reply = await graphql<{
    product: { trends: { buckets: string[]; results: { values: number[] }[] } };
  }>(
    `query ($q: TrendsQuery!) { product(appId: "${APP}") { trends(query: $q) { buckets results { values } } } }`,
    {
      q: {
        range: { from: iso(NOW - 2 * HOUR), to: iso(NOW + 2 * HOUR) },
        interval: 'MINUTE',
        timeZone: 'UTC',
        series: [{ event: name }],
      },
    },
  );
  expect(reply.errors).toBeUndefined();
  const { buckets, results } = reply.data!.product.trends;
  const counts = new Map<number, number>();
  buckets.forEach((b, i) => {
    const n = results[0]!.values[i]!;
    if (n > 0) counts.set(Date.parse(b), n);
  });
  return counts;
}

const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;

beforeAll(async () => {
  loupe = await startEmbeddedProduct(KEY);
  keyB = (await loupe.createOrganisation('Other org')).apiKey;
  const { status, results } = await post([
    app({
      properties: {
        country: 'US',
        device: { type: 'mobile', os: { name: 'ios', version: 17 } },
        tags: ['new', 'promo'],
        price: 4.5,
        member: true,
      },
      // Later by event time, sent first: it still wins.
      occurredAt: iso(NOW - HOUR),
      set: { plan: 'pro', seats: 3 },
      setOnce: { firstSeen: 'ad' },
    }),
    app({ userId: 'u-1', occurredAt: iso(NOW - 3 * HOUR), set: { plan: 'free' } }),
    app({
      userId: 'u-1',
      occurredAt: iso(NOW - 2 * HOUR),
      setOnce: { firstSeen: 'organic', plan: 'trial' },
    }),
    app({ userId: 'u-2', occurredAt: iso(NOW - 2 * HOUR), setOnce: { firstSeen: 'search' } }),
    app({
      userId: 'u-2',
      occurredAt: iso(NOW - HOUR),
      setOnce: { firstSeen: 'later' },
      set: { plan: null },
    }),
    app({ name: 'signup', userId: 'u-3', properties: { country: 'FR', price: '7' } }),
  ]);
  expect(status).toBe(200);
  expect(results.every((r) => r.status === 'accepted')).toBe(true);
  await loupe.caughtUp();
}, 120_000);
afterAll(async () => loupe?.close());

describe('discovery', () => {
  test('event names and every nested path, with types and examples', async () => {
    const reply = await graphql<{
      product: {
        eventNames: { name: string; events: number }[];
        eventProperties: { path: string; types: string[]; examples: string[] }[];
      };
    }>(
      `{ product(appId: "${APP}") { eventNames { name events } eventProperties { path types examples } } }`,
    );
    expect(reply.errors).toBeUndefined();
    const { eventNames, eventProperties } = reply.data!.product;
    expect(new Map(eventNames.map((e) => [e.name, e.events]))).toEqual(
      new Map([
        ['page_view', 5],
        ['signup', 1],
      ]),
    );
    const byPath = new Map(eventProperties.map((p) => [p.path, p]));
    expect([...byPath.keys()].sort()).toEqual([
      'country',
      'device.os.name',
      'device.os.version',
      'device.type',
      'member',
      'price',
      'tags',
    ]);
    expect(byPath.get('price')!.types.sort()).toEqual(['NUMBER', 'STRING']);
    expect(byPath.get('device.os.version')!.types).toEqual(['NUMBER']);
    expect(byPath.get('tags')!.types).toEqual(['LIST']);
    expect(byPath.get('member')!.types).toEqual(['BOOLEAN']);
    expect(byPath.get('country')!.examples).toEqual(['FR', 'US']);
    expect(byPath.get('tags')!.examples).toEqual(['["new","promo"]']);
  });

  test('one event name: only its paths', async () => {
    const reply = await graphql<{ product: { eventProperties: { path: string }[] } }>(
      `{ product(appId: "${APP}") { eventProperties(event: "signup") { path } } }`,
    );
    expect(reply.data!.product.eventProperties.map((p) => p.path).sort()).toEqual([
      'country',
      'price',
    ]);
  });
});

describe('person properties', () => {
  test('set: the latest by event time; setOnce: only without a set, the earliest', async () => {
    const reply = await graphql<{
      product: {
        u1: { properties: { name: string; value: string | null; type: string | null }[] };
        u2: { properties: { name: string; value: string | null; type: string | null }[] };
        nobody: unknown;
        personProperties: { path: string; types: string[] }[];
      };
    }>(
      `{ product(appId: "${APP}") {
          u1: person(userId: "u-1") { properties { name value type } }
          u2: person(userId: "u-2") { properties { name value type } }
          nobody: person(userId: "u-none") { userId }
          personProperties { path types } } }`,
    );
    expect(reply.errors).toBeUndefined();
    const { u1, u2, nobody, personProperties } = reply.data!.product;
    expect(u1.properties).toEqual([
      // setOnce 'organic' came earlier by event time than setOnce 'ad', though sent later.
      { name: 'firstSeen', value: 'organic', type: 'STRING' },
      { name: 'plan', value: 'pro', type: 'STRING' },
      { name: 'seats', value: '3', type: 'NUMBER' },
    ]);
    expect(u2.properties).toEqual([
      { name: 'firstSeen', value: 'search', type: 'STRING' },
      { name: 'plan', value: null, type: null },
    ]);
    expect(nobody).toBeNull();
    expect(personProperties.map((p) => p.path).sort()).toEqual(['firstSeen', 'plan', 'seats']);
  });

  test('a trend filtered on a person property counts its people only', async () => {
    const reply = await graphql<{ product: { trends: { results: { total: number }[] } } }>(
      `query ($q: TrendsQuery!) { product(appId: "${APP}") { trends(query: $q) { results { total } } } }`,
      {
        q: {
          range: { from: iso(NOW - 4 * HOUR), to: iso(NOW) },
          series: [
            { math: 'TOTAL', where: { property: 'plan', person: true, op: 'EQ', value: 'pro' } },
            { math: 'TOTAL', where: { property: 'plan', person: true, op: 'IS_NOT_SET' } },
          ],
        },
      },
    );
    expect(reply.errors).toBeUndefined();
    // u-1 has 3 events; u-2 (plan set to null) 2 and u-3 (never set) 1.
    expect(reply.data!.product.trends.results.map((r) => r.total)).toEqual([3, 3]);
  });
});

describe('as an SDK sends them', () => {
  test('a repeated event id counts once', async () => {
    const once = app({ name: 'dedupe_me', occurredAt: iso(NOW - 30 * 60_000) });
    await post([once]);
    await post([once, once]);
    await loupe.caughtUp();
    expect([...(await minutes('dedupe_me')).values()]).toEqual([1]);
  });

  test('sentAt corrects a fast device clock; more than 23 h ahead is stored at receipt', async () => {
    const stamped = NOW + 5 * HOUR;
    const { results } = await post([
      // The device is 5 hours fast and stamped the event 90 s before sending.
      app({ name: 'skewed', occurredAt: iso(stamped - 90_000), sentAt: iso(stamped) }),
      app({ name: 'far_future', occurredAt: iso(Date.now() + 30 * HOUR) }),
    ]);
    const received = Date.now();
    expect(results[0]).toMatchObject({ status: 'accepted' });
    expect(results[0]!.warnings).toBeUndefined();
    expect(results[1]!.warnings).toEqual([
      'occurredAt is more than 23 hours in the future; stored at the receive time',
    ]);
    await loupe.caughtUp();
    const [skewedAt] = [...(await minutes('skewed')).keys()];
    // About 90 s before it was received: within a minute's bucket either side of that.
    expect(Math.abs(skewedAt! - minuteOf(received - 90_000))).toBeLessThanOrEqual(60_000);
    const [futureAt] = [...(await minutes('far_future')).keys()];
    expect(Math.abs(futureAt! - minuteOf(received))).toBeLessThanOrEqual(60_000);
  });

  test('properties out of bounds are refused with the reason, the rest of the batch kept', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 6; i++) deep = { level: deep };
    const { results } = await post([
      app({ properties: { a: deep } }),
      app({ properties: { 'utm.source': 'x' } }),
      app({
        properties: {
          blob: 'x'.repeat(1000),
          ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'y'.repeat(1000)])),
        },
      }),
      app({ properties: [1, 2] }),
      app({ name: 'kept' }),
    ]);
    expect(results.map((r) => r.reason ?? r.status)).toEqual([
      'properties.a.level.level.level.level: properties nest at most 5 names deep',
      'properties."utm.source": key a name holds no "." (it joins the names of a path); nest an object',
      expect.stringMatching(/^properties: \d+ bytes as JSON; at most 16384$/),
      'properties: properties must be a JSON object',
      'accepted',
    ]);
  });
});

describe('from a social post', () => {
  test('a funnel that starts at a post: its events by postId or utm content, and the post itself', async () => {
    const at = NOW - 40 * 60_000;
    const { results } = await post([
      {
        id: 'fp-post',
        type: 'post',
        action: 'published',
        platform: 'instagram',
        accountId: 'ig-funnel',
        postId: 'ig-post-1',
        content: 'Autumn blend is here',
        publishedAt: iso(at - HOUR),
        occurredAt: iso(at - HOUR),
      },
      app({ name: 'landing', userId: 'fp-a', postId: 'ig-post-1', occurredAt: iso(at) }),
      app({ name: 'landing', userId: 'fp-b', postId: 'ig-post-1', occurredAt: iso(at) }),
      app({
        name: 'landing',
        userId: 'fp-c',
        properties: { utm: { source: 'instagram', content: 'ig-post-1' } },
        occurredAt: iso(at),
      }),
      // A landing from elsewhere, and one from another post: neither enters.
      app({ name: 'landing', userId: 'fp-d', occurredAt: iso(at) }),
      app({ name: 'landing', userId: 'fp-e', postId: 'ig-post-2', occurredAt: iso(at) }),
      ...['fp-a', 'fp-c', 'fp-d', 'fp-e'].map((userId) =>
        app({ name: 'order', userId, occurredAt: iso(at + 60_000) }),
      ),
    ]);
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    await loupe.caughtUp();
    const reply = await graphql<{
      product: {
        funnel: {
          steps: { users: number; post: { id: string; content: string } | null }[];
        };
      };
    }>(
      `query ($q: FunnelQuery!) { product(appId: "${APP}") { funnel(query: $q) {
          steps { users post { id content } } } } }`,
      {
        q: {
          range: { from: iso(NOW - 2 * HOUR), to: iso(NOW) },
          steps: [{ event: 'landing', post: 'ig-post-1' }, { event: 'order' }],
        },
      },
    );
    expect(reply.errors).toBeUndefined();
    const [entered, ordered] = reply.data!.product.funnel.steps;
    expect(entered).toEqual({
      users: 3,
      post: { id: 'ig-post-1', content: 'Autumn blend is here' },
    });
    expect(ordered).toEqual({ users: 2, post: null });
  });
});

describe('property names and text as sent', () => {
  const ODD = 'we`ird\\ na\'me "q"';
  const PROPS = {
    launch: '2026-11-30',
    at: '2026-11-30T10:00:00Z',
    [ODD]: 'x1',
    nested: { 'ü ñ': 'y' },
    n: 42,
  };

  async function oddTrend(where: object | null, breakdown: string | null) {
    const reply = await graphql<{
      product: { trends: { results: { breakdown: (string | null)[]; total: number }[] } };
    }>(
      `query ($q: TrendsQuery!) { product(appId: "${APP}") { trends(query: $q) { results { breakdown total } } } }`,
      {
        q: {
          range: { from: iso(NOW - 2 * HOUR), to: iso(NOW + HOUR) },
          interval: 'HOUR',
          timeZone: 'UTC',
          series: [{ event: 'odd_props', ...(where ? { where } : {}) }],
          ...(breakdown ? { breakdown: [{ property: breakdown }] } : {}),
        },
      },
    );
    expect(reply.errors).toBeUndefined();
    return reply.data!.product.trends.results.map((r) => [r.breakdown, r.total]);
  }

  test('text that looks like a date stays that text, and any name can be filtered and grouped by', async () => {
    const { results } = await post([
      app({ name: 'odd_props', userId: 'u-odd', properties: PROPS }),
    ]);
    expect(results[0]!.status).toBe('accepted');
    await loupe.caughtUp();

    const types = await graphql<{
      product: { eventProperties: { path: string; types: string[] }[] };
    }>(`{ product(appId: "${APP}") { eventProperties(event: "odd_props") { path types } } }`);
    expect(new Map(types.data!.product.eventProperties.map((p) => [p.path, p.types]))).toEqual(
      new Map([
        ['launch', ['STRING']],
        ['at', ['STRING']],
        [ODD, ['STRING']],
        ['nested.ü ñ', ['STRING']],
        ['n', ['NUMBER']],
      ]),
    );
    const eq = (property: string, value: unknown) => ({ property, op: 'EQ', value });
    expect(await oddTrend(eq('at', PROPS.at), null)).toEqual([[[], 1]]);
    expect(await oddTrend(eq('launch', PROPS.launch), 'at')).toEqual([[[PROPS.at], 1]]);
    expect(await oddTrend(eq(ODD, 'x1'), ODD)).toEqual([[['x1'], 1]]);
    expect(await oddTrend(eq('nested.ü ñ', 'y'), 'nested.ü ñ')).toEqual([[['y'], 1]]);
    // A number compares as its text, and as a number.
    expect(await oddTrend(eq('n', '42'), 'n')).toEqual([[['42'], 1]]);
    expect(await oddTrend({ property: 'n', op: 'GT', value: 41.5 }, null)).toEqual([[[], 1]]);
    expect(await oddTrend(eq(ODD, 'x2'), null)).toEqual([[[], 0]]);
    // A path no event has carried reads as not set.
    expect(await oddTrend({ property: 'never.seen', op: 'IS_NOT_SET' }, 'never.seen')).toEqual([
      [[null], 1],
    ]);
  });
});

describe('tenancy', () => {
  test("another organisation sees none of the app's events or people", async () => {
    const seen = await graphql<{ product: unknown }>(
      `{ product(appId: "${APP}") { person(userId: "u-1") { userId } } }`,
      {},
      keyB,
    );
    expect(seen.data).toEqual({ product: null });
    // Its own events for the same app id: its own figures only.
    await post([app({ id: 'b-only', name: 'b_event', userId: 'u-1', set: { plan: 'b' } })], keyB);
    await loupe.caughtUp();
    const own = await graphql<{
      product: { eventNames: { name: string }[]; person: { properties: { value: string }[] } };
    }>(
      `{ product(appId: "${APP}") { eventNames { name } person(userId: "u-1") { properties { value } } } }`,
      {},
      keyB,
    );
    expect(own.data!.product.eventNames.map((e) => e.name)).toEqual(['b_event']);
    expect(own.data!.product.person.properties.map((p) => p.value)).toEqual(['b']);
  });
});
