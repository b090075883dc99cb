// The dashboard benchmark's data and its store-level baseline, in a process of its own (chDB
// allows one process per data directory, so this runs before the product opens the same one).
// 1. Seeds `<data-dir>` unless a matching seed is already there: the OLAP schema, N synthetic
//    events inserted by ClickHouse itself (`INSERT … SELECT … FROM numbers()`) in chunks, and the
//    accounts in the meta store under the demo organisation.
// 2. Times the dashboard read straight on the metrics store, with no HTTP or GraphQL in between.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createMemoryLiveStore } from '../../lib/live/memory.live.ts';
import {
  DEMO_ORG_ID,
  DEMO_TIME_ZONE,
  ensureDemoOrganisation,
  upsertTrackedAccounts,
} from '../../lib/meta/accounts.repo.ts';
import { migrate } from '../../lib/meta/migrate.ts';
import { createPgliteMeta } from '../../lib/meta/pglite.meta.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import { METRICS, PLATFORMS } from '../../schema/event-envelope.ts';
import { createMetricsStore, readAccountSeries } from '../../subgraphs/metrics/metrics.store.ts';
import { tell } from './child.ts';
import { cachedManifest, schemaHash } from './seed-cache.ts';
import { count, describe, percentiles, seconds, type Percentiles } from './stats.ts';

/** Bump when the generated data changes shape, so cached directories are rebuilt. */
// 2: the quarter-hour rollup is merged after seeding too.
const SEED_VERSION = 2;
/** A cached seed older than this no longer fills the dashboard's 30 days before now. */
const MAX_SEED_AGE_MS = 30 * 24 * 3_600_000;
const CHUNK = 1_000_000;
const DAY_MS = 24 * 3_600_000;

export interface SeedManifest {
  version: number;
  events: number;
  accounts: number;
  days: number;
  apiKey: string;
  /** Hash of the DDL and migrations the data was written with. */
  schemaHash: string;
  seededAt: number;
  seedMs: number;
}

export interface DashboardDataResult {
  type: 'result';
  manifest: SeedManifest;
  /** True when this run seeded; false when it reused the cached directory. */
  seeded: boolean;
  storedEvents: number;
  store: Percentiles;
}

function accountId(i: number): string {
  return `acct-${String(i).padStart(3, '0')}`;
}

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'api-key': { type: 'string' },
    events: { type: 'string' },
    accounts: { type: 'string' },
    days: { type: 'string' },
    queries: { type: 'string' },
    warmup: { type: 'string' },
    account: { type: 'string' },
  },
});
const dataDir = values['data-dir'];
const apiKey = values['api-key'];
if (!dataDir || !apiKey) throw new Error('dashboard-data.ts needs --data-dir and --api-key');
const events = Number(values.events ?? 10_000_000);
const accounts = Number(values.accounts ?? 100);
const days = Number(values.days ?? 90);
const queries = Number(values.queries ?? 500);
const warmup = Number(values.warmup ?? 50);
const account = values.account ?? accountId(0);

const say = (text: string) => console.log(`[dashboard] ${text}`);
// The parent is gone: nothing will read what we measure.
process.on('disconnect', () => process.exit(1));

/**
 * One chunk of synthetic events, generated inside ClickHouse from a hash of the row number:
 * 75% engagement deltas on posts, 8% lifetime totals on posts (growing with the post's age, so
 * re-reading never goes back), 2% profile snapshots (followers, following, post count), 12% app
 * events with user ids, 3% posts and comments; each account publishes one post a day and its
 * posts collect engagement for a week. Folding rows at insert time halves the insert speed, so
 * the rollups are merged once at the end instead.
 */
