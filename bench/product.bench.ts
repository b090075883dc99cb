// Product analytics at scale, through the gateway, over N app events of one app (100M by default;
// seeded once inside ClickHouse and cached under .loupe/bench/): a 90-day daily trend of page
// views by US users broken down by device type (unique users, then total events), a 30-day
// ordered 3-step funnel (page_view → add_to_cart → purchase, 14-day window), and a live tile's
// latency from an event's POST to the first productLive tile over graphql-ws that counts it.
// Baselines from the same run: each read in-process (no HTTP or GraphQL; its ClickHouse part
// apart), each read's floor (its rows read once and counted, nothing else), a trivial gateway
// query, and the POST round trip alone.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { forkBenchChild } from './support/child.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { createHttpClient, graphql, postOneEvent, type HttpClient } from './support/http-client.ts';
import { openLoadAgent, timedPost } from './support/open-load.ts';
import { benchFlag, benchOptions } from './support/options.ts';
import { BENCH_CACHE_DIR, PROFILE_DIR } from './support/paths.ts';
import type { ProductDataResult, StoreTiming } from './support/product-data.ts';
import { startProduct, type RunningProduct } from './support/product-child.ts';
import {
  count,
  describe,
  percentiles,
  progress,
  seconds,
  sleep,
  type Percentiles,
} from './support/stats.ts';

const BENCH = 'product';
const API_KEY = 'loupe_bench_product_00000000';
const APP = 'app-bench';
const DAY_MS = 24 * 3_600_000;
const TARGET_TREND_P95_MS = 1_000;
const TARGET_FUNNEL_P95_MS = 2_000;
const TARGET_LIVE_P99_MS = 1_000;

const options = benchOptions(BENCH, {
  events: { default: 100_000_000, doc: 'app events stored before measuring' },
  users: { default: 1_000_000, doc: 'users the events are drawn from (zipf-ish)' },
  days: { default: 90, doc: 'days of history the stored events cover' },
  queries: { default: 20, doc: 'sequential trend queries measured per math' },
  warmup: { default: 2, doc: 'trend queries run first and not measured' },
  'funnel-queries': { default: 5, doc: 'sequential funnel queries measured' },
  'funnel-warmup': { default: 1, doc: 'funnel queries run first and not measured' },
  'funnel-timeout': { default: 120, doc: 'seconds a funnel query may take (also the deadline)' },
  'store-runs': { default: 3, doc: 'in-process trend reads timed per math' },
  'store-funnel-runs': { default: 2, doc: 'in-process funnel reads timed' },
  'trivial-queries': { default: 100, doc: 'trivial gateway queries measured' },
  rate: { default: 20, doc: 'live events POSTed per second' },
  duration: { default: 20, doc: 'seconds of live POSTs' },
});
const profile = benchFlag('profile');

const TRENDS = /* GraphQL */ `
  query ($app: ID!, $from: DateTime!, $to: DateTime!, $math: TrendMath!) {
    product(appId: $app) {
      trends(
        query: {
          range: { from: $from, to: $to }
          interval: DAY
          series: [
            { event: "page_view", math: $math, where: { property: "country", op: EQ, value: "US" } }
          ]
          breakdown: [{ property: "device.type" }]
        }
      ) {
        results {
          breakdown
          total
          values
        }
      }
    }
  }
`;

const FUNNEL = /* GraphQL */ `
  query ($app: ID!, $from: DateTime!, $to: DateTime!) {
    product(appId: $app) {
      funnel(
        query: {
          range: { from: $from, to: $to }
          steps: [{ event: "page_view" }, { event: "add_to_cart" }, { event: "purchase" }]
          order: ORDERED
        }
      ) {
        steps {
          step
          users
          conversionFromPrevious
          medianSecondsToConvert
        }
      }
    }
  }
`;

const TRIVIAL = 'query ($app: ID!) { product(appId: $app) { appId } }';

const LIVE = /* GraphQL */ `
  subscription ($app: ID!) {
    productLive(appId: $app) {
      at
      windows {
        events
      }
    }
  }
`;

interface TrendsData {
  product: { trends: { results: { breakdown: (string | null)[]; total: number | null }[] } } | null;
}

interface FunnelData {
  product: {
    funnel: { steps: { step: number; users: number; conversionFromPrevious: number | null }[] };
  } | null;
}

interface LiveTile {
  productLive: { at: string; windows: { events: number }[] };
}

type TrendMath = 'UNIQUE_USERS' | 'TOTAL';

