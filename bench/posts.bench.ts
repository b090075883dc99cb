// `npm run bench -- posts [--events 10000000] [--queries 200]`: top posts, hashtag trends and best
// time to post on the posts analytics store at N synthetic events, beside a baseline read in the
// same run (one page of one account's posts, the feed the subgraph already served). The data is
// generated inside ClickHouse and kept under .loupe/bench/ for the next run with the same shape.
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createChdbOlap } from '../lib/olap/chdb.olap.ts';
import type { Olap } from '../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../lib/olap/olap-schema.ts';
import { createPostAnalyticsStore } from '../subgraphs/posts/post-analytics.store.ts';
import { createPostsStore } from '../subgraphs/posts/posts.store.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { BENCH_CACHE_DIR } from './support/paths.ts';
import { count, describe, percentiles, progress, seconds } from './support/stats.ts';

const SEED_VERSION = 1;
const DAY_MS = 86_400_000;
const CHUNK = 1_000_000;
const ORG = 'bench-org';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    accounts: { type: 'string' },
    days: { type: 'string' },
    queries: { type: 'string' },
    warmup: { type: 'string' },
  },
  strict: false,
});
const events = Number(values.events ?? 10_000_000);
const accounts = Number(values.accounts ?? 100);
const days = Number(values.days ?? 90);
const queries = Number(values.queries ?? 200);
const warmup = Number(values.warmup ?? 20);
const say = (text: string) => progress('posts', text);

/**
 * One chunk of events from a hash of the row number: 85% engagement on posts (deltas and lifetime
 * totals, reach/impressions/views among them), 2% profile snapshots, 3% post versions whose text
 * carries two hashtags out of 40, 10% app events. Each account posts once a day, at an hour that
 * moves with the account and the day, so every weekday × hour slot has posts.
 */
const CHUNK_SQL = `
INSERT INTO events
SELECT org_id, account_id, event_id, type, platform, post_id, '' AS user_id, occurred_at,
       occurred_at AS received_at, metric_names, metric_modes, metric_values, payload
FROM (
  SELECT {org:String} AS org_id, cityHash64(number, {salt:UInt64}) AS h,
    toUInt32(number % {accounts:UInt32}) AS a,
    concat('acct-', leftPad(toString(a), 3, '0')) AS account_id,
    concat('seed-', toString(number)) AS event_id,
    ['facebook', 'instagram', 'x', 'tiktok'][a % 4 + 1] AS platform,
    h % 1000 AS roll,
    multiIf(roll < 850, if(roll < 700, 'delta', 'total'), roll < 870, 'profile', roll < 900, 'post', 'app') AS kind,
    if(kind IN ('delta', 'total'), 'engagement', kind) AS type,
    {start:Int64} + toInt64(bitShiftRight(h, 12) % {span:UInt64}) AS t_ms,
    intDiv(t_ms - {start:Int64}, ${DAY_MS}) AS day,
    greatest(toInt64(0), day - toInt64(bitShiftRight(h, 40) % 7)) AS post_day,
    {start:Int64} + post_day * ${DAY_MS} + toInt64((a * 7 + post_day * 5) % 24) * 3600000 AS published_ms,
    concat(account_id, '-post-', toString(post_day)) AS post_id_all,
    if(kind = 'app' OR kind = 'profile', '', post_id_all) AS post_id,
    ['views', 'views', 'impressions', 'impressions', 'reach', 'reach', 'likes', 'likes', 'likes',
     'comments', 'shares', 'saves', 'clicks', 'quotes'][bitShiftRight(h, 50) % 14 + 1] AS metric,
    fromUnixTimestamp64Milli(greatest(t_ms, published_ms), 'UTC') AS occurred_at,
    toInt64(if(kind = 'total', intDiv(greatest(toInt64(0), t_ms - published_ms), 60000) * (a % 5 + 1), 1 + bitShiftRight(h, 33) % 20)) AS value,
    toInt64(20000 + a * 1500 + intDiv(t_ms - {start:Int64}, 3600000) * (a % 7 + 1)) AS followers,
    multiIf(type = 'engagement', [metric], kind = 'profile', ['followers'], kind = 'app', ['app_events'], CAST([], 'Array(String)')) AS metric_names,
    CAST(multiIf(kind = 'delta', ['delta'], kind = 'total', ['total'], kind = 'profile', ['total'], kind = 'app', ['delta'], CAST([], 'Array(String)')),
         'Array(Enum8(\\'delta\\' = 1, \\'total\\' = 2))') AS metric_modes,
    multiIf(type = 'engagement', [value], kind = 'profile', [followers], kind = 'app', [toInt64(1)], CAST([], 'Array(Int64)')) AS metric_values,
    concat('{"id":"', event_id, '","platform":"', platform, '","accountId":"', account_id, '",', if(kind = 'post',
      concat('"type":"post","action":"published","postId":"', post_id, '","content":"Day ', toString(post_day),
        ' #Topic', toString((a + post_day) % 40), ' #season', toString(intDiv(post_day, 10)),
        '","mediaType":"', ['image', 'video', 'carousel'][post_day % 3 + 1], '","publishedAt":"',
        formatDateTime(fromUnixTimestamp64Milli(published_ms, 'UTC'), '%Y-%m-%dT%H:%i:%SZ'), '"}'),
      '"type":"other"}')) AS payload
  FROM numbers({offset:UInt64}, {count:UInt64})
)
SETTINGS optimize_on_insert = 0`;