const CHUNK_SQL = `
INSERT INTO events
SELECT org_id, account_id, event_id, type, platform, post_id, user_id, occurred_at, received_at,
       metric_names, metric_modes, metric_values, payload
FROM (
  SELECT
    {org:String} AS org_id,
    cityHash64(number, {salt:UInt64}) AS h,
    toUInt32(number % {accounts:UInt32}) AS a,
    concat('acct-', leftPad(toString(a), 3, '0')) AS account_id,
    concat('seed-', toString(number)) AS event_id,
    {platforms:Array(String)}[a % length({platforms:Array(String)}) + 1] AS platform,
    h % 1000 AS roll,
    multiIf(roll < 750, 'delta', roll < 830, 'total', roll < 850, 'profile',
            roll < 970, 'app', roll < 985, 'post', 'comment') AS kind,
    if(kind IN ('delta', 'total'), 'engagement', kind) AS type,
    {start:Int64} + toInt64(bitShiftRight(h, 12) % {span:UInt64}) AS t_ms,
    intDiv(t_ms - {start:Int64}, ${DAY_MS}) AS day,
    greatest(toInt64(0), day - toInt64(bitShiftRight(h, 40) % 7)) AS post_day,
    {start:Int64} + post_day * ${DAY_MS} + toInt64(a % 12) * 3600000 AS published_ms,
    concat(account_id, '-post-', toString(post_day)) AS post_ref,
    ['views', 'views', 'views', 'views', 'views', 'views', 'impressions', 'impressions',
     'impressions', 'impressions', 'reach', 'reach', 'reach', 'likes', 'likes', 'likes',
     'comments', 'shares', 'saves', 'clicks'][bitShiftRight(h, 50) % 20 + 1] AS metric,
    metric IN ('views', 'impressions', 'reach') AS big,
    multiIf(kind IN ('delta', 'total', 'post', 'comment'), post_ref,
            kind = 'app' AND bitShiftRight(h, 30) % 4 = 0, post_ref, '') AS post_id,
    if(kind = 'app', concat('user-', toString(a), '-', toString(bitShiftRight(h, 24) % 5000)), '') AS user_id,
    fromUnixTimestamp64Milli(t_ms, 'UTC') AS occurred_at,
    fromUnixTimestamp64Milli(t_ms + 500 + toInt64(bitShiftRight(h, 8) % 4000), 'UTC') AS received_at,
    toInt64(intDiv(greatest(toInt64(0), t_ms - published_ms), 60000) * (a % 5 + 1) * if(big, 20, 1)) AS total_value,
    toInt64(if(big, 1 + bitShiftRight(h, 33) % 40, 1 + bitShiftRight(h, 33) % 4)) AS delta_value,
    toInt64(20000 + a * 1500 + intDiv(t_ms - {start:Int64}, 3600000) * (a % 7 + 1)) AS followers,
    toInt64(300 + a * 3 + intDiv(t_ms - {start:Int64}, 3 * ${DAY_MS})) AS following,
    toInt64(40 + day) AS post_count,
    multiIf(kind IN ('delta', 'total'), [metric],
            kind = 'profile', ['followers', 'following', 'post_count'],
            kind = 'app', ['app_events'], CAST([], 'Array(String)')) AS metric_names,
    CAST(multiIf(kind = 'delta', ['delta'], kind = 'total', ['total'],
                 kind = 'profile', ['total', 'total', 'total'], kind = 'app', ['delta'],
                 CAST([], 'Array(String)')),
         'Array(Enum8(\\'delta\\' = 1, \\'total\\' = 2))') AS metric_modes,
    multiIf(kind = 'delta', [delta_value], kind = 'total', [total_value],
            kind = 'profile', [followers, following, post_count],
            kind = 'app', [toInt64(1)], CAST([], 'Array(Int64)')) AS metric_values,
    formatDateTime(occurred_at, '%Y-%m-%dT%H:%i:%SZ') AS iso,
    concat('{"id":"', event_id, '","platform":"', platform, '","accountId":"', account_id,
           '","occurredAt":"', iso, '",', multiIf(
      type = 'engagement', concat('"type":"engagement","metric":"', metric, '","mode":"', kind,
        '","value":', toString(metric_values[1]), ',"postId":"', post_ref, '"}'),
      kind = 'profile', concat('"type":"profile","handle":"', account_id,
        '","displayName":"Account ', toString(a), '","followers":', toString(followers),
        ',"following":', toString(following), ',"postCount":', toString(post_count), '}'),
      kind = 'app', concat('"type":"app","name":"',
        ['page_view', 'signup', 'share_click', 'purchase'][bitShiftRight(h, 36) % 4 + 1], '","userId":"',
        user_id, '","properties":{}', if(post_id = '', '', concat(',"postId":"', post_id, '"')), '}'),
      kind = 'post', concat('"type":"post","action":"published","postId":"', post_ref,
        '","content":"Post ', toString(post_day), ' of ', account_id,
        '","mediaType":"image","publishedAt":"',
        formatDateTime(fromUnixTimestamp64Milli(published_ms, 'UTC'), '%Y-%m-%dT%H:%i:%SZ'), '"}'),
      concat('"type":"comment","kind":"comment","commentId":"c-', toString(number),
        '","postId":"', post_ref, '","text":"Nice post number ', toString(number % 97), '"}'))) AS payload
  FROM numbers({offset:UInt64}, {count:UInt64})
)
SETTINGS optimize_on_insert = 0`;

