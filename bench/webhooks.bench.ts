// `npm run bench -- webhooks [--duration 15] [--connections 16]`: the webhook door on a real HTTP
// server with the in-process bus, in a child process of its own, driven by keep-alive undici
// clients POSTing signed deliveries (Meta Instagram and Page, X, TikTok; a few changes each) for
// a fixed time. The same child answering 200 without verifying or publishing is the baseline.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { createMemoryBus } from '../lib/bus/memory.bus.ts';
import { createLogger } from '../lib/logger.ts';
import type { SocialPlatform } from '../ingest/connectors/ids.ts';
import { EVENTS_TOPIC } from '../ingest/pipeline/topics.ts';
import { metaSignature, tiktokSignature, xSignature } from '../ingest/webhooks/signature.ts';
import { createWebhookHandler, type Connection } from '../ingest/webhooks/webhooks.handler.ts';
import { forkBenchChild, serveControl, tell } from './support/child.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { benchOptions } from './support/options.ts';
import { count, describe, percentiles, progress, type Percentiles } from './support/stats.ts';

const BENCH = 'webhooks';
const SECRETS = {
  metaAppSecret: 'bench-meta-secret',
  metaVerifyToken: 'bench-verify',
  xConsumerSecret: 'bench-x-secret',
  tiktokClientSecret: 'bench-tiktok-secret',
};
const say = (text: string) => progress(BENCH, text);

const options = benchOptions(BENCH, {
  duration: { default: 15, doc: 'seconds of load against the webhook door' },
  'baseline-duration': { default: 5, doc: 'seconds of load against the bare 200 server' },
  connections: { default: 16, doc: 'concurrent keep-alive connections' },
  accounts: { default: 1000, doc: 'connected platform accounts the deliveries are spread over' },
  deliveries: { default: 2000, doc: 'distinct signed deliveries cycled through' },
});

// ---- child: the server under load ------------------------------------------------------------

