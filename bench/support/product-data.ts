// The product benchmark's data and its in-process baselines, in a process of its own (chDB allows
// one process per data directory, so this runs before the product opens the same one).
// 1. Seeds `<data-dir>` unless a matching seed is already there: the OLAP schema, N synthetic app
//    events inserted straight into `product_events` by ClickHouse itself
//    (`INSERT … SELECT … FROM numbers()`) in chunks, and the app as a tracked account of the demo
//    organisation in the meta store.
// 2. Times the benchmark's trends and funnel in-process (no HTTP, no GraphQL, nothing cached),
//    splitting each into the time spent in ClickHouse statements and the rest (JavaScript).
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
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
import { runFunnel } from '../../subgraphs/product/funnels.ts';
import { runTrends, type TrendMath } from '../../subgraphs/product/trends.ts';
import { tell } from './child.ts';
import { cachedManifest, schemaHash } from './seed-cache.ts';
import { count, describe, percentiles, seconds, type Percentiles } from './stats.ts';

/** Bump when the generated data changes shape, so cached directories are rebuilt. */
const SEED_VERSION = 1;
/** A cached seed older than this has drifted too far from "the last 90 days to now". */
const MAX_SEED_AGE_MS = 7 * 24 * 3_600_000;
/** Rows per INSERT … SELECT; each one is sorted and written by ClickHouse in blocks. */
const CHUNK = 10_000_000;
/** Events per session: consecutive row numbers, one user, one device, one traffic source. */
const SESSION_EVENTS = 10;
/** The last session starts this long before the seed, so its purchases are in the past. */
const SESSION_SPAN_MS = 4 * 3_600_000;
const DAY_MS = 24 * 3_600_000;

export interface ProductSeedManifest {
  version: number;
  events: number;
  users: number;
  days: number;
  apiKey: string;
  appId: string;
  /** Hash of the DDL and migrations the data was written with. */
  schemaHash: string;
  seededAt: number;
  /** Inserting the events, the merge after, and the meta store. */
  seedMs: number;
  insertMs: number;
  mergeMs: number;
}

/** One in-process read timed: the whole call, and the part spent in ClickHouse statements. */
export interface StoreTiming {
  total: Percentiles;
  clickhouse: Percentiles;
  /** Set when a run failed: what it said. */
  error?: string;
}

export interface ProductDataResult {
  type: 'result';
  manifest: ProductSeedManifest;
  seeded: boolean;
  storedEvents: number;
  distinctUsers: number;
  /** Bytes of the data directory's active parts of product_events. */
  tableBytes: number;
  trends: Record<'UNIQUE_USERS' | 'TOTAL', StoreTiming>;
  funnel: StoreTiming;
  /** People who entered the funnel (its first step), from the last in-process run. */
  funnelPeople: number;
  /** The least each read could cost: reading its rows once, with nothing else done. */
  floors: Record<FloorName, StoreTiming>;
}

export type FloorName = 'trend rows' | 'trend users' | 'funnel rows' | 'funnel people';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'api-key': { type: 'string' },
    app: { type: 'string' },
    events: { type: 'string' },
    users: { type: 'string' },
    days: { type: 'string' },
    'trend-runs': { type: 'string' },
    'funnel-runs': { type: 'string' },
  },
});
const dataDir = values['data-dir'];
const apiKey = values['api-key'];
const appId = values.app;
if (!dataDir || !apiKey || !appId) {
  throw new Error('product-data.ts needs --data-dir, --api-key and --app');
}
const events = Number(values.events ?? 100_000_000);
const users = Number(values.users ?? 1_000_000);
const days = Number(values.days ?? 90);
const trendRuns = Number(values['trend-runs'] ?? 10);
const funnelRuns = Number(values['funnel-runs'] ?? 2);

const say = (text: string) => console.log(`[product] ${text}`);
// The parent is gone: nothing will read what we measure.
process.on('disconnect', () => process.exit(1));

type Wanted = Omit<ProductSeedManifest, 'seededAt' | 'seedMs' | 'insertMs' | 'mergeMs'>;