async function seed(olap: Olap): Promise<number> {
  const started = performance.now();
  say(`seeding ${count(events)} events for ${accounts} accounts over ${days} days into ${dataDir}`);
  await applyOlapSchema(olap);
  const end = Date.now() - 3_600_000;
  const start = end - days * DAY_MS;
  for (let offset = 0; offset < events; offset += CHUNK) {
    const rows = Math.min(CHUNK, events - offset);
    const chunkStarted = performance.now();
    // chDB runs the insert off the event loop, so a ticker can say it is still going.
    const ticker = setInterval(
      () =>
        say(
          `  … still inserting rows ${count(offset)}–${count(offset + rows)} (${seconds(performance.now() - chunkStarted)})`,
        ),
      5_000,
    );
    try {
      await olap.command(CHUNK_SQL, {
        org: DEMO_ORG_ID,
        salt: SEED_VERSION,
        accounts,
        platforms: PLATFORMS.filter((p) => p !== 'app'),
        start,
        span: end - start,
        offset,
        count: rows,
      });
    } finally {
      clearInterval(ticker);
    }
    const done = offset + rows;
    const elapsed = performance.now() - started;
    say(
      `  ${count(done)} / ${count(events)} events (${Math.round((100 * done) / events)}%), ` +
        `chunk ${seconds(performance.now() - chunkStarted)}, ${count((done * 1000) / elapsed)} events/s so far`,
    );
  }
  // Background merges would get here in time; merging now measures a settled store.
  for (const table of [
    'metrics_quarter_hourly',
    'metrics_hourly',
    'metrics_daily',
    'metrics_monthly',
  ]) {
    const t = performance.now();
    await olap.command(`OPTIMIZE TABLE ${table} FINAL`);
    say(`  merged ${table} (${seconds(performance.now() - t)})`);
  }

  const meta = await createPgliteMeta({ dataDir: join(dataDir!, 'meta') });
  try {
    await migrate(meta);
    await ensureDemoOrganisation(meta, apiKey!);
    const platforms = PLATFORMS.filter((p) => p !== 'app');
    await upsertTrackedAccounts(
      meta,
      DEMO_ORG_ID,
      Array.from({ length: accounts }, (_, i) => ({
        id: accountId(i),
        platform: platforms[i % platforms.length]!,
        handle: accountId(i),
        displayName: `Account ${i}`,
      })),
    );
  } finally {
    await meta.close();
  }
  return performance.now() - started;
}

async function storeReads(olap: Olap): Promise<Percentiles> {
  // An empty live store and no cached parts: the router's statement itself, in the
  // organisation's time zone, as the product runs it before anything is cached; no HTTP.
  const live = createMemoryLiveStore();
  const store = createMetricsStore({ olap, live });
  const read = async () => {
    const to = Date.now();
    const t = performance.now();
    const series = await readAccountSeries(store, {
      orgId: DEMO_ORG_ID,
      accountId: account,
      from: to - 30 * DAY_MS,
      to,
      granularity: 'day',
      timeZone: DEMO_TIME_ZONE,
      platform: 'facebook',
      metrics: METRICS,
    });
    return { ms: performance.now() - t, series };
  };
  const first = await read();
  say(
    `store read of ${account}: ${first.series.length} series × ${first.series[0]?.points.length ?? 0} days; ` +
      first.series.map((s) => `${s.metric} ${count(s.total)}`).join(', '),
  );
  for (let i = 1; i < warmup; i++) await read();
  const samples: number[] = [];
  for (let i = 0; i < queries; i++) {
    samples.push((await read()).ms);
    if ((i + 1) % 100 === 0) say(`  store reads: ${i + 1} / ${queries}`);
  }
  await live.close();
  return percentiles(samples);
}

const wanted = {
  version: SEED_VERSION,
  events,
  accounts,
  days,
  apiKey,
  schemaHash: await schemaHash(),
};
const cached = await cachedManifest<SeedManifest>(dataDir, wanted, MAX_SEED_AGE_MS);
let manifest = cached.manifest;
if (manifest) {
  say(
    `reusing ${dataDir} (seeded ${new Date(manifest.seededAt).toISOString()} in ${seconds(manifest.seedMs)})`,
  );
} else {
  say(`preparing data: ${cached.why}`);
  await rm(dataDir, { recursive: true, force: true });
}
const olap = createChdbOlap({ dataDir: join(dataDir, 'olap') });
try {
  const seeded = manifest === undefined;
  if (!manifest) {
    const seedMs = await seed(olap);
    manifest = { ...wanted, seededAt: Date.now(), seedMs };
    await writeFile(join(dataDir, 'seed.json'), JSON.stringify(manifest, null, 2));
    say(`seeded ${count(events)} events in ${seconds(seedMs)}`);
  }
  const [stored] = await olap.query<{ n: string }>('SELECT count() AS n FROM events');
  const storedEvents = Number(stored?.n ?? 0);
  say(
    `${count(storedEvents)} events stored; timing ${queries} store reads after ${warmup} warm-up`,
  );
  const store = await storeReads(olap);
  say(`store read (30 days × ${METRICS.length} metrics, DAY): ${describe(store)}`);
  const result: DashboardDataResult = { type: 'result', manifest, seeded, storedEvents, store };
  await tell({ ...result });
} finally {
  await olap.close();
}
process.exit(0);
