// `npm run bench -- connectors [--accounts 10000] [--posts 10] [--concurrency 64] [--max-minutes 10]`
// (issue #11): a full sweep of connected accounts, split evenly over Facebook, Instagram, X and
// TikTok, against the platform fakes at their documented limits. The fakes run in one child
// process, the connector manager (with its embedded meta store and in-process bus) in another, so
// the manager's CPU and memory are its own. Every account is connected due now; the sweep runs
// from the manager's start until every connection has finished one poll that ended well (or
// `--max-minutes` is up, and then the figures say how far it got).
//
// Figures: sweep time (total and per platform: when its last account finished), accounts/s and
// calls/s (from the fakes' call logs), 429s / throttles beyond the first per window (target 0),
// events published, the manager's CPU and peak memory. Same-run baselines: the same sweep of
// `--baseline-accounts` (on fresh fakes, small enough that no limit binds), and the raw HTTP rate
// of the fakes' process (one keep-alive client hammering X's user lookup, no manager in between).
//
// The manager runs with the production defaults (DEFAULT_MANAGER_SETTINGS, DEFAULT_CLIENT_SETTINGS,
// the protocols' documented limits); only `--concurrency` (64 by default, as in production) and,
// for diagnosis, `--tick-ms` (1000 by default, as in production) change it. `--tiktok-limit` sets
// TikTok's per-minute allowance on both sides (the fake's limit and the protocol's client limit),
// as a deployment with a larger TikTok quota would configure it.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { createMemoryBus } from '../lib/bus/memory.bus.ts';
import { createLogger } from '../lib/logger.ts';
import { createOrganisation } from '../lib/meta/accounts.repo.ts';
import type { ConnectedPlatform, StoredCredentials } from '../lib/meta/connections.repo.ts';
import type { MetaStore } from '../lib/meta/meta.port.ts';
import { migrate } from '../lib/meta/migrate.ts';
import { createPgliteMeta } from '../lib/meta/pglite.meta.ts';
import { createTokenCipher, type TokenCipher } from '../lib/secrets/token-cipher.ts';
import { createFacebookConnector } from '../ingest/connectors/facebook/facebook.connector.ts';
import { createFacebookProtocol } from '../ingest/connectors/facebook/facebook.protocol.ts';
import { createInstagramConnector } from '../ingest/connectors/instagram/instagram.connector.ts';
import { createInstagramProtocol } from '../ingest/connectors/instagram/instagram.protocol.ts';
import {
  startConnectorManager,
  type PlatformBinding,
  type PlatformBindings,
} from '../ingest/connectors/manager.ts';
import { createTikTokConnector } from '../ingest/connectors/tiktok/tiktok.connector.ts';
import { createTikTokProtocol } from '../ingest/connectors/tiktok/tiktok.protocol.ts';
import { createXConnector } from '../ingest/connectors/x/x.connector.ts';
import { createXProtocol } from '../ingest/connectors/x/x.protocol.ts';
import { EVENTS_TOPIC } from '../ingest/pipeline/topics.ts';
import { startMetaFake } from '../test/fakes/meta/meta.fake.ts';
import { startTikTokFake } from '../test/fakes/tiktok/tiktok.fake.ts';
import { DEFAULT_X_CLIENT, startXFake } from '../test/fakes/x/x.fake.ts';
import { forkBenchChild, serveControl, tell } from './support/child.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { benchOptions } from './support/options.ts';
import { count, percentiles, progress, seconds, sleep } from './support/stats.ts';

const BENCH = 'connectors';
const PLATFORMS = ['facebook', 'instagram', 'x', 'tiktok'] as const satisfies ConnectedPlatform[];
type Platform = (typeof PLATFORMS)[number];
const DAY = 86_400_000;
/** The standard tier's interval (LOUPE_POLL_STANDARD_SECONDS' default). */
const POLL_INTERVAL_SECONDS = 900;
const ORGANISATIONS = 10;
const INSERT_CHUNK = 1000;
const say = (text: string) => progress(BENCH, text);

