// The dashboard query through the gateway: 30 days up to now × every metric and the engagement
// rate for one account, by day in the organisation's time zone (America/Los_Angeles), over 10M
// stored events. Baselines from the same run: the same read straight on the metrics store by the
// router's statement (no HTTP, no GraphQL, nothing cached), and a trivial gateway query.
// Then the same dashboard from many clients at once (closed loop, each honouring Retry-After),
// beside one client looping the same way: answers per second and latency percentiles.
import { performance } from 'node:perf_hooks';
import { dashboardDataDir, prepareDashboardData } from './support/dashboard-prepare.ts';
import { DASHBOARD_QUERY } from './support/dashboard-query.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { createHttpClient, graphql, type HttpClient } from './support/http-client.ts';
import { openLoadAgent, timedPost, type Outcome } from './support/open-load.ts';
import { benchFlag, benchOptions } from './support/options.ts';
import { PROFILE_DIR } from './support/paths.ts';
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

const BENCH = 'dashboard';
const API_KEY = 'loupe_bench_dashboard_000000';
const ACCOUNT = 'acct-000';
const DAY_MS = 24 * 3_600_000;
const TARGET_P95_MS = 25;
const TARGET_CONCURRENT_RATE = 200;
const TARGET_CONCURRENT_P95_MS = 100;

const options = benchOptions(BENCH, {
  events: { default: 10_000_000, doc: 'events stored before measuring' },
  accounts: { default: 100, doc: 'accounts the stored events belong to' },
  days: { default: 90, doc: 'days of history the stored events cover' },
  queries: { default: 500, doc: 'sequential queries measured per kind' },
  warmup: { default: 50, doc: 'queries run first and not measured' },
  clients: { default: 50, doc: 'clients of the concurrent dashboard load' },
  duration: { default: 20, doc: 'seconds of the concurrent load, and of its 1-client baseline' },
});
const profile = benchFlag('profile');

const TRIVIAL_QUERY = '{ accounts { id } }';

interface DashboardData {
  account: {
    id: string;
    metrics: {
      live: boolean;
      timeZone: string;
      engagementRate: { total: number | null };
      series: { metric: string; total: number; points: unknown[] }[];
    };
  } | null;
}

/** The range a dashboard sends: the last 30 days up to the moment it asks. */
function dashboardVariables(): Record<string, unknown> {
  const to = Date.now();
  return {
    id: ACCOUNT,
    from: new Date(to - 30 * DAY_MS).toISOString(),
    to: new Date(to).toISOString(),
  };
}

async function timeQueries(label: string, run: () => Promise<number>): Promise<Percentiles> {
  for (let i = 0; i < options.warmup; i++) await run();
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < options.queries; i++) {
    samples.push(await run());
    if ((i + 1) % 100 === 0 || i + 1 === options.queries) {
      progress(
        BENCH,
        `${label}: ${i + 1} / ${options.queries} (${seconds(performance.now() - started)})`,
      );
    }
  }
  const result = percentiles(samples);
  progress(BENCH, `${label}: ${describe(result)}`);
  return result;
}

interface LoopResult {
  answers: number;
  perSecond: number;
  latency: Percentiles;
  /** Answers other than 200 with a GraphQL result, by status or failure. */
  others: Map<string, number>;
}

/** `clients` callers in a closed loop for `durationMs`; after a 503 a caller waits Retry-After. */
async function closedLoop(
  gateway: string,
  clients: number,
  durationMs: number,
): Promise<LoopResult> {
  const agent = openLoadAgent();
  const headers = { 'content-type': 'application/json', 'x-api-key': API_KEY };
  const answered: Outcome[] = [];
  const others = new Map<string, number>();
  const started = performance.now();
  const until = started + durationMs;
  const caller = async () => {
    while (performance.now() < until) {
      const body = JSON.stringify({ query: DASHBOARD_QUERY, variables: dashboardVariables() });
      const outcome = await timedPost(agent, gateway, headers, body, 10_000);
      if (outcome.status === 200 && outcome.code === undefined) answered.push(outcome);
      else {
        const key = `${outcome.status}${outcome.code ? ` ${outcome.code}` : ''}`;
        others.set(key, (others.get(key) ?? 0) + 1);
        if (outcome.status === 503) await sleep(Number(outcome.retryAfter ?? 1) * 1000);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, caller));
  } finally {
    agent.destroy();
  }
  const elapsed = performance.now() - started;
  return {
    answers: answered.length,
    perSecond: (answered.length * 1000) / elapsed,
    latency: percentiles(answered.map((o) => o.ms)),
    others,
  };
}

function describeLoop(label: string, r: LoopResult): string {
  const others = [...r.others].map(([k, n]) => `${count(n)}× ${k}`).join(', ');
  return `${label}: ${count(r.answers)} answers, ${r.perSecond.toFixed(1)}/s; ${describe(r.latency)}${
    others ? `; not answered: ${others}` : ''
  }`;
}

