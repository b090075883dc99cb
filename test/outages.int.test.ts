// Outages of the live store and the search index, end to end on the server adapters: the product
// reaches Redis and Elasticsearch through TCP forwarders that the tests cut and restore, a real
// network failure between this process and the real (shared, never stopped) servers. Events go in
// through the collector, answers come out of the gateway, and numbers are checked against a
// recount of what was sent.
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { loadConfig, throwawayEnv } from '../lib/config.ts';
import { createRedisLiveStore } from '../lib/live/redis.live.ts';
import type { EventInput } from '../schema/event-envelope.ts';
import { startLoupe, type RunningLoupe } from '../scripts/runtime.ts';
import { postGraphQL } from './support/graphql-http.ts';
import { knownBatch } from './support/known-batch.ts';
import { recount } from './support/recount.ts';
import { waitForValue } from './support/wait-for.ts';
import { startTcpProxy, target, through, type TcpProxy } from './support/tcp-proxy.ts';
import {
  throwawayElasticsearch,
  throwawayKafka,
  throwawayPostgres,
  throwawayRedis,
} from './support/throwaway-servers.ts';

const KEY = 'loupe_outage_key_0123456789';
/** How long a query may take while a store is cut: well under any client's patience. */
const FAST_MS = 3000;
/** The search adapter retries a refused connection once, after 1 to 2 s. */
const SEARCH_FAST_MS = 4000;

let loupe: RunningLoupe;
let otherKey: string;
let redis: TcpProxy;
let elasticsearch: TcpProxy;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const postgres = await throwawayPostgres();
  const redisRoom = throwawayRedis();
  const kafka = throwawayKafka();
  const esRoom = throwawayElasticsearch();
  cleanups.push(
    () => postgres.drop(),
    () => redisRoom.clear(),
    () => esRoom.drop(),
  );
  redis = await startTcpProxy(target(redisRoom.url, 6379));
  elasticsearch = await startTcpProxy(target(esRoom.url, 9200));
  cleanups.push(
    () => redis.close(),
    () => elasticsearch.close(),
  );
  const dataDir = await mkdtemp(join(tmpdir(), 'loupe-outages-'));
  loupe = await startLoupe(
    loadConfig({
      ...throwawayEnv({ dataDir, apiKey: KEY, logLevel: 'warn' }),
      LOUPE_POSTGRES_URL: postgres.url,
      LOUPE_REDIS_URL: through(redis, redisRoom.url),
      LOUPE_REDIS_KEY_PREFIX: redisRoom.keyPrefix,
      LOUPE_KAFKA_BROKERS: kafka.brokers,
      LOUPE_KAFKA_TOPIC_PREFIX: kafka.topicPrefix,
      LOUPE_ELASTICSEARCH_URL: through(elasticsearch, esRoom.url),
      LOUPE_ELASTICSEARCH_INDEX_PREFIX: esRoom.indexPrefix,
    }),
  );
  otherKey = (await loupe.createOrganisation('Second org')).apiKey;
});