const options = benchOptions(BENCH, {
  accounts: { default: 10_000, doc: 'connected accounts, split evenly over the four platforms' },
  posts: { default: 10, doc: 'posts (videos) per account, all on one page' },
  concurrency: { default: 64, doc: "the manager's concurrent polls" },
  'tick-ms': { default: 1000, doc: 'how often the manager claims due connections' },
  'tiktok-limit': { default: 600, doc: "TikTok's calls per minute per endpoint for the app" },
  'max-minutes': { default: 10, doc: 'the sweep stops here even if accounts are left' },
  'baseline-accounts': { default: 400, doc: 'accounts of the baseline sweep' },
  'raw-seconds': { default: 5, doc: "seconds of the fakes' raw HTTP rate baseline" },
  'progress-seconds': { default: 5, doc: 'seconds between progress lines' },
});

// ---- what crosses the processes ----------------------------------------------------------------

interface FakesReady {
  type: 'ready';
  xUrl: string;
  tiktokUrl: string;
  tiktokClientKey: string;
  tiktokClientSecret: string;
  metaUrl: string;
  metaAppId: string;
  metaAppSecret: string;
}

interface ConnectionSpec {
  platform: Platform;
  platformAccountId: string;
  credentials: StoredCredentials;
}

interface PlatformCalls {
  /** Every request the fake answered for the platform, token endpoints too. */
  calls: number;
  tokenCalls: number;
  /** 429s (X, TikTok) or throttle answers (Meta). */
  throttled: number;
  /** Throttles after the first in their window (X: per user, endpoint and window; TikTok: per
   * endpoint and minute; Meta: per account over the run, from its 4xx answers). */
  beyondFirst: number;
  byStatus: Record<string, number>;
}

interface FakesStats {
  platforms: Record<Platform, PlatformCalls>;
  cpuSeconds: number;
}

interface SweepResult {
  total: number;
  done: Record<Platform, number>;
  /** Per platform, ms from the manager's start until its last account finished a good poll. */
  lastDoneMs: Record<Platform, number>;
  wallMs: number;
  finished: boolean;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  peakRssBytes: number;
  peakHeapBytes: number;
  rssBeforeBytes: number;
  heapBeforeBytes: number;
  events: number;
  managerStats: Record<string, number>;
  pollMs: Record<Platform, { p50: number; p99: number; max: number }>;
  /** The most polls of each platform in flight at once. */
  peakInFlight: Record<Platform, number>;
  states: string;
}

interface RawResult {
  calls: number;
  ok: number;
  seconds: number;
}

const perPlatform = <T>(make: (p: Platform) => T): Record<Platform, T> =>
  Object.fromEntries(PLATFORMS.map((p) => [p, make(p)])) as Record<Platform, T>;

function split(accounts: number): Record<Platform, number> {
  return perPlatform((p) => {
    const i = PLATFORMS.indexOf(p);
    return Math.floor(accounts / 4) + (i < accounts % 4 ? 1 : 0);
  });
}

// ---- child: the fakes ---------------------------------------------------------------------------

/** The Meta fake's ids: Pages `10…` (posts `<page>_<n>`), Instagram users `17841…`, media `179…`. */
function metaPlatformOf(id: string): Platform {
  return id.startsWith('10') ? 'facebook' : 'instagram';
}

/** The account a Meta object belongs to, as meta-seed.ts numbers them. */
function metaAccountOf(id: string): string {
  if (id.includes('_')) return id.split('_')[0]!;
  if (id.startsWith('179') && id.length === 16) return `17841${id.slice(3, 10).padStart(10, '0')}`;
  return id;
}

