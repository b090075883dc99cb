// Ingest throughput: the product runs alone in a child process; this process POSTs batches of
// engagement events to the collector over keep-alive connections, then waits until a metrics
// query through the gateway counts every acknowledged event. The same client against a bare
// node:http server first gives the HTTP ceiling of this machine. The product is measured on the
// embedded stores, then in server mode (Kafka, Redis, PostgreSQL, Elasticsearch from
// `npm run services -- up`, under throwaway prefixes; events and rollups stay in chDB), so the
// two figures come from the same run. `--embedded-only` / `--server-only` pick one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { forkBenchChild } from './support/child.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { createHttpClient, graphql, type HttpClient } from './support/http-client.ts';
import { runLoad, type LoadResult } from './support/http-load.ts';
import { benchFlag, benchOptions } from './support/options.ts';
import { PROFILE_DIR } from './support/paths.ts';
import { startProduct, type RunningProduct } from './support/product-child.ts';
import { count, describe, progress, seconds, sleep } from './support/stats.ts';
import { SERVICES } from '../lib/config.ts';
import { throwawayServerEnv } from '../test/support/throwaway-servers.ts';

const BENCH = 'ingest';
const API_KEY = 'loupe_bench_ingest_0000000000';
const HOUR = 3_600_000;
const TARGET_EVENTS_PER_SECOND = {
  embedded: 150_000,
  server: 75_000,
  'server-split': 75_000,
} as const;
type Mode = keyof typeof TARGET_EVENTS_PER_SECOND;

const options = benchOptions(BENCH, {
  duration: { default: 30, doc: 'seconds of load against the product' },
  'baseline-duration': { default: 10, doc: 'seconds of load against the bare HTTP server' },
  connections: { default: 8, doc: 'concurrent keep-alive connections' },
  batch: { default: 500, doc: 'events per POST (the collector takes up to 1000)' },
  accounts: { default: 10, doc: 'accounts the events are spread over' },
  'queryable-timeout': { default: 300, doc: 'seconds to wait for every event to be counted' },
});
const profile = benchFlag('profile');
const modes: Mode[] = benchFlag('embedded-only')
  ? ['embedded']
  : benchFlag('server-only')
    ? ['server', 'server-split']
    : ['embedded', 'server', 'server-split'];

/**
 * Batch bodies from one template: only the batch number changes, so building a body is one
 * `join` and the client spends its CPU on sending. Events sit 3 to 27 hours back, outside the
 * live tail the metrics store merges, so "counted" means stored in the rollups.
 */
function batchBodies(prefix: string, size: number, accounts: number): (n: number) => string {
  const now = Date.now();
  const parts: string[] = [];
  let text = '{"events":[';
  for (let i = 0; i < size; i++) {
    const account = `${prefix}-${i % accounts}`;
    const occurredAt = new Date(now - (3 + (i % 24)) * HOUR - i * 1000).toISOString();
    text += `${i === 0 ? '' : ','}{"id":"${prefix}-`;
    parts.push(text);
    text =
      `-${i}","type":"engagement","platform":"instagram","accountId":"${account}",` +
      `"postId":"${account}-post-${i % 7}","metric":"likes","mode":"delta","value":1,` +
      `"occurredAt":"${occurredAt}"}`;
  }
  parts.push(`${text}]}`);
  return (n) => parts.join(String(n));
}

/** Sum of LIKES over the accounts through the gateway: what a dashboard would show. */
function countQuery(prefix: string, accounts: number): string {
  const fields = Array.from(
    { length: accounts },
    (_, i) =>
      `a${i}: account(id: "${prefix}-${i}") { metrics(range: $range, granularity: DAY, metrics: [LIKES]) { series { total } } }`,
  );
  return `query ($range: TimeRange!) {\n  ${fields.join('\n  ')}\n}`;
}

type CountData = Record<string, { metrics: { series: { total: number }[] } } | null>;

async function counted(
  client: HttpClient,
  product: RunningProduct,
  query: string,
): Promise<number> {
  const now = Date.now();
  const range = {
    from: new Date(now - 3 * 24 * HOUR).toISOString(),
    to: new Date(now + HOUR).toISOString(),
  };
  const { data } = await graphql<CountData>(client, product.gateway, product.apiKey, query, {
    range,
  });
  return Object.values(data).reduce((sum, a) => sum + (a?.metrics.series[0]?.total ?? 0), 0);
}