/**
 * One chunk of synthetic app events, generated inside ClickHouse from hashes of the row number
 * and of its session (SESSION_EVENTS consecutive rows). A session has one user (the square of a
 * uniform draw over the users: a few users have many sessions, most have one or two), a device
 * type and a traffic source; the user has a country. Names per event: page_view 60%,
 * add_to_cart 20%, purchase 8%, signup 4%, four others 2% each. In a session the page views come
 * first, a minute apart, carts 10–30 minutes after the session starts and purchases 30 minutes
 * to 3 hours after it: a cart almost always has a view shortly before, and a purchase follows a
 * cart within hours in 87% of sessions. The properties are built as JSON text and cast: on a 1M
 * sample that took 4.3 s against 6.0 s for a named Tuple cast to JSON.
 */
const CHUNK_SQL = `
INSERT INTO product_events
SELECT org_id, app_id, event, event_id, user_id, session_id, post_id, timestamp, properties
FROM (
  SELECT
    {org:String} AS org_id,
    {app:String} AS app_id,
    intDiv(number, ${SESSION_EVENTS}) AS s,
    number % ${SESSION_EVENTS} AS pos,
    cityHash64(number, {salt:UInt64}) AS h,
    cityHash64(s, {salt:UInt64}) AS sh,
    toUInt64(pow((sh % 1000000007) / 1000000007, 2) * {users:UInt64}) AS u,
    cityHash64(u, {salt:UInt64}) % 100 AS country_roll,
    multiIf(country_roll < 40, 'US', country_roll < 50, 'GB', country_roll < 58, 'DE',
            country_roll < 65, 'FR', country_roll < 72, 'IN', country_roll < 78, 'BR',
            country_roll < 83, 'CA', country_roll < 88, 'JP', country_roll < 92, 'AU',
            country_roll < 94, 'ES', country_roll < 96, 'IT', country_roll < 98, 'NL', 'MX') AS country,
    bitShiftRight(sh, 8) % 100 AS device_roll,
    multiIf(device_roll < 55, 'mobile', device_roll < 93, 'desktop', 'tablet') AS device_type,
    bitShiftRight(sh, 16) % 100 AS utm_roll,
    multiIf(utm_roll < 35, '', utm_roll < 65, 'google', utm_roll < 80, 'facebook',
            utm_roll < 90, 'instagram', utm_roll < 95, 'newsletter', 'twitter') AS utm_source,
    h % 100 AS roll,
    multiIf(roll < 60, 'page_view', roll < 80, 'add_to_cart', roll < 88, 'purchase',
            roll < 92, 'signup',
            ['search', 'login', 'share_click', 'checkout_start'][bitShiftRight(h, 8) % 4 + 1]) AS event,
    {start:Int64} + toInt64(bitShiftRight(sh, 24) % {span:UInt64}) AS session_ms,
    session_ms + toInt64(pos) * 60000 + toInt64(bitShiftRight(h, 40) % 60000) + multiIf(
      event = 'add_to_cart', toInt64(600000 + bitShiftRight(h, 16) % 1200000),
      event = 'purchase', toInt64(1800000 + bitShiftRight(h, 16) % 9000000),
      toInt64(0)) AS t_ms,
    concat('e-', toString(number)) AS event_id,
    concat('u-', toString(u)) AS user_id,
    concat('s-', toString(s)) AS session_id,
    '' AS post_id,
    fromUnixTimestamp64Milli(t_ms, 'UTC') AS timestamp,
    CAST(concat('{"country":"', country, '","device":{"type":"', device_type, '"}',
                if(utm_source = '', '', concat(',"utm_source":"', utm_source, '"')),
                if(event = 'purchase',
                   concat(',"revenue":', toString(round(5 + (bitShiftRight(h, 24) % 30000) / 100, 2))),
                   ''),
                '}'), 'JSON(max_dynamic_paths = 256)') AS properties
  FROM numbers({offset:UInt64}, {count:UInt64})
)
SETTINGS optimize_on_insert = 0`;