async function schemaHash(): Promise<string> {
  const hash = createHash('sha256').update(CHUNK_SQL);
  const url = new URL('../schema/clickhouse/', import.meta.url);
  for (const file of (await readdir(url)).sort()) {
    hash.update(file).update(await readFile(new URL(file, url)));
  }
  return hash.digest('hex').slice(0, 16);
}

async function seed(olap: Olap, start: number, end: number): Promise<void> {
  await applyOlapSchema(olap);
  for (let offset = 0; offset < events; offset += CHUNK) {
    const t = performance.now();
    const rows = Math.min(CHUNK, events - offset);
    await olap.command(CHUNK_SQL, {
      org: ORG,
      salt: SEED_VERSION,
      accounts,
      start,
      span: end - start,
      offset,
      count: rows,
    });
    say(`  ${count(offset + rows)} / ${count(events)} events (${seconds(performance.now() - t)})`);
  }
  for (const table of ['post_metrics', 'post_hashtags', 'account_followers', 'posts']) {
    await olap.command(`OPTIMIZE TABLE ${table} FINAL`);
  }
}

const dataDir = join(BENCH_CACHE_DIR, `posts-${events}e-${accounts}a-${days}d`);
const wanted = { version: SEED_VERSION, events, accounts, days, schema: await schemaHash() };
let manifest: (typeof wanted & { start: number; end: number }) | undefined;
try {
  manifest = JSON.parse(await readFile(join(dataDir, 'seed.json'), 'utf8')) as typeof manifest;
  if (
    JSON.stringify({ ...manifest, start: 0, end: 0 }) !==
    JSON.stringify({ ...wanted, start: 0, end: 0 })
  ) {
    manifest = undefined;
  }
} catch {
  manifest = undefined;
}
if (!manifest) await rm(dataDir, { recursive: true, force: true });
const olap = createChdbOlap({ dataDir: join(dataDir, 'olap') });
try {
  if (!manifest) {
    const end = Date.UTC(2026, 3, 1);
    const t = performance.now();
    say(`seeding ${count(events)} events, ${accounts} accounts, ${days} days into ${dataDir}`);
    await seed(olap, end - days * DAY_MS, end);
    manifest = { ...wanted, start: end - days * DAY_MS, end };
    await writeFile(join(dataDir, 'seed.json'), JSON.stringify(manifest));
    say(`seeded in ${seconds(performance.now() - t)}`);
  } else {
    say(`reusing ${dataDir}`);
  }
  const posts = createPostsStore(olap);
  const analytics = createPostAnalyticsStore(olap);
  const { end } = manifest;
  const month = { from: end - 30 * DAY_MS, to: end };
  const reads: Record<string, () => Promise<unknown>> = {
    'baseline: one account, one page of posts': () =>
      posts.pages(ORG, ['acct-000'], { first: 20, ...month }),
    'top posts, 30 days, by engagements': () =>
      analytics.top(ORG, { ...month, by: { metric: 'engagements' }, first: 20 }),
    'top posts, 30 days, by rate (reach), Instagram videos': () =>
      analytics.top(ORG, {
        ...month,
        by: { rate: 'reach' },
        platforms: ['instagram'],
        mediaTypes: ['video'],
        first: 20,
      }),
    'hashtag trends, 30 days against the 30 before': () =>
      analytics.hashtagTrends(ORG, month, 'followers'),
    'best time to post, 90 days, America/Los_Angeles': () =>
      analytics.slots(ORG, { from: end - 90 * DAY_MS, to: end }, 'reach', 'America/Los_Angeles'),
  };
  const [stored] = await olap.query<{ n: string }>('SELECT count() AS n FROM events');
  say(
    `${count(Number(stored?.n ?? 0))} events stored; ${queries} reads each after ${warmup} warm-up`,
  );
  const figures: Figure[] = [];
  let baseline = NaN;
  const baselineName = Object.keys(reads)[0]!;
  for (const [name, read] of Object.entries(reads)) {
    for (let i = 0; i < warmup; i++) await read();
    const samples: number[] = [];
    // Interleaved with the baseline would be fairer; sequential keeps each read's cache warm alike.
    for (let i = 0; i < queries; i++) {
      const t = performance.now();
      await read();
      samples.push(performance.now() - t);
    }
    const p = percentiles(samples);
    if (name === baselineName) baseline = p.p95;
    say(
      `${name}: ${describe(p)}${name === baselineName ? '' : `, p95 ×${(p.p95 / baseline).toFixed(1)} the baseline`}`,
    );
    const isBaseline = name === baselineName;
    figures.push(
      { bench: 'posts', name: `${name} p50`, value: p.p50, unit: 'ms' },
      {
        bench: 'posts',
        name: `${name} p95`,
        value: p.p95,
        unit: 'ms',
        ...(!isBaseline && { target: { op: '<=', value: 50 } }),
        ...(!isBaseline && { baseline: { name: 'one page of posts, p95', value: baseline } }),
      },
    );
  }
  publishFigures(figures);
} finally {
  await olap.close();
}