const lastDays = (days: number) => {
  const to = Date.now();
  return {
    app: APP,
    from: new Date(to - days * DAY_MS).toISOString(),
    to: new Date(to).toISOString(),
  };
};

function productDataDir(): string {
  return join(BENCH_CACHE_DIR, `product-${options.events}e-${options.users}u-${options.days}d`);
}

/** Seeds (or finds) the data set and times the reads in-process, in a child owning the store. */
async function prepareData(dataDir: string): Promise<ProductDataResult> {
  const child = forkBenchChild(new URL('./support/product-data.ts', import.meta.url), [
    ...['--data-dir', dataDir, '--api-key', API_KEY, '--app', APP],
    ...['--events', String(options.events), '--users', String(options.users)],
    ...['--days', String(options.days), '--trend-runs', String(options['store-runs'])],
    ...['--funnel-runs', String(options['store-funnel-runs'])],
  ]);
  try {
    // Seeding 100M events takes many minutes on two cores; the child prints its own progress.
    const result = await child.next<ProductDataResult>('result', 90 * 60_000);
    await child.exited;
    return result;
  } finally {
    await child.stop(5_000);
  }
}

async function timeQueries(
  label: string,
  queries: number,
  warmup: number,
  run: () => Promise<number>,
): Promise<Percentiles> {
  for (let i = 0; i < warmup; i++) await run();
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < queries; i++) samples.push(await run());
  const result = percentiles(samples);
  progress(BENCH, `${label}: ${describe(result)} (${seconds(performance.now() - started)})`);
  return result;
}

/** Funnel queries one after another, each abandoned after the timeout (then counted apart). */
async function timeFunnels(gateway: string): Promise<{ latency: Percentiles; failed: string[] }> {
  const agent = openLoadAgent();
  const headers = { 'content-type': 'application/json', 'x-api-key': API_KEY };
  const timeoutMs = options['funnel-timeout'] * 1000;
  const samples: number[] = [];
  const failed: string[] = [];
  try {
    const total = options['funnel-warmup'] + options['funnel-queries'];
    for (let i = 0; i < total; i++) {
      const body = JSON.stringify({ query: FUNNEL, variables: lastDays(30) });
      const outcome = await timedPost(agent, gateway, headers, body, timeoutMs);
      const warm = i < options['funnel-warmup'];
      const ok = outcome.status === 200 && outcome.code === undefined;
      progress(
        BENCH,
        `  funnel ${warm ? 'warm-up' : `${i + 1 - options['funnel-warmup']} / ${options['funnel-queries']}`}: ` +
          `${outcome.ms.toFixed(0)} ms${ok ? '' : `, ${outcome.status} ${outcome.code ?? ''}`}`,
      );
      if (warm) continue;
      if (ok) samples.push(outcome.ms);
      else failed.push(`${outcome.status}${outcome.code ? ` ${outcome.code}` : ''}`);
    }
  } finally {
    agent.destroy();
  }
  return { latency: percentiles(samples), failed };
}

interface LiveResult {
  latency: Percentiles;
  rtt: Percentiles;
  sent: number;
  missing: number;
  refused: number;
}

/**
 * One app event POSTed every 1/rate s; each is timed from its POST's start to the first tile
 * whose windows count at least as many events as have been POSTed up to it (POSTs are awaited in
 * turn, so the n-th event is in a tile once the tile counts n).
 */