async function main(): Promise<void> {
  const dataDir = dashboardDataDir(options);
  progress(BENCH, `data directory ${dataDir} (kept between runs)`);
  const store = await prepareDashboardData(dataDir, {
    ...options,
    apiKey: API_KEY,
    account: ACCOUNT,
  });
  const { manifest } = store;
  progress(
    BENCH,
    store.seeded
      ? `seeded ${count(manifest.events)} events in ${seconds(manifest.seedMs)} this run`
      : `reused data seeded ${new Date(manifest.seededAt).toISOString()} (the seed took ${seconds(manifest.seedMs)})`,
  );

  const client: HttpClient = createHttpClient({ connections: 1 });
  let product: RunningProduct | undefined;
  try {
    progress(
      BENCH,
      `starting the product on the prepared data${profile ? ' (CPU profile on)' : ''}`,
    );
    product = await startProduct({
      dataDir,
      apiKey: API_KEY,
      profileDir: profile ? PROFILE_DIR : undefined,
    });
    const { gateway, apiKey } = product;
    progress(BENCH, `product ready in ${seconds(product.startupMs)}: gateway ${gateway}`);

    const first = await graphql<DashboardData>(
      client,
      gateway,
      apiKey,
      DASHBOARD_QUERY,
      dashboardVariables(),
    );
    const series = first.data.account?.metrics.series ?? [];
    if (series.length === 0)
      throw new Error(`the gateway knows no ${ACCOUNT}: ${JSON.stringify(first.data)}`);
    const { timeZone, engagementRate } = first.data.account!.metrics;
    progress(
      BENCH,
      `gateway answer for ${ACCOUNT}: ${series.length} series × ${series[0]?.points.length ?? 0} days in ${timeZone}, ` +
        `engagement rate ${engagementRate.total ?? 'none'}; ` +
        series.map((s) => `${s.metric} ${count(s.total)}`).join(', '),
    );

    const dashboard = await timeQueries('dashboard query via gateway', async () => {
      const r = await graphql<DashboardData>(
        client,
        gateway,
        apiKey,
        DASHBOARD_QUERY,
        dashboardVariables(),
      );
      return r.ms;
    });
    const trivial = await timeQueries(`trivial gateway query ${TRIVIAL_QUERY}`, async () => {
      const r = await graphql<unknown>(client, gateway, apiKey, TRIVIAL_QUERY);
      return r.ms;
    });

    const loopMs = options.duration * 1000;
    progress(BENCH, `dashboard from 1 client in a closed loop for ${seconds(loopMs)}`);
    const single = await closedLoop(gateway, 1, loopMs);
    progress(BENCH, describeLoop('1 client', single));
    progress(BENCH, `dashboard from ${options.clients} clients at once for ${seconds(loopMs)}`);
    const many = await closedLoop(gateway, options.clients, loopMs);
    progress(BENCH, describeLoop(`${options.clients} clients`, many));
    progress(
      BENCH,
      `${options.clients} clients get ${(many.perSecond / single.perSecond).toFixed(2)}x the answers per second of 1 client`,
    );

    progress(
      BENCH,
      `at p50 the gateway path adds ${(dashboard.p50 - store.store.p50).toFixed(1)} ms to the store read; ` +
        `a trivial query through the gateway takes ${trivial.p50.toFixed(1)} ms`,
    );
    const storeBase = (p: keyof Percentiles) => ({ name: 'store read', value: store.store[p] });
    const figures: Figure[] = [
      {
        bench: BENCH,
        name: 'dashboard query p50',
        value: dashboard.p50,
        unit: 'ms',
        baseline: storeBase('p50'),
      },
      {
        bench: BENCH,
        name: 'dashboard query p95',
        value: dashboard.p95,
        unit: 'ms',
        target: { op: '<=', value: TARGET_P95_MS },
        baseline: storeBase('p95'),
      },
      {
        bench: BENCH,
        name: 'dashboard query p99',
        value: dashboard.p99,
        unit: 'ms',
        baseline: storeBase('p99'),
      },
      {
        bench: BENCH,
        name: `${options.clients} clients: answers/s`,
        value: many.perSecond,
        unit: 'answers/s',
        target: { op: '>=', value: TARGET_CONCURRENT_RATE },
        baseline: { name: '1 client', value: single.perSecond },
      },
      {
        bench: BENCH,
        name: `${options.clients} clients: p50`,
        value: many.latency.p50,
        unit: 'ms',
        baseline: { name: '1 client', value: single.latency.p50 },
      },
      {
        bench: BENCH,
        name: `${options.clients} clients: p95`,
        value: many.latency.p95,
        unit: 'ms',
        target: { op: '<=', value: TARGET_CONCURRENT_P95_MS },
        baseline: { name: '1 client', value: single.latency.p95 },
      },
      {
        bench: BENCH,
        name: `${options.clients} clients: not answered`,
        value: [...many.others.values()].reduce((a, b) => a + b, 0),
        unit: 'requests',
      },
      { bench: BENCH, name: 'trivial gateway query p50', value: trivial.p50, unit: 'ms' },
      { bench: BENCH, name: 'trivial gateway query p95', value: trivial.p95, unit: 'ms' },
    ];
    if (store.seeded) {
      figures.push({
        bench: BENCH,
        name: `seed of ${count(manifest.events)} events`,
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