async function seed(olap: Olap): Promise<Pick<ProductSeedManifest, 'insertMs' | 'mergeMs'>> {
  const started = performance.now();
  say(`seeding ${count(events)} app events of ~${count(users)} users over ${days} days`);
  await applyOlapSchema(olap);
  const end = Date.now();
  const start = end - days * DAY_MS;
  for (let offset = 0; offset < events; offset += CHUNK) {
    const rows = Math.min(CHUNK, events - offset);
    const chunkStarted = performance.now();
    // chDB runs the insert off the event loop, so a ticker can say it is still going.
    const ticker = setInterval(
      () =>
        say(
          `  … inserting rows ${count(offset)}–${count(offset + rows)} (${seconds(performance.now() - chunkStarted)})`,
        ),
      15_000,
    );
    try {
      await olap.command(CHUNK_SQL, {
        org: DEMO_ORG_ID,
        app: appId!,
        salt: SEED_VERSION,
        users,
        start,
        span: end - SESSION_SPAN_MS - start,
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
  const insertMs = performance.now() - started;
  // Background merges would get there in time; merging now measures a settled store.
  const merging = performance.now();
  const ticker = setInterval(
    () => say(`  … merging product_events (${seconds(performance.now() - merging)})`),
    15_000,
  );
  try {
    await olap.command('OPTIMIZE TABLE product_events FINAL');
  } finally {
    clearInterval(ticker);
  }
  const mergeMs = performance.now() - merging;
  say(`  merged product_events (${seconds(mergeMs)})`);

  const meta = await createPgliteMeta({ dataDir: join(dataDir!, 'meta') });
  try {
    await migrate(meta);
    await ensureDemoOrganisation(meta, apiKey!);
    await upsertTrackedAccounts(meta, DEMO_ORG_ID, [
      { id: appId!, platform: 'app', handle: appId!, displayName: 'Bench app' },
    ]);
  } finally {
    await meta.close();
  }
  return { insertMs, mergeMs };
}

/** The store with every statement's time added to `spent.ms`. */
function timedOlap(olap: Olap, spent: { ms: number }): Olap {
  const timed = async <R>(work: () => Promise<R>): Promise<R> => {
    const t = performance.now();
    try {
      return await work();
    } finally {
      spent.ms += performance.now() - t;
    }
  };
  return {
    query: (sql, params) => timed(() => olap.query(sql, params)),
    command: (sql, params) => timed(() => olap.command(sql, params)),
    insert: (table, rows) => timed(() => olap.insert(table, rows)),
    close: () => olap.close(),
  };
}

/** `runs` calls of `read` after one untimed: each whole, and its ClickHouse part. */
async function timeReads(
  label: string,
  runs: number,
  read: (olap: Olap) => Promise<unknown>,
  olap: Olap,
): Promise<StoreTiming> {
  const totals: number[] = [];
  const inClickhouse: number[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      const spent = { ms: 0 };
      const t = performance.now();
      await read(timedOlap(olap, spent));
      const ms = performance.now() - t;
      say(
        `  ${label} ${i === 0 ? 'warm-up' : `${i} / ${runs}`}: ${ms.toFixed(0)} ms, ClickHouse ${spent.ms.toFixed(0)} ms`,
      );
      if (i === 0) continue;
      totals.push(ms);
      inClickhouse.push(spent.ms);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    say(`  ${label} failed: ${message.slice(0, 300)}`);
    return {
      total: percentiles(totals),
      clickhouse: percentiles(inClickhouse),
      error: message.slice(0, 300),
    };
  }
  const result = { total: percentiles(totals), clickhouse: percentiles(inClickhouse) };
  say(`${label}: ${describe(result.total)}; in ClickHouse ${describe(result.clickhouse)}`);
  return result;
}

const trendRead = (math: TrendMath) => (olap: Olap) => {
  const to = Date.now();
  return runTrends(olap, {
    orgId: DEMO_ORG_ID,
    appId,
    from: to - 90 * DAY_MS,
    to,
    interval: 'day',
    timeZone: DEMO_TIME_ZONE,
    series: [{ event: 'page_view', math, where: { property: 'country', op: 'EQ', value: 'US' } }],
    where: null,
    breakdown: [{ path: 'device.type', person: false }],
    breakdownLimit: 25,
    compare: false,
    formulas: [],
  });
};

let funnelPeople = 0;
const funnelRead = async (olap: Olap) => {
  const to = Date.now();
  const answer = await runFunnel(olap, {
    orgId: DEMO_ORG_ID,
    appId,
    from: to - 30 * DAY_MS,
    to,
    steps: [{ event: 'page_view' }, { event: 'add_to_cart' }, { event: 'purchase' }],
    order: 'ORDERED',
    windowMs: 14 * DAY_MS,
    where: null,
    exclusions: [],
    breakdown: null,
    breakdownLimit: 25,
  });
  funnelPeople = answer.steps[0]?.users ?? 0;
  return answer;
};

/**
 * The reads' floors, over the same rows: the trend's 90 days of US page views counted, then their
 * distinct users (no groups, no buckets); the funnel's 44 days of its three events counted, then
 * grouped by person.
 */
const floorRead = (name: FloorName) => async (olap: Olap) => {
  const to = Date.now();
  const range = (d: number, after = 0) => ({ from: to - d * DAY_MS, to: to + after });
  const { from, to: end } = name.startsWith('trend') ? range(90) : range(30, 14 * DAY_MS);
  const rows = `FROM product_events WHERE org_id = {org:String} AND app_id = {app:String}
    AND timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND timestamp < fromUnixTimestamp64Milli({to:Int64})`;
  const sql: Record<FloorName, string> = {
    'trend rows': `SELECT count() AS n ${rows} AND event = 'page_view' AND properties.country.:String = 'US'`,
    'trend users': `SELECT uniqExact(user_key) AS n ${rows} AND event = 'page_view' AND properties.country.:String = 'US'`,
    'funnel rows': `SELECT count() AS n ${rows} AND event IN ('page_view', 'add_to_cart', 'purchase')`,
    // Summing the lengths keeps ClickHouse from dropping the unused arrays.
    'funnel people': `SELECT sum(length(ev)) AS n FROM (SELECT user_key, groupArray((timestamp, event)) AS ev ${rows} AND event IN ('page_view', 'add_to_cart', 'purchase') GROUP BY user_key)`,
  };
  return olap.query(sql[name], { org: DEMO_ORG_ID, app: appId, from, to: end });
};

const wanted: Wanted = {
  version: SEED_VERSION,
  events,
  users,
  days,
  apiKey,
  appId,
  schemaHash: await schemaHash(),
};
const cached = await cachedManifest<ProductSeedManifest>(dataDir, wanted, MAX_SEED_AGE_MS);
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
    const started = performance.now();
    const { insertMs, mergeMs } = await seed(olap);
    const seedMs = performance.now() - started;
    manifest = { ...wanted, seededAt: Date.now(), seedMs, insertMs, mergeMs };
    await writeFile(join(dataDir, 'seed.json'), JSON.stringify(manifest, null, 2));
    say(`seeded ${count(events)} events in ${seconds(seedMs)}`);
  }
  const [stored] = await olap.query<{ n: string; u: string }>(
    'SELECT count() AS n, uniqExact(user_id) AS u FROM product_events WHERE app_id = {app:String}',
    { app: appId },
  );
  const [size] = await olap.query<{ bytes: string; parts: string }>(
    "SELECT sum(bytes_on_disk) AS bytes, count() AS parts FROM system.parts WHERE table = 'product_events' AND active",
  );
  const storedEvents = Number(stored?.n ?? 0);
  const distinctUsers = Number(stored?.u ?? 0);
  const tableBytes = Number(size?.bytes ?? 0);
  say(
    `${count(storedEvents)} events of ${count(distinctUsers)} users stored, ` +
      `${(tableBytes / 2 ** 20).toFixed(0)} MiB in ${size?.parts ?? '?'} parts`,
  );
  say('in-process reads (no HTTP, no GraphQL), each after one untimed');
  const trends = {
    UNIQUE_USERS: await timeReads('trend UNIQUE_USERS', trendRuns, trendRead('UNIQUE_USERS'), olap),
    TOTAL: await timeReads('trend TOTAL', trendRuns, trendRead('TOTAL'), olap),
  };
  const funnel = await timeReads('funnel', funnelRuns, funnelRead, olap);
  const floorNames: FloorName[] = ['trend rows', 'trend users', 'funnel rows', 'funnel people'];
  const floors = {} as Record<FloorName, StoreTiming>;
  for (const name of floorNames) {
    floors[name] = await timeReads(`floor: ${name}`, trendRuns, floorRead(name), olap);
  }
  const result: ProductDataResult = {
    type: 'result',
    manifest,
    seeded,
    storedEvents,
    distinctUsers,
    tableBytes,
    trends,
    funnel,
    funnelPeople,
    floors,
  };
  await tell({ ...result });
} finally {
  await olap.close();
}
process.exit(0);