async function liveLatency(gateway: string, ingest: string, http: HttpClient): Promise<LiveResult> {
  const client: Client = createClient({
    url: gateway.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { apiKey: API_KEY },
    retryAttempts: 0,
  });
  let counted = 0;
  let tiles = 0;
  const errors: unknown[] = [];
  const waiting: { need: number; sentAt: number }[] = [];
  const latencies: number[] = [];
  const dispose = client.subscribe<LiveTile>(
    { query: LIVE, variables: { app: APP } },
    {
      next: ({ data, errors: e }) => {
        const now = performance.now();
        if (e) errors.push(e);
        if (!data) return;
        tiles++;
        counted = data.productLive.windows.reduce((s, w) => s + w.events, 0);
        while (waiting.length > 0 && waiting[0]!.need <= counted) {
          latencies.push(now - waiting.shift()!.sentAt);
        }
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  const run = Date.now();
  let seq = 0;
  let refused = 0;
  const rtts: number[] = [];
  const postOne = async (record: boolean) => {
    const id = `live-${run}-${seq++}`;
    const body = JSON.stringify({
      events: [
        {
          id,
          type: 'app',
          platform: 'app',
          accountId: APP,
          name: 'page_view',
          userId: `live-user-${seq % 50}`,
          occurredAt: new Date().toISOString(),
          properties: { country: 'US', device: { type: 'desktop' } },
        },
      ],
    });
    const res = await postOneEvent(http, ingest, API_KEY, body);
    if (!res.accepted) refused++;
    else if (record) rtts.push(res.ms);
    return res;
  };
  try {
    // The first tile comes at once; events POSTed before the subscription is live upstream
    // would be missed, so the clock starts once a tile counts a warm-up event.
    const until = performance.now() + 30_000;
    while (tiles === 0 || counted === 0) {
      if (performance.now() > until) {
        throw new Error(`no tile counting an event within 30 s: ${JSON.stringify(errors)}`);
      }
      await postOne(false);
      await sleep(500);
    }
    // Windows keep a minute: only events of this run are in them, and the measured ones stay in.
    let expected = counted;
    const interval = 1000 / options.rate;
    const started = performance.now();
    const stop = started + options.duration * 1000;
    let sent = 0;
    for (let k = 0; ; k++) {
      const slot = started + k * interval;
      if (slot > stop) break;
      const wait = slot - performance.now();
      if (wait > 0) await sleep(wait);
      waiting.push({ need: ++expected, sentAt: performance.now() });
      await postOne(true);
      sent++;
    }
    const drain = performance.now() + 5_000;
    while (waiting.length > 0 && performance.now() < drain) await sleep(20);
    return {
      latency: percentiles(latencies),
      rtt: percentiles(rtts),
      sent,
      missing: waiting.length,
      refused,
    };
  } finally {
    dispose();
    await client.dispose();
  }
}

function storeLine(label: string, t: StoreTiming): string {
  if (t.error && t.total.count === 0) return `${label}: failed (${t.error})`;
  return `${label}: ${describe(t.total)}; of which in ClickHouse statements p50 ${t.clickhouse.p50.toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const dataDir = productDataDir();
  progress(BENCH, `data directory ${dataDir} (kept between runs)`);
  const data = await prepareData(dataDir);
  const { manifest } = data;
  progress(
    BENCH,
    data.seeded
      ? `seeded ${count(manifest.events)} events in ${seconds(manifest.seedMs)} this run ` +
          `(insert ${seconds(manifest.insertMs)}, merge ${seconds(manifest.mergeMs)})`
      : `reused data seeded ${new Date(manifest.seededAt).toISOString()} (the seed took ${seconds(manifest.seedMs)})`,
  );
  progress(
    BENCH,
    `${count(data.storedEvents)} events of ${count(data.distinctUsers)} users; ` +
      `product_events ${(data.tableBytes / 2 ** 20).toFixed(0)} MiB on disk`,
  );
  progress(BENCH, storeLine('in-process trend UNIQUE_USERS', data.trends.UNIQUE_USERS));
  progress(BENCH, storeLine('in-process trend TOTAL', data.trends.TOTAL));
  progress(
    BENCH,
    storeLine(`in-process funnel (${count(data.funnelPeople)} entrants)`, data.funnel),
  );
  for (const [name, timing] of Object.entries(data.floors)) {
    progress(BENCH, storeLine(`floor: ${name}`, timing));
  }

  let client = createHttpClient({ connections: 1 });
  let product: RunningProduct | undefined;
  try {
    product = await startProduct({
      dataDir,
      apiKey: API_KEY,
      profileDir: profile ? PROFILE_DIR : undefined,
      // A funnel may take far longer than the default 10 s deadline; the bench bounds it itself.
      env: {
        LOUPE_REQUEST_DEADLINE_MS: String(Math.min(600_000, options['funnel-timeout'] * 1000)),
      },
    });
    const { gateway, ingest } = product;
    progress(BENCH, `product ready in ${seconds(product.startupMs)}: gateway ${gateway}`);

    const first = await graphql<TrendsData>(client, gateway, API_KEY, TRENDS, {
      ...lastDays(90),
      math: 'UNIQUE_USERS',
    });
    const results = first.data.product?.trends.results;
    if (!results || results.length === 0) {
      throw new Error(`no trend for ${APP}: ${JSON.stringify(first.data)}`);
    }
    progress(
      BENCH,
      `US page-view users over 90 days by device: ` +
        results.map((r) => `${r.breakdown.join('/') || 'other'} ${count(r.total ?? 0)}`).join(', '),
    );
    const trends = {} as Record<TrendMath, Percentiles>;
    for (const math of ['UNIQUE_USERS', 'TOTAL'] as const) {
      trends[math] = await timeQueries(
        `trend ${math} via gateway`,
        options.queries,
        options.warmup,
        async () => {
          const vars = { ...lastDays(90), math };
          return (await graphql<TrendsData>(client, gateway, API_KEY, TRENDS, vars)).ms;
        },
      );
    }

    const funnel = await timeFunnels(gateway);
    progress(
      BENCH,
      `funnel via gateway: ${describe(funnel.latency)}` +
        (funnel.failed.length ? `; not answered: ${funnel.failed.join(', ')}` : ''),
    );
    // A socket idle through the funnels may have been closed by the server: start afresh.
    client.close();
    client = createHttpClient({ connections: 1 });
    if (funnel.latency.count > 0) {
      const answer = await graphql<FunnelData>(client, gateway, API_KEY, FUNNEL, lastDays(30));
      const steps = answer.data.product?.funnel.steps ?? [];
      progress(
        BENCH,
        `funnel steps: ${steps.map((s) => `${count(s.users)} (${((s.conversionFromPrevious ?? 0) * 100).toFixed(1)}%)`).join(' → ')}`,
      );
    }

    const trivial = await timeQueries(
      'trivial gateway query',
      options['trivial-queries'],
      10,
      async () => (await graphql<unknown>(client, gateway, API_KEY, TRIVIAL, { app: APP })).ms,
    );

    progress(
      BENCH,
      `live: one event POSTed every ${(1000 / options.rate).toFixed(0)} ms for ${options.duration} s`,
    );
    const live = await liveLatency(gateway, ingest, client);
    progress(BENCH, `POST → tile counting it: ${describe(live.latency)}`);
    progress(BENCH, `POST round trip alone: ${describe(live.rtt)}`);
    progress(
      BENCH,
      `${count(live.sent)} POSTs` +
        `${live.missing ? `, ${live.missing} never in a tile` : ''}${live.refused ? `, ${live.refused} refused` : ''}`,
    );

    const size = `${count(options.events / 1e6)}M events`;
    const figures: Figure[] = [];
    for (const math of ['UNIQUE_USERS', 'TOTAL'] as const) {
      const store = data.trends[math].total;
      for (const p of ['p50', 'p95', 'p99'] as const) {
        figures.push({
          bench: BENCH,
          name: `trend 90 d × DAY, US, by device.type, ${math}, ${size}, ${p}`,
          value: trends[math][p],
          unit: 'ms',
          ...(p === 'p95' && { target: { op: '<=', value: TARGET_TREND_P95_MS } }),
          baseline: { name: 'in-process read', value: store[p] },
        });
      }
    }
    for (const p of ['p50', 'p95', 'p99'] as const) {
      figures.push({
        bench: BENCH,
        name: `funnel 30 d, 3 steps ORDERED, ${size}, ${p}`,
        value: funnel.latency[p],
        unit: 'ms',
        ...(p === 'p95' && { target: { op: '<=', value: TARGET_FUNNEL_P95_MS } }),
        baseline: { name: 'its ClickHouse statement', value: data.funnel.clickhouse[p] },
      });
    }
    for (const p of ['p50', 'p99'] as const) {
      figures.push({
        bench: BENCH,
        name: `live tile: POST → tile counting it, ${p}`,
        value: live.latency[p],
        unit: 'ms',
        ...(p === 'p99' && { target: { op: '<=', value: TARGET_LIVE_P99_MS } }),
        baseline: { name: 'POST round trip', value: live.rtt[p] },
      });
    }
    // What reading the same rows once costs, with nothing else done: how far each read is from it.
    for (const [name, timing] of Object.entries(data.floors)) {
      figures.push({
        bench: BENCH,
        name: `floor: ${name}, ${size}, p50`,
        value: timing.total.p50,
        unit: 'ms',
      });
    }
    figures.push(
      { bench: BENCH, name: 'trivial gateway query p50', value: trivial.p50, unit: 'ms' },
      { bench: BENCH, name: 'trivial gateway query p95', value: trivial.p95, unit: 'ms' },
    );
    if (data.seeded) {
      figures.push({
        bench: BENCH,
        name: `seed of ${size}`,
        value: manifest.seedMs / 1000,
        unit: 's',
      });
    }
    publishFigures(figures);
  } finally {
    client.close();
    await product?.stop();
  }
}

await main();