function acknowledgedByCollector(status: number, body: string): number {
  if (status !== 200) return 0;
  const match = /^\{"accepted":(\d+)/.exec(body);
  return match ? Number(match[1]) : 0;
}

function printLoad(label: string, r: LoadResult): void {
  const others = [...r.otherStatuses].map(([s, n]) => `${s} x${n}`).join(', ');
  progress(
    BENCH,
    `${label}: ${count(r.events)} events in ${count(r.batches)} batches, ${count(r.eventsPerSecond)} events/s; ` +
      `batch latency ${describe(r.latency)}${r.failures ? `; ${r.failures} failed (${others})` : ''}`,
  );
}

async function httpCeiling(batch: (n: number) => string): Promise<LoadResult> {
  const sink = forkBenchChild(new URL('./support/http-sink.ts', import.meta.url), []);
  const client = createHttpClient({ connections: options.connections });
  try {
    const { url } = await sink.next<{ type: 'ready'; url: string }>('ready');
    progress(
      BENCH,
      `baseline: bare node:http server in a child process, ${options['baseline-duration']} s`,
    );
    const result = await runLoad({
      bench: BENCH,
      label: 'baseline',
      client,
      url: `${url}/v1/events`,
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      connections: options.connections,
      durationMs: options['baseline-duration'] * 1000,
      body: batch,
      acknowledged: (status) => (status === 200 ? options.batch : 0),
    });
    printLoad('baseline (HTTP ceiling)', result);
    return result;
  } finally {
    client.close();
    await sink.stop();
  }
}

interface ModeResult {
  accepted: number;
  queryable: number;
  latency: LoadResult['latency'];
}

async function measure(mode: Mode): Promise<ModeResult> {
  const { batch, accounts, connections } = options;
  const measured = batchBodies(`bench-${mode}`, batch, accounts);
  const servers = mode === 'embedded' ? undefined : await throwawayServerEnv();
  const dataDir = await mkdtemp(join(tmpdir(), 'loupe-bench-ingest-'));
  const client = createHttpClient({ connections });
  const probe = createHttpClient({ connections: 1 });
  let product: RunningProduct | undefined;
  let collector: RunningProduct | undefined;
  try {
    if (mode === 'server-split') {
      // The collector alone in a process of its own; everything else (pipeline, subgraphs,
      // gateway) in the product process, which holds the chDB the sink writes and queries read.
      collector = await startProduct({
        dataDir: join(dataDir, 'collector'),
        apiKey: API_KEY,
        env: servers?.env,
        services: ['ingest'],
      });
      progress(BENCH, `${mode}: collector process ready at ${collector.ingest}`);
    }
    progress(
      BENCH,
      `${mode}: starting the product on ${dataDir}${profile ? ' (CPU profile on)' : ''}`,
    );
    product = await startProduct({
      dataDir,
      apiKey: API_KEY,
      profileDir: profile ? PROFILE_DIR : undefined,
      env: servers?.env,
      services: mode === 'server-split' ? SERVICES.filter((name) => name !== 'ingest') : undefined,
    });
    progress(
      BENCH,
      `product ready in ${seconds(product.startupMs)}: collector ${collector?.ingest ?? product.ingest}, gateway ${product.gateway}`,
    );
    const running = product;
    const ingestUrl = collector?.ingest ?? running.ingest;
    const query = countQuery(`bench-${mode}`, accounts);
    const load = (label: string, durationMs: number, body: (n: number) => string) =>
      runLoad({
        bench: BENCH,
        label,
        client,
        url: `${ingestUrl}/v1/events`,
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        connections,
        durationMs,
        body,
        acknowledged: acknowledgedByCollector,
        onProgress:
          label === 'load'
            ? async () =>
                `${count(await counted(probe, running, query))} counted through the gateway`
            : undefined,
      });

    // Warm-up on other accounts, so the JIT and the stores settle before the clock starts.
    progress(BENCH, 'warm-up: 3 s of load on separate accounts');
    await load('warm-up', 3_000, batchBodies(`warm-${mode}`, batch, accounts));
    await running.child.request('caughtUp', 120_000, 130_000);

    const cpuBefore = await running.stats();
    const result = await load('load', options.duration * 1000, measured);
    const cpuAfterLoad = await running.stats();
    printLoad(`product, ${mode}`, result);

    progress(
      BENCH,
      `waiting until the gateway counts all ${count(result.events)} acknowledged events`,
    );
    const deadline = performance.now() + options['queryable-timeout'] * 1000;
    let lastPrint = performance.now();
    let seen = 0;
    let queryableAt = NaN;
    for (;;) {
      seen = await counted(probe, running, query);
      const now = performance.now();
      if (seen >= result.events) {
        queryableAt = now;
        break;
      }
      if (now > deadline) break;
      if (now - lastPrint > 2_000) {
        progress(
          BENCH,
          `${count(seen)} of ${count(result.events)} counted, ${seconds(now - result.lastAckAt)} after the last acknowledgement`,
        );
        lastPrint = now;
      }
      await sleep(100);
    }
    const cpuAfter = await running.stats();
    if (seen > result.events) {
      progress(
        BENCH,
        `note: ${count(seen)} counted > ${count(result.events)} acknowledged (a failed batch was partly kept)`,
      );
    }
    const queryableRate = (result.events * 1000) / (queryableAt - result.firstSentAt);
    if (Number.isNaN(queryableAt)) {
      progress(
        BENCH,
        `only ${count(seen)} of ${count(result.events)} counted after ${options['queryable-timeout']} s`,
      );
    } else {
      progress(
        BENCH,
        `all counted ${seconds(queryableAt - result.lastAckAt)} after the last acknowledgement, ` +
          `${seconds(queryableAt - result.firstSentAt)} after the first POST: ${count(queryableRate)} events/s queryable`,
      );
    }
    const loadWall = result.lastAckAt - result.firstSentAt;
    const drainWall =
      (Number.isNaN(queryableAt) ? performance.now() : queryableAt) - result.lastAckAt;
    progress(
      BENCH,
      `product CPU: ${((cpuAfterLoad.cpuMs - cpuBefore.cpuMs) / loadWall).toFixed(2)} cores during load, ` +
        `${((cpuAfter.cpuMs - cpuAfterLoad.cpuMs) / drainWall).toFixed(2)} cores while draining; ` +
        `RSS ${count(cpuAfter.rssBytes / 2 ** 20)} MiB`,
    );

    return { accepted: result.eventsPerSecond, queryable: queryableRate, latency: result.latency };
  } finally {
    client.close();
    probe.close();
    await collector?.stop();
    await product?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await servers?.cleanup();
  }
}

async function main(): Promise<void> {
  const { batch, accounts, connections } = options;
  progress(
    BENCH,
    `${batch} events per batch over ${connections} connections, ${accounts} accounts, ${options.duration} s of load; modes: ${modes.join(', ')}`,
  );
  const ceiling = await httpCeiling(batchBodies('ceiling', batch, accounts));
  const results = new Map<Mode, ModeResult>();
  for (const mode of modes) results.set(mode, await measure(mode));

  const ceilingBase = { name: 'HTTP ceiling', value: ceiling.eventsPerSecond };
  const embedded = results.get('embedded');
  const figures: Figure[] = [];
  for (const [mode, r] of results) {
    const target = { op: '>=' as const, value: TARGET_EVENTS_PER_SECOND[mode] };
    // Server mode is compared with the embedded run of this invocation when there is one.
    const base = (pick: (m: ModeResult) => number) =>
      mode !== 'embedded' && embedded ? { name: 'embedded', value: pick(embedded) } : ceilingBase;
    figures.push(
      {
        bench: BENCH,
        name: `${mode}: events/s accepted`,
        value: r.accepted,
        unit: 'events/s',
        target,
        baseline: base((m) => m.accepted),
      },
      {
        bench: BENCH,
        name: `${mode}: events/s queryable`,
        value: r.queryable,
        unit: 'events/s',
        target,
        baseline: base((m) => m.queryable),
      },
      {
        bench: BENCH,
        name: `${mode}: batch latency p50 (${batch} events)`,
        value: r.latency.p50,
        unit: 'ms',
        baseline: { name: 'HTTP ceiling', value: ceiling.latency.p50 },
      },
      {
        bench: BENCH,
        name: `${mode}: batch latency p99 (${batch} events)`,
        value: r.latency.p99,
        unit: 'ms',
        baseline: { name: 'HTTP ceiling', value: ceiling.latency.p99 },
      },
    );
  }
  publishFigures(figures);
}

await main();