async function serveChild(mode: 'door' | 'baseline'): Promise<void> {
  const bus = createMemoryBus();
  let onBus = 0;
  await bus.consume({
    topic: EVENTS_TOPIC,
    group: 'bench-count',
    handleBatch: async (batch) => void (onBus += batch.messages.length),
  });
  const accounts = new Map<string, Connection[]>();
  for (let i = 0; i < options.accounts; i++) {
    for (const platform of ['instagram', 'facebook', 'x', 'tiktok'] as const) {
      accounts.set(`${platform}:${platform}-${i}`, [
        { orgId: `org-${i % 50}`, accountId: `acct-${platform}-${i}` },
      ]);
    }
  }
  const handler = createWebhookHandler({
    bus,
    resolve: async (platform: SocialPlatform, id: string) =>
      accounts.get(`${platform}:${id}`) ?? [],
    onActivity: async () => undefined,
    onRevoked: async () => undefined,
    secrets: SECRETS,
    // The pool is signed once, before the load: its TikTok timestamps must stay fresh throughout.
    tiktokToleranceMs: Math.max(5 * 60_000, (options.duration + 120) * 1000),
    logger: createLogger('silent'),
  });
  const server: Server = createServer((req, res) => {
    if (mode === 'baseline') {
      req.on('data', () => undefined);
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"published":0}');
      });
      return;
    }
    void handler(req, res).then((served) => {
      if (!served) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serveControl({ stats: async () => ({ onBus }) }, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await bus.close();
  });
  await tell({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

// ---- parent: signed deliveries and the load -----------------------------------------------------

interface Delivery {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Delivery `n`: the platforms in turn, each with three changes (TikTok: one signal). */
function delivery(n: number): Delivery {
  const account = Math.floor(n / 4) % options.accounts;
  const now = Date.now();
  const seconds = Math.floor(now / 1000) - 60;
  switch (n % 4) {
    case 0: {
      const changes = [0, 1, 2].map((k) => ({
        field: 'comments',
        value: {
          id: `c-${n}-${k}`,
          from: { id: 'u', username: 'fan' },
          text: `nice ${n}`,
          media: { id: `m-${account}` },
        },
      }));
      const body = JSON.stringify({
        object: 'instagram',
        entry: [{ id: `instagram-${account}`, time: seconds, changes }],
      });
      return {
        path: '/webhooks/meta',
        headers: { 'x-hub-signature-256': metaSignature(SECRETS.metaAppSecret, body) },
        body,
      };
    }
    case 1: {
      const post = `facebook-${account}_${n}`;
      const values = [
        {
          item: 'comment',
          verb: 'add',
          comment_id: `${n}_1`,
          post_id: post,
          from: { id: '5', name: 'Ada' },
          message: 'great',
          created_time: seconds,
        },
        {
          item: 'reaction',
          verb: 'add',
          post_id: post,
          from: { id: '5' },
          reaction_type: 'like',
          created_time: seconds,
        },
        {
          item: 'status',
          verb: 'add',
          post_id: post,
          from: { id: `facebook-${account}` },
          message: 'hello',
          created_time: seconds,
        },
      ];
      const body = JSON.stringify({
        object: 'page',
        entry: [
          {
            id: `facebook-${account}`,
            time: seconds,
            changes: values.map((value) => ({ field: 'feed', value })),
          },
        ],
      });
      return {
        path: '/webhooks/meta',
        headers: { 'x-hub-signature-256': metaSignature(SECRETS.metaAppSecret, body) },
        body,
      };
    }
    case 2: {
      const me = `x-${account}`;
      const body = JSON.stringify({
        for_user_id: me,
        tweet_create_events: [
          {
            id_str: `${n}1`,
            timestamp_ms: String(now - 60_000),
            text: 'launch',
            user: { id_str: me, screen_name: me },
          },
          {
            id_str: `${n}2`,
            timestamp_ms: String(now - 30_000),
            text: '@us congrats',
            in_reply_to_status_id_str: `${n}1`,
            in_reply_to_user_id_str: me,
            user: { id_str: '7', screen_name: 'friend' },
          },
        ],
        favorite_events: [
          {
            id: `fav-${n}`,
            timestamp_ms: now - 10_000,
            favorited_status: { id_str: `${n}1`, user: { id_str: me } },
            user: { id_str: '7' },
          },
        ],
      });
      return {
        path: '/webhooks/x',
        headers: { 'x-twitter-webhooks-signature': xSignature(SECRETS.xConsumerSecret, body) },
        body,
      };
    }
    default: {
      const body = JSON.stringify({
        client_key: 'ck',
        event: 'video.publish.completed',
        create_time: seconds,
        user_openid: `tiktok-${account}`,
        content: JSON.stringify({ share_id: `video.${n}.x` }),
      });
      const header = tiktokSignature(SECRETS.tiktokClientSecret, body, Math.floor(now / 1000));
      return { path: '/webhooks/tiktok', headers: { 'tiktok-signature': header }, body };
    }
  }
}

interface LoadResult {
  deliveries: number;
  events: number;
  failures: number;
  seconds: number;
  latency: Percentiles;
}

async function load(
  url: string,
  pool: readonly Delivery[],
  durationMs: number,
): Promise<LoadResult> {
  const agent = new Agent({ connections: options.connections, pipelining: 1 });
  const latencies: number[] = [];
  let next = 0;
  let deliveries = 0;
  let events = 0;
  let failures = 0;
  const started = performance.now();
  const until = started + durationMs;
  async function worker(): Promise<void> {
    while (performance.now() < until) {
      const d = pool[next++ % pool.length]!;
      const at = performance.now();
      try {
        const res = await request(`${url}${d.path}`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', ...d.headers },
          body: d.body,
        });
        const answer = (await res.body.json()) as { published?: number };
        latencies.push(performance.now() - at);
        if (res.statusCode === 200) {
          deliveries++;
          events += answer.published ?? 0;
        } else failures++;
      } catch {
        failures++;
      }
    }
  }
  await Promise.all(Array.from({ length: options.connections }, () => worker()));
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return { deliveries, events, failures, seconds, latency: percentiles(latencies) };
}

async function measure(mode: 'door' | 'baseline', pool: readonly Delivery[], durationMs: number) {
  const child = forkBenchChild(new URL(import.meta.url), [
    '--child',
    mode,
    ...process.argv.slice(2),
  ]);
  try {
    const { url } = await child.next<{ type: string; url: string }>('ready');
    await load(url, pool.slice(0, 200), 1000); // warm-up: JIT and connections
    const before = await child.request<{ onBus: number }>('stats');
    const result = await load(url, pool, durationMs);
    const after = await child.request<{ onBus: number }>('stats');
    return { ...result, onBus: after.onBus - before.onBus };
  } finally {
    await child.stop();
  }
}

async function main(): Promise<void> {
  const pool = Array.from({ length: options.deliveries }, (_, n) => delivery(n));
  say(
    `${count(pool.length)} signed deliveries over ${count(options.accounts)} accounts per platform, ${options.connections} connections`,
  );
  const base = await measure('baseline', pool, options['baseline-duration'] * 1000);
  const baseRate = base.deliveries / base.seconds;
  say(
    `baseline (200, no verify, no publish): ${count(baseRate)} deliveries/s; ${describe(base.latency)}`,
  );
  const door = await measure('door', pool, options.duration * 1000);
  const rate = door.deliveries / door.seconds;
  say(
    `webhook door: ${count(rate)} verified deliveries/s, ${count(door.events / door.seconds)} events/s ` +
      `(${count(door.onBus)} messages on the bus for ${count(door.events)} acknowledged), ${door.failures} failures; ${describe(door.latency)}`,
  );
  if (door.onBus < door.events) throw new Error('fewer events on the bus than were acknowledged');
  const baseline = (name: string, value: number) => ({ name, value });
  const figures: Figure[] = [
    {
      bench: BENCH,
      name: 'verified deliveries, answered once on the bus',
      value: rate,
      unit: 'deliveries/s',
      baseline: baseline('200 without verifying', baseRate),
    },
    {
      bench: BENCH,
      name: 'events on the bus',
      value: door.events / door.seconds,
      unit: 'events/s',
    },
    {
      bench: BENCH,
      name: 'delivery latency p50',
      value: door.latency.p50,
      unit: 'ms',
      baseline: baseline('200 without verifying', base.latency.p50),
    },
    {
      bench: BENCH,
      name: 'delivery latency p95',
      value: door.latency.p95,
      unit: 'ms',
      baseline: baseline('200 without verifying', base.latency.p95),
    },
    // X allows about 3 s per attempt; the door should answer far inside it.
    {
      bench: BENCH,
      name: 'delivery latency p99',
      value: door.latency.p99,
      unit: 'ms',
      target: { op: '<=', value: 3000 },
      baseline: baseline('200 without verifying', base.latency.p99),
    },
  ];
  publishFigures(figures);
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) await serveChild(process.argv[childAt + 1] === 'baseline' ? 'baseline' : 'door');
else await main();