async function serveFakes(): Promise<void> {
  const tiktokLimit = { calls: options['tiktok-limit'], windowMs: 60_000 };
  const x = await startXFake();
  const tiktok = await startTikTokFake({ rateLimit: tiktokLimit });
  const meta = await startMetaFake();
  const started = process.cpuUsage();

  async function populate(payload: unknown): Promise<ConnectionSpec[]> {
    const { accounts } = payload as { accounts: number };
    const n = split(accounts);
    const posts = options.posts;
    const specs: Record<Platform, ConnectionSpec[]> = perPlatform(() => []);
    const tag = randomBytes(3).toString('hex');
    for (const id of x.addUsers(n.x, `bench-${tag}`, { posts, spacingMs: DAY / 2 })) {
      const t = x.issueToken(id);
      specs.x.push({
        platform: 'x',
        platformAccountId: id,
        credentials: {
          accessToken: t.accessToken,
          ...(t.refreshToken !== undefined && { refreshToken: t.refreshToken }),
          expiresAt: t.expiresAt,
        },
      });
    }
    const openIds = tiktok.addUsers({
      count: n.tiktok,
      prefix: `tt-${tag}-`,
      videoCount: posts,
      gapMs: DAY / 2,
    });
    for (const openId of openIds) {
      const t = tiktok.issueToken(openId);
      specs.tiktok.push({
        platform: 'tiktok',
        platformAccountId: openId,
        credentials: {
          accessToken: t.accessToken,
          refreshToken: t.refreshToken,
          expiresAt: t.expiresAt,
          refreshExpiresAt: t.refreshExpiresAt,
        },
      });
    }
    for (const [platform, kind] of [
      ['facebook', 'page'],
      ['instagram', 'instagram'],
    ] as const) {
      for (const id of meta.addAccounts(kind, n[platform], { posts, spanDays: 30 })) {
        const t = meta.issueToken(id);
        specs[platform].push({
          platform,
          platformAccountId: id,
          credentials: { accessToken: t.accessToken, expiresAt: t.expiresAt },
        });
      }
    }
    // Interleaved, so the manager's claims (due at one instant) take the platforms in turn.
    const out: ConnectionSpec[] = [];
    for (let i = 0; out.length < accounts; i++) {
      for (const p of PLATFORMS) {
        const spec = specs[p][i];
        if (spec) out.push(spec);
      }
    }
    return out;
  }

  function stats(): FakesStats {
    const platforms = perPlatform((): PlatformCalls => ({
      calls: 0,
      tokenCalls: 0,
      throttled: 0,
      beyondFirst: 0,
      byStatus: {},
    }));
    const add = (p: Platform, status: number, token: boolean) => {
      const c = platforms[p];
      c.calls += 1;
      if (token) c.tokenCalls += 1;
      c.byStatus[status] = (c.byStatus[status] ?? 0) + 1;
    };
    for (const c of x.calls) add('x', c.status, c.path === '/2/oauth2/token');
    const xStats = x.stats();
    platforms.x.throttled = xStats.tooManyRequests;
    platforms.x.beyondFirst = xStats.beyondFirstPerWindow;

    const ttWindows = new Map<string, number>();
    const firstAt = tiktok.calls[0]?.at ?? 0;
    for (const c of tiktok.calls) {
      add('tiktok', c.status, c.path === '/v2/oauth/token/');
      if (c.code !== 'rate_limit_exceeded') continue;
      platforms.tiktok.throttled += 1;
      const key = `${c.path}|${Math.floor((c.at - firstAt) / 60_000)}`;
      ttWindows.set(key, (ttWindows.get(key) ?? 0) + 1);
    }
    for (const n of ttWindows.values()) platforms.tiktok.beyondFirst += n - 1;

    const metaRefusals = new Map<string, number>();
    for (const c of meta.calls) {
      const segs = c.path.split('/').filter(Boolean);
      if (segs[0] && /^v\d+\.\d+$/.test(segs[0])) segs.shift();
      const token = segs[0] === 'refresh_access_token' || segs[0] === 'oauth';
      const object = token ? '' : (segs[0] ?? (c.query.ids ?? '').split(',')[0] ?? '');
      const platform = token
        ? segs[0] === 'oauth'
          ? 'facebook'
          : 'instagram'
        : metaPlatformOf(object || (c.query.ids ?? ''));
      add(platform, c.status, token);
      if (c.status === 400 || c.status === 403 || c.status === 429) {
        platforms[platform].throttled += 1;
        const key = metaAccountOf(object || (c.query.ids ?? '').split(',')[0] || '?');
        metaRefusals.set(key, (metaRefusals.get(key) ?? 0) + 1);
      }
    }
    for (const [account, n] of metaRefusals) {
      platforms[metaPlatformOf(account)].beyondFirst += n - 1;
    }
    // The fake's own count of throttle answers (its 4xx may include other refusals).
    if (meta.stats.throttled === 0) {
      platforms.facebook.throttled = platforms.instagram.throttled = 0;
      platforms.facebook.beyondFirst = platforms.instagram.beyondFirst = 0;
    }
    const cpu = process.cpuUsage(started);
    return { platforms, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  }

  serveControl({ populate, stats: async () => stats() }, async () => {
    await Promise.all([x.close(), tiktok.close(), meta.close()]);
  });
  await tell({
    type: 'ready',
    xUrl: x.url,
    tiktokUrl: tiktok.url,
    tiktokClientKey: tiktok.clientKey,
    tiktokClientSecret: tiktok.clientSecret,
    metaUrl: meta.url,
    metaAppId: meta.appId,
    metaAppSecret: meta.appSecret,
  } satisfies FakesReady);
}

// ---- child: the connector manager ---------------------------------------------------------------

interface Seeded {
  meta: MetaStore;
  cipher: TokenCipher;
  fakes: FakesReady;
  specs: ConnectionSpec[];
}

/** Inserts the connections as `connectAccount` does (same columns, same sealing), a chunk at a time. */
async function insertConnections(
  meta: MetaStore,
  cipher: TokenCipher,
  orgs: readonly string[],
  specs: readonly ConnectionSpec[],
  now: Date,
): Promise<void> {
  for (let from = 0; from < specs.length; from += INSERT_CHUNK) {
    const chunk = specs.slice(from, from + INSERT_CHUNK);
    const rows = chunk.map((spec, k) => {
      const i = from + k;
      const orgId = orgs[i % orgs.length]!;
      const accountId = `${spec.platform}-${i}`;
      return {
        orgId,
        accountId,
        platform: spec.platform,
        platformAccountId: spec.platformAccountId,
        sealed: cipher.seal(JSON.stringify(spec.credentials), `connection:${orgId}/${accountId}`),
        expiresAt:
          spec.credentials.expiresAt === undefined ? null : new Date(spec.credentials.expiresAt),
      };
    });
    const column = <K extends keyof (typeof rows)[number]>(key: K) => rows.map((r) => r[key]);
    await meta.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO tracked_accounts (org_id, id, platform, handle)
         SELECT o, a, p, a FROM unnest($1::text[], $2::text[], $3::text[]) AS t(o, a, p)`,
        [column('orgId'), column('accountId'), column('platform')],
      );
      await tx.query(
        `INSERT INTO connections (org_id, account_id, platform, platform_account_id, tier,
           poll_interval_seconds, credentials, token_key_id, token_expires_at, next_poll_at,
           connected_at)
         SELECT o, a, p, pa, 'standard', $6, c, $7, e, $8, $8
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $9::timestamptz[])
           AS t(o, a, p, pa, c, e)`,
        [
          column('orgId'),
          column('accountId'),
          column('platform'),
          column('platformAccountId'),
          column('sealed'),
          POLL_INTERVAL_SECONDS,
          cipher.activeKeyId,
          now,
          column('expiresAt'),
        ],
      );
    });
  }
}

async function serveManager(): Promise<void> {
  let seeded: Seeded | undefined;
  const bus = createMemoryBus();
  // The pipeline's place: a group that reads every event, so the in-process log can drop them.
  await bus.consume({ topic: EVENTS_TOPIC, group: 'bench-count', handleBatch: async () => {} });

  async function seed(payload: unknown): Promise<{ ms: number }> {
    const { fakes, specs } = payload as { fakes: FakesReady; specs: ConnectionSpec[] };
    const started = performance.now();
    const meta = await createPgliteMeta();
    await migrate(meta);
    const cipher = createTokenCipher([{ id: 'bench', key: randomBytes(32) }]);
    const orgs: string[] = [];
    for (let i = 0; i < ORGANISATIONS; i++) orgs.push(await createOrganisation(meta, `Org ${i}`));
    await insertConnections(meta, cipher, orgs, specs, new Date());
    seeded = { meta, cipher, fakes, specs };
    return { ms: performance.now() - started };
  }

  function bindings(fakes: FakesReady): Record<Platform, PlatformBinding> {
    return {
      facebook: {
        protocol: createFacebookProtocol({
          baseUrl: fakes.metaUrl,
          appId: fakes.metaAppId,
          appSecret: fakes.metaAppSecret,
        }),
        connector: createFacebookConnector(),
      },
      instagram: {
        protocol: createInstagramProtocol({
          baseUrl: fakes.metaUrl,
          appSecret: fakes.metaAppSecret,
          appId: fakes.metaAppId,
        }),
        connector: createInstagramConnector(),
      },
      x: {
        protocol: createXProtocol({
          baseUrl: fakes.xUrl,
          clientId: DEFAULT_X_CLIENT.id,
          clientSecret: DEFAULT_X_CLIENT.secret,
        }),
        connector: createXConnector(),
      },
      tiktok: {
        protocol: createTikTokProtocol({
          baseUrl: fakes.tiktokUrl,
          clientKey: fakes.tiktokClientKey,
          clientSecret: fakes.tiktokClientSecret,
          limit: { calls: options['tiktok-limit'], windowMs: 60_000 },
        }),
        connector: createTikTokConnector(),
      },
    };
  }

  async function sweep(payload: unknown): Promise<SweepResult> {
    const { maxMs, label } = payload as { maxMs: number; label: string };
    if (!seeded) throw new Error('seed first');
    const { meta, cipher, fakes, specs } = seeded;
    const total = specs.length;
    const want = split(total);
    const done = perPlatform(() => 0);
    const lastDoneMs = perPlatform(() => NaN);
    const inFlight = perPlatform(() => 0);
    const peakInFlight = perPlatform(() => 0);
    const durations = perPlatform((): number[] => []);
    let t0 = 0;
    let doneTotal = 0;
    const swept = new Set<string>();

    // The connectors as they are, timed: a poll that resolves has emitted everything it read.
    const platforms: PlatformBindings = {};
    for (const [platform, binding] of Object.entries(bindings(fakes)) as [
      Platform,
      PlatformBinding,
    ][]) {
      const inner = binding.connector;
      platforms[platform] = {
        protocol: binding.protocol,
        connector: {
          platform: inner.platform,
          async poll(ctx) {
            const at = performance.now();
            inFlight[platform] += 1;
            peakInFlight[platform] = Math.max(peakInFlight[platform], inFlight[platform]);
            try {
              await inner.poll(ctx);
              // A sweep past the poll interval polls some accounts again: each counts once.
              const id = `${ctx.connection.orgId}/${ctx.connection.accountId}`;
              if (swept.has(id)) return;
              swept.add(id);
              done[platform] += 1;
              doneTotal += 1;
              lastDoneMs[platform] = performance.now() - t0;
            } finally {
              inFlight[platform] -= 1;
              durations[platform].push(performance.now() - at);
            }
          },
        },
      };
    }

    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 100);
    const endsBefore = await bus.endOffsets(EVENTS_TOPIC);
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    const manager = startConnectorManager({
      meta,
      bus,
      cipher,
      platforms,
      logger: createLogger('silent'),
      settings: { concurrency: options.concurrency, tickMs: options['tick-ms'] },
    });
    // The first claim at once rather than one tick after the start, as the tests drive it.
    void manager.tick().catch((error: unknown) => console.error(error));
    let lastProgress = t0;
    const line = (elapsed: number) =>
      `${label}: ${seconds(elapsed)}: ${count(doneTotal)}/${count(total)} done (` +
      PLATFORMS.map((p) => `${p} ${count(done[p])}/${count(want[p])}`).join(', ') +
      `); in flight ${PLATFORMS.map((p) => `${p} ${inFlight[p]}`).join(', ')}; ` +
      `ended rate-limited ${manager.stats['rate-limited']}, failed ${manager.stats.failed}`;
    for (;;) {
      await sleep(50);
      const now = performance.now();
      if (doneTotal >= total || now - t0 >= maxMs) break;
      if (now - lastProgress >= options['progress-seconds'] * 1000) {
        lastProgress = now;
        say(line(now - t0));
      }
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    say(line(wallMs));
    await manager.close();
    const endsAfter = await bus.endOffsets(EVENTS_TOPIC);
    let events = 0;
    for (const [partition, end] of endsAfter) events += end - (endsBefore.get(partition) ?? 0);
    const states = await meta.query<{ platform: string; state: string; n: number; polls: number }>(
      `SELECT platform, state, count(*)::int AS n, sum(polls)::int AS polls FROM connections
       GROUP BY platform, state ORDER BY platform, state`,
    );
    return {
      total,
      done,
      lastDoneMs,
      wallMs,
      finished: doneTotal >= total,
      cpuUserSeconds: cpu.user / 1e6,
      cpuSystemSeconds: cpu.system / 1e6,
      peakRssBytes: peakRss,
      peakHeapBytes: peakHeap,
      rssBeforeBytes: before.rss,
      heapBeforeBytes: before.heapUsed,
      events,
      managerStats: { ...manager.stats },
      pollMs: perPlatform((p) => {
        const q = percentiles(durations[p]);
        return { p50: q.p50, p99: q.p99, max: q.max };
      }),
      peakInFlight,
      states: states.map((s) => `${s.platform} ${s.state} ${s.n} (${s.polls} polls)`).join(', '),
    };
  }

  /** One keep-alive client hammering X's user lookup with the seeded X tokens: the fakes' ceiling. */
  async function raw(): Promise<RawResult> {
    if (!seeded) throw new Error('seed first');
    const users = seeded.specs.filter((s) => s.platform === 'x');
    const agent = new Agent({ connections: options.concurrency, keepAliveTimeout: 30_000 });
    const until = performance.now() + options['raw-seconds'] * 1000;
    let calls = 0;
    let ok = 0;
    let next = 0;
    const started = performance.now();
    async function worker(): Promise<void> {
      while (performance.now() < until) {
        const user = users[next++ % users.length]!;
        const res = await request(`${seeded!.fakes.xUrl}/2/users/${user.platformAccountId}`, {
          dispatcher: agent,
          headers: { authorization: `Bearer ${user.credentials.accessToken}` },
        });
        await res.body.text();
        calls += 1;
        if (res.statusCode === 200) ok += 1;
      }
    }
    await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
    const elapsed = (performance.now() - started) / 1000;
    await agent.close();
    return { calls, ok, seconds: elapsed };
  }

  serveControl({ seed, sweep, raw }, async () => {
    await bus.close();
    await seeded?.meta.close();
  });
  await tell({ type: 'ready' });
}

// ---- parent: the runs and the figures -----------------------------------------------------------

interface RunResult {
  accounts: number;
  seedMs: number;
  sweep: SweepResult;
  fakes: FakesStats;
  raw?: RawResult;
}

async function run(label: string, accounts: number, withRaw: boolean): Promise<RunResult> {
  const self = new URL(import.meta.url);
  const args = process.argv.slice(2);
  const fakes = forkBenchChild(self, [...args, '--role', 'fakes']);
  const manager = forkBenchChild(self, [...args, '--role', 'manager']);
  const maxMs = options['max-minutes'] * 60_000;
  try {
    // Both listened for at once: an event that comes before its listener is not kept.
    const [ready] = await Promise.all([fakes.next<FakesReady>('ready'), manager.next('ready')]);
    const specs = await fakes.request<ConnectionSpec[]>('populate', { accounts }, 600_000);
    const { ms: seedMs } = await manager.request<{ ms: number }>(
      'seed',
      { fakes: ready, specs },
      600_000,
    );
    say(`${label}: ${count(accounts)} accounts connected (due now) in ${seconds(seedMs)}`);
    const sweep = await manager.request<SweepResult>('sweep', { maxMs, label }, maxMs + 300_000);
    const stats = await fakes.request<FakesStats>('stats');
    const raw = withRaw ? await manager.request<RawResult>('raw', undefined, 300_000) : undefined;
    return { accounts, seedMs, sweep, fakes: stats, ...(raw && { raw }) };
  } finally {
    await manager.stop();
    await fakes.stop();
  }
}

const mb = (bytes: number) => bytes / 1024 / 1024;

function report(label: string, r: RunResult): void {
  const s = r.sweep;
  const calls = PLATFORMS.reduce((sum, p) => sum + r.fakes.platforms[p].calls, 0);
  const cpu = s.cpuUserSeconds + s.cpuSystemSeconds;
  say(
    `${label}: ${s.finished ? 'full sweep' : 'sweep NOT finished'} of ${count(s.total)} accounts in ${seconds(s.wallMs)} ` +
      `(${count((1000 * Object.values(s.done).reduce((a, b) => a + b, 0)) / s.wallMs)} accounts/s), ` +
      `${count(calls)} calls (${count((1000 * calls) / s.wallMs)}/s), ${count(s.events)} events published`,
  );
  for (const p of PLATFORMS) {
    const c = r.fakes.platforms[p];
    const q = s.pollMs[p];
    say(
      `  ${p}: ${count(s.done[p])} done, last at ${seconds(s.lastDoneMs[p])}; ${count(c.calls)} calls ` +
        `(${c.tokenCalls} token), statuses ${JSON.stringify(c.byStatus)}; throttled ${c.throttled}, ` +
        `beyond the first per window ${c.beyondFirst}; poll p50 ${q.p50.toFixed(0)} ms, ` +
        `p99 ${q.p99.toFixed(0)} ms, max ${q.max.toFixed(0)} ms; at most ${s.peakInFlight[p]} in flight`,
    );
  }
  say(
    `  manager: CPU ${cpu.toFixed(1)} s (user ${s.cpuUserSeconds.toFixed(1)}, system ${s.cpuSystemSeconds.toFixed(1)}) = ` +
      `${((100 * cpu * 1000) / s.wallMs).toFixed(0)}% of a core; RSS ${mb(s.rssBeforeBytes).toFixed(0)} MB before, ` +
      `peak ${mb(s.peakRssBytes).toFixed(0)} MB; heap ${mb(s.heapBeforeBytes).toFixed(0)} MB before, ` +
      `peak ${mb(s.peakHeapBytes).toFixed(0)} MB; fakes CPU ${r.fakes.cpuSeconds.toFixed(1)} s`,
  );
  say(`  outcomes ${JSON.stringify(s.managerStats)}; connections ${s.states}`);
}

async function main(): Promise<void> {
  const full = options.accounts;
  say(
    `${count(full)} accounts (${count(split(full).x)} per platform), ${options.posts} posts each, ` +
      `concurrency ${options.concurrency}, tick ${options['tick-ms']} ms, TikTok ${options['tiktok-limit']}/min per endpoint, ` +
      `at most ${options['max-minutes']} min`,
  );
  const baseAccounts = Math.min(options['baseline-accounts'], full);
  const base = await run('baseline', baseAccounts, true);
  report('baseline', base);
  const raw = base.raw!;
  const rawRate = raw.calls / raw.seconds;
  say(
    `raw HTTP (one client, ${options.concurrency} connections, X user lookup): ${count(rawRate)} calls/s ` +
      `(${count(raw.ok)} of ${count(raw.calls)} answered 200)`,
  );
  const r = await run('full', full, false);
  report('full', r);

  const s = r.sweep;
  const b = base.sweep;
  const doneOf = (x: SweepResult) => Object.values(x.done).reduce((a, c) => a + c, 0);
  const callsOf = (x: RunResult, p?: Platform) =>
    (p ? [p] : PLATFORMS).reduce((sum, q) => sum + x.fakes.platforms[q].calls, 0);
  const rate = (n: number, ms: number) => (1000 * n) / ms;
  const cpu = s.cpuUserSeconds + s.cpuSystemSeconds;
  const baseCpu = b.cpuUserSeconds + b.cpuSystemSeconds;
  const sweepName = (what: string) =>
    `${what}${s.finished ? '' : ` (NOT finished in ${options['max-minutes']} min)`}`;
  const baseline = (name: string, value: number) => ({ name, value });
  const baseName = `${count(baseAccounts)}-account sweep`;
  const figures: Figure[] = [
    {
      bench: BENCH,
      name: sweepName(`full sweep of ${count(s.total)} accounts`),
      value: s.wallMs / 1000,
      unit: 's',
    },
    ...PLATFORMS.map((p): Figure => ({
      bench: BENCH,
      name: `${p}: last of ${count(split(full)[p])} accounts done at`,
      value: s.lastDoneMs[p] / 1000,
      unit: 's',
    })),
    {
      bench: BENCH,
      name: 'accounts swept per second',
      value: rate(doneOf(s), s.wallMs),
      unit: 'accounts/s',
      baseline: baseline(baseName, rate(doneOf(b), b.wallMs)),
    },
    {
      bench: BENCH,
      name: 'calls per second, all platforms',
      value: rate(callsOf(r), s.wallMs),
      unit: 'calls/s',
      baseline: baseline("fakes' raw HTTP rate", rawRate),
    },
    ...PLATFORMS.map((p): Figure => ({
      bench: BENCH,
      name: `${p} calls per second (until its last account)`,
      value: rate(callsOf(r, p), s.lastDoneMs[p]),
      unit: 'calls/s',
      baseline: baseline(baseName, rate(callsOf(base, p), b.lastDoneMs[p])),
    })),
    ...PLATFORMS.map((p): Figure => ({
      bench: BENCH,
      name: `${p} ${p === 'facebook' || p === 'instagram' ? 'throttles' : '429s'} beyond the first per window`,
      value: r.fakes.platforms[p].beyondFirst,
      unit: p === 'facebook' || p === 'instagram' ? 'throttles' : '429s',
      target: { op: '<=', value: 0 },
    })),
    {
      bench: BENCH,
      name: 'events published',
      value: s.events,
      unit: 'events',
    },
    {
      bench: BENCH,
      name: 'manager CPU',
      value: cpu,
      unit: 'CPU s',
    },
    {
      bench: BENCH,
      name: 'manager CPU per 1,000 accounts',
      value: (1000 * cpu) / Math.max(1, doneOf(s)),
      unit: 'CPU s',
      baseline: baseline(baseName, (1000 * baseCpu) / Math.max(1, doneOf(b))),
    },
    {
      bench: BENCH,
      name: 'manager CPU share of one core',
      value: (100 * cpu * 1000) / s.wallMs,
      unit: '%',
      baseline: baseline(baseName, (100 * baseCpu * 1000) / b.wallMs),
    },
    {
      bench: BENCH,
      name: 'manager peak RSS',
      value: mb(s.peakRssBytes),
      unit: 'MB',
      baseline: baseline(baseName, mb(b.peakRssBytes)),
    },
    {
      bench: BENCH,
      name: 'manager peak heap',
      value: mb(s.peakHeapBytes),
      unit: 'MB',
      baseline: baseline(baseName, mb(b.peakHeapBytes)),
    },
  ];
  publishFigures(figures);
}

const roleAt = process.argv.indexOf('--role');
const role = roleAt >= 0 ? process.argv[roleAt + 1] : undefined;
if (role === 'fakes') await serveFakes();
else if (role === 'manager') await serveManager();
else await main();