afterAll(async () => {
  // Restored first: the product closes its connections politely, and the cleanups need the servers.
  await redis?.restore();
  await elasticsearch?.restore();
  await loupe?.close();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function url(door: 'gateway' | 'ingest'): string {
  const value = loupe.urls[door];
  if (!value) throw new Error(`the ${door} is not running`);
  return value;
}

async function postAll(key: string, events: readonly EventInput[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const res = await fetch(`${url('ingest')}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ events: events.slice(i, i + 1000) }),
    });
    const body = (await res.json()) as { rejected?: number };
    expect(res.status).toBe(200);
    expect(body.rejected).toBe(0);
  }
}

/** Runs `fn` and returns its result with how long it took. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - start };
}

/** The account's hourly totals and whether the live store answered: read in both outages. */
const ACCOUNT_METRICS = /* GraphQL */ `
    account(id: $id) {
      id
      metrics(range: { from: $from, to: $to }, granularity: HOUR) {
        live
        series {
          metric
          total
        }
      }
    }
`;

const METRICS_QUERY = /* GraphQL */ `
  query ($id: ID!, $from: DateTime!, $to: DateTime!) {
    ${ACCOUNT_METRICS}
  }
`;

interface MetricsData {
  account: {
    id: string;
    metrics: { live: boolean; series: { metric: string; total: number }[] };
  } | null;
}

/** Non-zero totals per metric (as the API names them) from a recount of the events sent. */
function expectedTotals(events: readonly EventInput[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const [metric, buckets] of recount(events, 'hour')) {
    const total = [...buckets.values()].reduce((a, b) => a + b, 0);
    if (metric !== 'unique_users' && total !== 0) totals[metric.toUpperCase()] = total;
  }
  return totals;
}

/** Non-zero totals per metric, distinct users left out (an estimate, not a sum). */
function totalsOf(data: MetricsData | null | undefined): Record<string, number> {
  const series = data?.account?.metrics.series ?? [];
  return Object.fromEntries(
    series
      .filter((s) => s.metric !== 'UNIQUE_USERS' && s.total !== 0)
      .map((s) => [s.metric, s.total]),
  );
}

interface TickMessage {
  data?: { metricTicks: { account: { id: string }; metric: string; delta: number } };
}

/** A graphql-ws subscription through the gateway that collects every tick it is sent. */
function subscribeTicks(key: string, accountIds: string[]) {
  const client: Client = createClient({
    url: url('gateway').replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { apiKey: key },
    retryAttempts: 0,
  });
  const ticks: TickMessage['data'][] = [];
  const errors: unknown[] = [];
  const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
  const dispose = client.subscribe(
    {
      query: `subscription ($ids: [ID!]!) { metricTicks(accountIds: $ids) { account { id } metric delta } }`,
      variables: { ids: accountIds },
    },
    {
      next: (m) => void ticks.push((m as TickMessage).data),
      error: (e) => void errors.push(e),
      complete: () => undefined,
    },
  );
  return {
    connected,
    errors,
    /** Sum of the deltas received for one account and metric. */
    sum(accountId: string, metric: string): number {
      return ticks
        .filter((t) => t?.metricTicks.account.id === accountId && t.metricTicks.metric === metric)
        .reduce((a, t) => a + (t?.metricTicks.delta ?? 0), 0);
    },
    async close() {
      dispose();
      await client.dispose();
    },
  };
}

function views(
  accountId: string,
  values: readonly number[],
  metric: 'views' | 'likes' | 'shares' = 'views',
) {
  const now = new Date().toISOString();
  return values.map((value): EventInput => ({
    id: randomUUID(),
    type: 'engagement',
    platform: 'tiktok',
    accountId,
    metric,
    mode: 'delta',
    value,
    occurredAt: now,
  }));
}

describe('the Redis live store through a cut', () => {
  test('fails fast while Redis is away, reports the outage once, and resumes with its subscriptions', async () => {
    const room = throwawayRedis();
    const proxy = await startTcpProxy(target(room.url, 6379));
    const reported: string[] = [];
    const live = createRedisLiveStore({
      url: through(proxy, room.url),
      keyPrefix: room.keyPrefix,
      onConnectionError: (e) => void reported.push(e.message),
    });
    try {
      const heard: string[] = [];
      await live.subscribe('before', (m) => heard.push(`before:${m}`));
      await live.increment([{ key: 'k', by: 2 }], 60);

      await proxy.cut();
      for (let i = 0; i < 5; i++) {
        const { value: error, ms } = await timed(() =>
          live.counters(['k']).then(
            () => undefined,
            (e: unknown) => e,
          ),
        );
        expect(error).toBeInstanceOf(Error);
        expect(ms).toBeLessThan(500);
        await new Promise((r) => setTimeout(r, 200));
      }
      // Opened during the outage: it settles once Redis is back rather than failing.
      const duringSubscribed = live.subscribe('during', (m) => heard.push(`during:${m}`));
      expect(reported).toHaveLength(1);

      await proxy.restore();
      await waitForValue('the store to answer again', () =>
        live.counters(['k']).then(
          ([k]) => (k === 2 ? true : undefined),
          () => undefined,
        ),
      );
      await duringSubscribed;
      await waitForValue('both subscriptions to hear a publish', async () => {
        await live.publish('before', 'x');
        await live.publish('during', 'y');
        await new Promise((r) => setTimeout(r, 100));
        return heard.includes('before:x') && heard.includes('during:y') ? true : undefined;
      });
      expect(reported).toHaveLength(1);
    } finally {
      await proxy.restore();
      await live.clear();
      await live.close();
      await proxy.close();
    }
  });

  test('a store opened while Redis is away fails its calls, then works once Redis is reachable', async () => {
    const room = throwawayRedis();
    const proxy = await startTcpProxy(target(room.url, 6379));
    await proxy.cut();
    const live = createRedisLiveStore({
      url: through(proxy, room.url),
      keyPrefix: room.keyPrefix,
      onConnectionError: () => undefined,
    });
    try {
      const { value: error, ms } = await timed(() =>
        live.getValues(['v']).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      expect(String(error)).toMatch(/live store unavailable/);
      expect(ms).toBeLessThan(FAST_MS);
      await proxy.restore();
      await waitForValue('the store to answer', () =>
        live.getValues(['v']).then(
          ([v]) => (v === undefined ? true : undefined),
          () => undefined,
        ),
      );
    } finally {
      await live.close();
      await proxy.close();
    }
  });
});

describe('Redis (the live store) cut and restored', () => {
  // Events of the last two hours: the metrics answer merges the live tail for them.
  const first = knownBatch({ end: Date.now(), hours: 2, size: 300, seed: 5 });
  const duringOutage = knownBatch({ end: Date.now(), hours: 2, size: 200, seed: 6 }).events.map(
    (e): EventInput => ({ ...e, accountId: first.accountId }),
  );
  const range = { from: new Date(first.from).toISOString(), to: new Date(first.to).toISOString() };
  const query = () =>
    postGraphQL<MetricsData>(url('gateway'), KEY, METRICS_QUERY, { id: first.accountId, ...range });
  let before: ReturnType<typeof subscribeTicks>;
  let during: ReturnType<typeof subscribeTicks>;

  test('metrics answer from the rollups alone, fast and marked not live, while Redis is away', async () => {
    await postAll(KEY, first.events);
    await loupe.caughtUp(30_000);
    const live = await query();
    expect(live.errors).toBeUndefined();
    expect(live.data?.account?.metrics.live).toBe(true);
    expect(totalsOf(live.data)).toEqual(expectedTotals(first.events));

    before = subscribeTicks(KEY, ['acct-before']);
    await before.connected;
    await waitForValue('a first tick', async () => {
      await postAll(KEY, views('acct-before', [1]));
      await new Promise((r) => setTimeout(r, 300));
      return before.sum('acct-before', 'VIEWS') > 0 ? true : undefined;
    });

    await redis.cut();
    for (let i = 0; i < 3; i++) {
      const { value: reply, ms } = await timed(query);
      expect(ms).toBeLessThan(FAST_MS);
      expect(reply.status).toBe(200);
      expect(reply.errors).toBeUndefined();
      expect(reply.data?.account?.metrics.live).toBe(false);
      expect(totalsOf(reply.data)).toEqual(expectedTotals(first.events));
    }
    // Opened while Redis is away, for another organisation: its channel is not subscribed yet.
    during = subscribeTicks(otherKey, ['acct-during']);
    await during.connected;

    // The OLAP sink needs no Redis: events sent now are in the answer while Redis is still away.
    await postAll(KEY, duringOutage);
    const all = expectedTotals([...first.events, ...duringOutage]);
    await waitForValue('the outage events in the rollups', async () => {
      const reply = await query();
      expect(reply.data?.account?.metrics.live).toBe(false);
      return isDeepStrictEqual(totalsOf(reply.data), all) ? true : undefined;
    });
  });

  test('when Redis is back, subscribers opened before and during the cut get ticks again, answers are live again, each event counted once', async () => {
    await redis.restore();
    // Nothing restarted: the speed layer's failed batches are redelivered, the live store
    // reconnects and subscribes again.
    await loupe.caughtUp(30_000);
    await waitForValue('ticks through both subscribers', async () => {
      await postAll(KEY, views('acct-before', [1], 'shares'));
      await postAll(otherKey, views('acct-during', [1], 'shares'));
      await new Promise((r) => setTimeout(r, 300));
      const both =
        before.sum('acct-before', 'SHARES') > 0 && during.sum('acct-during', 'SHARES') > 0;
      return both ? true : undefined;
    });
    // Both are live: every tick of new events arrives, and only once.
    await loupe.caughtUp(30_000);
    await postAll(KEY, views('acct-before', [10, 20, 30], 'likes'));
    await postAll(otherKey, views('acct-during', [5, 6], 'likes'));
    await waitForValue('ticks worth the events posted after the restore', async () =>
      before.sum('acct-before', 'LIKES') === 60 && during.sum('acct-during', 'LIKES') === 11
        ? true
        : undefined,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(before.sum('acct-before', 'LIKES')).toBe(60);
    expect(before.errors).toEqual([]);
    expect(during.errors).toEqual([]);

    // Live counters are merged again, and redelivered speed-layer batches counted nothing twice.
    const reply = await query();
    expect(reply.errors).toBeUndefined();
    expect(reply.data?.account?.metrics.live).toBe(true);
    expect(totalsOf(reply.data)).toEqual(expectedTotals([...first.events, ...duringOutage]));
  });

  afterAll(async () => {
    await before?.close();
    await during?.close();
  });
});

describe('Elasticsearch (the search index) cut and restored', () => {
  const accountId = `acct-es-${randomUUID()}`;
  const postId = `${accountId}-post`;
  const at = () => new Date().toISOString();
  /** A word no other document has, so a search finds exactly what this test indexed. */
  const word = (tag: string) => `${tag}${randomUUID().replaceAll('-', '')}`;
  const comment = (text: string): EventInput => ({
    id: randomUUID(),
    type: 'comment',
    kind: 'comment',
    platform: 'instagram',
    accountId,
    commentId: randomUUID(),
    postId,
    text,
    occurredAt: at(),
  });
  const before = word('before');
  const duringOutage = comment(`written while search was away ${word('during')}`);

  const SEARCH = /* GraphQL */ `
    query ($text: String!) {
      search(text: $text) {
        total
        hits {
          id
          text
        }
      }
    }
  `;
  interface SearchData {
    search: { total: number; hits: { id: string; text: string }[] } | null;
  }
  const search = (text: string) => postGraphQL<SearchData>(url('gateway'), KEY, SEARCH, { text });
  const found = async (text: string) => {
    const reply = await search(text);
    expect(reply.errors).toBeUndefined();
    return reply.data?.search?.hits.map((h) => h.text) ?? [];
  };

  test('search fails as UNAVAILABLE while the other fields of the same query still resolve', async () => {
    await postAll(KEY, [
      {
        id: randomUUID(),
        type: 'post',
        action: 'published',
        platform: 'instagram',
        accountId,
        postId,
        content: `spring launch ${before}`,
        publishedAt: at(),
        occurredAt: at(),
      },
      ...views(accountId, [4, 5], 'likes'),
    ]);
    await loupe.caughtUp(30_000);
    expect(await found(before)).toEqual([`spring launch ${before}`]);

    await elasticsearch.cut();
    const { value: reply, ms } = await timed(() =>
      postGraphQL<SearchData & { post: { id: string; content: string } | null } & MetricsData>(
        url('gateway'),
        KEY,
        /* GraphQL */ `
          query ($text: String!, $post: ID!, $id: ID!, $from: DateTime!, $to: DateTime!) {
            search(text: $text) {
              total
            }
            post(id: $post) {
              id
              content
            }
            ${ACCOUNT_METRICS}
          }
        `,
        {
          text: before,
          post: postId,
          id: accountId,
          from: new Date(Date.now() - 3_600_000).toISOString(),
          to: new Date(Date.now() + 3_600_000).toISOString(),
        },
      ),
    );
    expect(ms).toBeLessThan(SEARCH_FAST_MS);
    expect(reply.status).toBe(200);
    expect(reply.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/search is unavailable/) as unknown,
        path: ['search'],
        extensions: { code: 'UNAVAILABLE' },
      }),
    ]);
    expect(reply.data?.search).toBeNull();
    expect(reply.data?.post).toEqual({ id: postId, content: `spring launch ${before}` });
    expect(reply.data?.account?.metrics.series.find((s) => s.metric === 'LIKES')?.total).toBe(9);

    // The text pipeline cannot index this one yet; the bus keeps redelivering it.
    await postAll(KEY, [duringOutage]);
  });

  test('when Elasticsearch is back, search answers again and finds what was sent during the cut and after', async () => {
    await elasticsearch.restore();
    const after = comment(`written after search came back ${word('after')}`);
    await postAll(KEY, [after]);
    await loupe.caughtUp(30_000);
    for (const event of [duringOutage, after]) {
      if (event.type !== 'comment') throw new Error('a comment was expected');
      const text = event.text.split(' ').at(-1)!;
      expect(await found(text)).toEqual([event.text]);
    }
    expect(await found(before)).toEqual([`spring launch ${before}`]);
  });
});
