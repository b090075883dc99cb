// The dashboard query through the gateway: 30 days × every metric for one account at DAY grain,
// over 10M stored events. Baselines from the same run: the same read straight on the metrics
// store (no HTTP, no GraphQL), and a trivial gateway query, to show what the gateway adds.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { forkBenchChild } from './support/child.ts';
import type { DashboardDataResult } from './support/dashboard-data.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { createHttpClient, graphql, type HttpClient } from './support/http-client.ts';
import { benchFlag, benchOptions } from './support/options.ts';
import { BENCH_CACHE_DIR, PROFILE_DIR } from './support/paths.ts';
import { startProduct, type RunningProduct } from './support/product-child.ts';
import {
  count,
  describe,
  percentiles,
  progress,
  seconds,
  type Percentiles,
} from './support/stats.ts';

const BENCH = 'dashboard';
const API_KEY = 'loupe_bench_dashboard_000000';
const ACCOUNT = 'acct-000';
const DAY_MS = 24 * 3_600_000;
const TARGET_P95_MS = 25;

const options = benchOptions(BENCH, {
  events: { default: 10_000_000, doc: 'events stored before measuring' },
  accounts: { default: 100, doc: 'accounts the stored events belong to' },
  days: { default: 90, doc: 'days of history the stored events cover' },
  queries: { default: 500, doc: 'sequential queries measured per kind' },
  warmup: { default: 50, doc: 'queries run first and not measured' },
});
const profile = benchFlag('profile');

const DASHBOARD_QUERY = /* GraphQL */ `
  query Dashboard($id: ID!, $from: DateTime!, $to: DateTime!) {
    account(id: $id) {
      id
      metrics(range: { from: $from, to: $to }, granularity: DAY) {
        live
        series {
          metric
          total
          points {
            at
            value
          }
        }
      }
    }
  }
`;
const TRIVIAL_QUERY = '{ accounts { id } }';

interface DashboardData {
  account: {
    id: string;
    metrics: { live: boolean; series: { metric: string; total: number; points: unknown[] }[] };
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

async function prepareAndReadStore(dataDir: string): Promise<DashboardDataResult> {
  const child = forkBenchChild(new URL('./support/dashboard-data.ts', import.meta.url), [
    ...['--data-dir', dataDir, '--api-key', API_KEY, '--account', ACCOUNT],
    ...['--events', String(options.events), '--accounts', String(options.accounts)],
    ...['--days', String(options.days), '--queries', String(options.queries)],
    ...['--warmup', String(options.warmup)],
  ]);
  try {
    // Seeding 10M events takes minutes on two cores; the child prints its own progress.
    const result = await child.next<DashboardDataResult>('result', 30 * 60_000);
    await child.exited;
    return result;
  } finally {
    await child.stop(5_000);
  }
}

async function main(): Promise<void> {
  const dataDir = join(
    BENCH_CACHE_DIR,
    `dashboard-${options.events}e-${options.accounts}a-${options.days}d`,
  );
  progress(BENCH, `data directory ${dataDir} (kept between runs)`);
  const store = await prepareAndReadStore(dataDir);
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
    progress(
      BENCH,
      `gateway answer for ${ACCOUNT}: ${series.length} series × ${series[0]?.points.length ?? 0} days; ` +
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
