// Freshness: how long from POSTing an event to the collector until a graphql-ws subscriber of the
// gateway sees its tick. One small batch every `interval` ms; each event carries a unique event
// time, and a tick names the newest event time behind it, which matches it to its POST(s).
// Baseline from the same run: the POST round trip alone (the collector's acknowledgement).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { publishFigures, type Figure } from './support/figures.ts';
import { createHttpClient, postOneEvent } from './support/http-client.ts';
import { benchFlag, benchOptions } from './support/options.ts';
import { PROFILE_DIR } from './support/paths.ts';
import { startProduct, type RunningProduct } from './support/product-child.ts';
import { count, describe, percentiles, progress, seconds, sleep } from './support/stats.ts';

const BENCH = 'freshness';
const API_KEY = 'loupe_bench_freshness_000000';
const ACCOUNT = 'fresh-0';
const TARGET_P99_MS = 250;

const options = benchOptions(BENCH, {
  duration: { default: 20, doc: 'seconds of measured POSTs' },
  interval: { default: 50, doc: 'milliseconds between POSTs' },
  'warmup-timeout': { default: 30, doc: 'seconds to wait for the first tick' },
});
const profile = benchFlag('profile');

const TICKS = /* GraphQL */ `
  subscription Ticks($ids: [ID!]!) {
    metricTicks(accountIds: $ids) {
      metric
      delta
      at
    }
  }
`;

interface TickData {
  metricTicks: { metric: string; delta: number; at: string };
}

interface Sent {
  /** The event time stamped on the POSTed event, unique and increasing. */
  stamp: number;
  sentAt: number;
}

function subscribe(gateway: string, apiKey: string, onTick: (at: number, delta: number) => void) {
  const client: Client = createClient({
    url: gateway.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { apiKey },
    retryAttempts: 0,
  });
  const errors: unknown[] = [];
  const dispose = client.subscribe<TickData>(
    { query: TICKS, variables: { ids: [ACCOUNT] } },
    {
      next: (result) => {
        const tick = result.data?.metricTicks;
        if (tick) onTick(Date.parse(tick.at), tick.delta);
        else errors.push(result.errors);
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return {
    errors,
    async close() {
      dispose();
      await client.dispose();
    },
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'loupe-bench-freshness-'));
  const http = createHttpClient({ connections: 4 });
  let product: RunningProduct | undefined;
  let subscription: ReturnType<typeof subscribe> | undefined;
  try {
    progress(BENCH, `starting the product on ${dataDir}${profile ? ' (CPU profile on)' : ''}`);
    product = await startProduct({
      dataDir,
      apiKey: API_KEY,
      profileDir: profile ? PROFILE_DIR : undefined,
    });
    const { ingest, gateway } = product;
    progress(
      BENCH,
      `product ready in ${seconds(product.startupMs)}: collector ${ingest}, gateway ${gateway}`,
    );

    let pending: Sent[] = [];
    let measuring = false;
    let ticks = 0;
    let tickedDelta = 0;
    const latencies: number[] = [];
    subscription = subscribe(gateway, API_KEY, (at, delta) => {
      const now = performance.now();
      ticks++;
      tickedDelta += delta;
      // One tick may carry several POSTs when they reach the speed layer in one bus batch.
      while (pending.length > 0 && pending[0]!.stamp <= at) {
        const sent = pending.shift()!;
        if (measuring) latencies.push(now - sent.sentAt);
      }
    });

    let lastStamp = 0;
    let seq = 0;
    const rtts: number[] = [];
    let refused = 0;
    const postOne = async (record: boolean): Promise<void> => {
      const stamp = Math.max(Date.now(), lastStamp + 1);
      lastStamp = stamp;
      const body =
        `{"events":[{"id":"fresh-${seq++}","type":"engagement","platform":"tiktok","accountId":"${ACCOUNT}",` +
        `"metric":"views","mode":"delta","value":1,"occurredAt":"${new Date(stamp).toISOString()}"}]}`;
      pending.push({ stamp, sentAt: performance.now() });
      const res = await postOneEvent(http, ingest, API_KEY, body);
      if (!res.accepted) refused++;
      else if (record) rtts.push(res.ms);
    };

    // The gateway acknowledges the socket before the subscription is live upstream: POST until
    // a tick comes back, then start the clock.
    progress(BENCH, 'warm-up: POSTing until the first tick arrives');
    const warmupUntil = performance.now() + options['warmup-timeout'] * 1000;
    while (ticks === 0) {
      if (performance.now() > warmupUntil) {
        throw new Error(
          `no tick within ${options['warmup-timeout']} s: ${JSON.stringify(subscription.errors)}`,
        );
      }
      await postOne(false);
      await sleep(200);
    }
    for (let i = 0; i < 20; i++) {
      await postOne(false);
      await sleep(options.interval);
    }
    await sleep(1_000);
    pending = [];
    const warmTicks = ticks;
    const warmDelta = tickedDelta;
    progress(
      BENCH,
      `subscribed; measuring one POST every ${options.interval} ms for ${options.duration} s`,
    );

    measuring = true;
    const posts: Promise<void>[] = [];
    const started = performance.now();
    const until = started + options.duration * 1000;
    let lastPrint = started;
    for (let k = 0; ; k++) {
      const slot = started + k * options.interval;
      if (slot > until) break;
      const wait = slot - performance.now();
      if (wait > 0) await sleep(wait);
      posts.push(postOne(true).catch(() => void refused++));
      if (performance.now() - lastPrint > 5_000) {
        lastPrint = performance.now();
        const so = percentiles(latencies);
        progress(
          BENCH,
          `${seconds(lastPrint - started)}: ${count(posts.length)} POSTs, ${count(latencies.length)} ticks matched, p50 ${so.p50.toFixed(1)} ms, p99 ${so.p99.toFixed(1)} ms`,
        );
      }
    }
    await Promise.all(posts);
    const drainUntil = performance.now() + 5_000;
    while (pending.length > 0 && performance.now() < drainUntil) await sleep(20);
    const sentCount = posts.length;
    const missing = pending.length;

    const tick = percentiles(latencies);
    const rtt = percentiles(rtts);
    progress(BENCH, `POST → tick: ${describe(tick)}`);
    progress(BENCH, `POST round trip alone: ${describe(rtt)}`);
    progress(
      BENCH,
      `${count(sentCount)} POSTs, ${count(ticks - warmTicks)} ticks carrying ${count(tickedDelta - warmDelta)} views` +
        `${missing ? `, ${missing} POSTs never ticked` : ''}${refused ? `, ${refused} POSTs refused` : ''}`,
    );

    const figures: Figure[] = [
      {
        bench: BENCH,
        name: 'POST → tick p50',
        value: tick.p50,
        unit: 'ms',
        baseline: { name: 'POST round trip', value: rtt.p50 },
      },
      {
        bench: BENCH,
        name: 'POST → tick p99',
        value: tick.p99,
        unit: 'ms',
        target: { op: '<=', value: TARGET_P99_MS },
        baseline: { name: 'POST round trip', value: rtt.p99 },
      },
    ];
    publishFigures(figures);
  } finally {
    await subscription?.close();
    http.close();
    await product?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
