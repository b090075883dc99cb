// Head-to-head of a 20-account competitor set over the last 90 days, by day in the organisation's
// time zone (America/Los_Angeles), through the gateway, over 10M stored events (the dashboard
// benchmark's data set, shared with it). Every member's series, engagement rate, growth, posting
// frequency and engagement per post, the landscape and shares of voice, in one query. Baseline
// from the same run: a trivial gateway query.
import { performance } from 'node:perf_hooks';
import { dashboardDataDir, prepareDashboardData } from './support/dashboard-prepare.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { createHttpClient, graphql, type HttpClient } from './support/http-client.ts';
import { benchFlag, benchOptions } from './support/options.ts';
import { PROFILE_DIR } from './support/paths.ts';
import { startProduct, type RunningProduct } from './support/product-child.ts';
import {
  count,
  describe,
  percentiles,
  progress,
  seconds,
  type Percentiles,
} from './support/stats.ts';

const BENCH = 'benchmarking';
// The dashboard benchmark's key: the seeded directory is reused between the two.
const API_KEY = 'loupe_bench_dashboard_000000';
const DAY_MS = 24 * 3_600_000;
const TARGET_P95_MS = 100;
const SET_NAME = 'Bench rivals';

const options = benchOptions(BENCH, {
  events: { default: 10_000_000, doc: 'events stored before measuring' },
  accounts: { default: 100, doc: 'accounts the stored events belong to' },
  days: { default: 90, doc: 'days of history the stored events cover' },
  members: { default: 20, doc: 'accounts in the competitor set' },
  queries: { default: 200, doc: 'sequential queries measured per kind' },
  warmup: { default: 20, doc: 'queries run first and not measured' },
});
const profile = benchFlag('profile');

/**
 * The head-to-head query with each series as `values` (aligned with `buckets`, what a chart
 * draws) or as `points` (objects of `at` and `value`, five times the fields to answer).
 */
const headToHead = (series: 'values' | 'points') => /* GraphQL */ `
  query ($id: ID!, $from: DateTime!, $to: DateTime!) {
    competitorSet(id: $id) {
      benchmark(range: { from: $from, to: $to }, granularity: DAY) {
        timeZone
        buckets {
          at
        }
        members {
          account {
            id
          }
          series {
            metric
            total
            ${SERIES[series]}
            percentileRank
          }
          engagements
          engagementRate {
            total
            ${SERIES[series]}
          }
          followerGrowth {
            start
            change
            changePercent
          }
          posts
          postsPerWeek
          averageEngagementPerPost
          ranks {
            engagements
            engagementRate
            postsPerWeek
          }
        }
        landscape {
          series {
            metric
            average
            median
          }
          engagementRate {
            average
            median
          }
        }
        shareOfVoice {
          mentions
          engagements
          members {
            mentionShare
            engagementShare
          }
        }
      }
    }
  }
`;

const SERIES = { values: 'values', points: 'points { at value }' } as const;

interface HeadToHead {
  competitorSet: {
    benchmark: {
      timeZone: string;
      members: { account: { id: string }; engagements: number; posts: number }[];
    };
  } | null;
}

/** The range a dashboard sends: the last 90 days up to the moment it asks. */
function variables(id: string): Record<string, unknown> {
  const to = Date.now();
  return { id, from: new Date(to - 90 * DAY_MS).toISOString(), to: new Date(to).toISOString() };
}

async function timeQueries(label: string, run: () => Promise<number>): Promise<Percentiles> {
  for (let i = 0; i < options.warmup; i++) await run();
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < options.queries; i++) samples.push(await run());
  const result = percentiles(samples);
  progress(BENCH, `${label}: ${describe(result)} (${seconds(performance.now() - started)})`);
  return result;
}

/** The bench set's id: made on the first run, found again on the next ones. */
async function competitorSet(client: HttpClient, gateway: string): Promise<string> {
  const { data } = await graphql<{ competitorSets: { id: string; name: string }[] }>(
    client,
    gateway,
    API_KEY,
    '{ competitorSets { id name } }',
  );
  const found = data.competitorSets.find((s) => s.name === SET_NAME);
  if (found) return found.id;
  const ids = Array.from(
    { length: options.members },
    (_, i) => `acct-${String(i).padStart(3, '0')}`,
  );
  const created = await graphql<{ createCompetitorSet: { id: string } }>(
    client,
    gateway,
    API_KEY,
    'mutation ($name: String!, $ids: [ID!]!) { createCompetitorSet(name: $name, accountIds: $ids) { id } }',
    { name: SET_NAME, ids },
  );
  return created.data.createCompetitorSet.id;
}

async function main(): Promise<void> {
  const dataDir = dashboardDataDir(options);
  progress(BENCH, `data directory ${dataDir} (kept between runs)`);
  const store = await prepareDashboardData(dataDir, {
    ...options,
    queries: 10,
    warmup: 2,
    apiKey: API_KEY,
    account: 'acct-000',
  });
  progress(
    BENCH,
    store.seeded
      ? `seeded ${count(store.manifest.events)} events in ${seconds(store.manifest.seedMs)} this run`
      : `reused data seeded ${new Date(store.manifest.seededAt).toISOString()}`,
  );

  const client = createHttpClient({ connections: 1 });
  let product: RunningProduct | undefined;
  try {
    product = await startProduct({
      dataDir,
      apiKey: API_KEY,
      profileDir: profile ? PROFILE_DIR : undefined,
    });
    const { gateway } = product;
    progress(BENCH, `product ready in ${seconds(product.startupMs)}: gateway ${gateway}`);
    const id = await competitorSet(client, gateway);
    const query = { values: headToHead('values'), points: headToHead('points') };
    const first = await graphql<HeadToHead>(client, gateway, API_KEY, query.values, variables(id));
    const bench = first.data.competitorSet?.benchmark;
    if (!bench || bench.members.length === 0) {
      throw new Error(`no benchmark for set ${id}: ${JSON.stringify(first.data)}`);
    }
    progress(
      BENCH,
      `${bench.members.length} members in ${bench.timeZone}; ` +
        `engagements ${bench.members.map((m) => count(m.engagements)).join(', ')}`,
    );
    const timed = {} as Record<keyof typeof query, Percentiles>;
    for (const form of ['values', 'points'] as const) {
      timed[form] = await timeQueries(`head-to-head via gateway, series as ${form}`, async () => {
        const r = await graphql<HeadToHead>(client, gateway, API_KEY, query[form], variables(id));
        return r.ms;
      });
    }
    const trivial = await timeQueries('trivial gateway query', async () => {
      const r = await graphql<unknown>(client, gateway, API_KEY, '{ competitorSets { id } }');
      return r.ms;
    });
    const figures: Figure[] = (['values', 'points'] as const).flatMap((form) =>
      (['p50', 'p95', 'p99'] as const).map((p): Figure => ({
        bench: BENCH,
        name: `head-to-head of ${options.members} accounts × 90 days, series as ${form}, ${p}`,
        value: timed[form][p],
        unit: 'ms',
        // The target is the query a dashboard sends: series as values, beside the buckets.
        ...(form === 'values' && p === 'p95' && { target: { op: '<=', value: TARGET_P95_MS } }),
        baseline: { name: 'trivial query', value: trivial[p] },
      })),
    );
    publishFigures(figures);
  } finally {
    client.close();
    await product?.stop();
  }
}

await main();
