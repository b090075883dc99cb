// The connectors role on its own: two child processes run `npm start -- --service connectors`,
// the rest of the product runs in this one, all on Kafka, Redis, PostgreSQL and Elasticsearch.
// The replicas split the due polls through their leases in PostgreSQL, each poll runs once (the
// fakes' call logs say so), and what they read reaches the API through Kafka and the OLAP sink.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig, SUBGRAPHS, throwawayEnv } from '../lib/config.ts';
import { startLoupe, type RunningLoupe } from '../scripts/runtime.ts';
import { DEFAULT_X_CLIENT, startXFake, type XFake } from './fakes/x/x.fake.ts';
import { startTikTokFake, type TikTokFake } from './fakes/tiktok/tiktok.fake.ts';
import { postGraphQL } from './support/graphql-http.ts';
import { throwawayServerEnv } from './support/throwaway-servers.ts';
import { waitUntil } from './support/wait-for.ts';

const KEY = 'loupe_connector_replicas_0123456789';
const PER_PLATFORM = 12;
const DAY = 86_400_000;

let dir: string;
let env: Record<string, string>;
let cleanup: () => Promise<void>;
let loupe: RunningLoupe;
let x: XFake;
let tiktok: TikTokFake;
const replicas: { child: ChildProcess; polls: number; output: string[] }[] = [];

/** A `--service connectors` process; `without` names settings to leave out of its environment. */
function startReplica(name: string, without: readonly string[] = []) {
  const all: Record<string, string | undefined> = {
    PATH: process.env['PATH'],
    ...throwawayEnv({ dataDir: join(dir, name), apiKey: KEY, logLevel: 'debug' }),
    ...env,
  };
  for (const key of without) delete all[key];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/start.ts', '--service', 'connectors'],
    { env: all, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const replica = { child, polls: 0, output: [] as string[] };
  createInterface({ input: child.stderr }).on('line', (line) => replica.output.push(line));
  createInterface({ input: child.stdout }).on('line', (line) => {
    replica.output.push(line);
    if (!line.startsWith('{')) return;
    const entry = JSON.parse(line) as { msg?: string; outcome?: string };
    if (entry.msg === 'poll ended' && entry.outcome === 'ok') replica.polls += 1;
  });
  return replica;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loupe-connector-replicas-'));
  x = await startXFake();
  tiktok = await startTikTokFake();
  const servers = await throwawayServerEnv();
  cleanup = () => servers.cleanup();
  env = {
    ...servers.env,
    LOUPE_TOKEN_KEYS: `replicas:${randomBytes(32).toString('base64')}`,
    LOUPE_X_API_URL: x.url,
    LOUPE_X_CLIENT_ID: DEFAULT_X_CLIENT.id,
    LOUPE_X_CLIENT_SECRET: DEFAULT_X_CLIENT.secret,
    LOUPE_TIKTOK_API_URL: tiktok.url,
    LOUPE_TIKTOK_CLIENT_KEY: tiktok.clientKey,
    LOUPE_TIKTOK_CLIENT_SECRET: tiktok.clientSecret,
    LOUPE_INTERNAL_SECRET: randomBytes(32).toString('base64url'),
    // Few polls at once per replica, so that neither can claim the whole schedule in one tick.
    LOUPE_CONNECTOR_CONCURRENCY: '3',
  };
  loupe = await startLoupe(
    loadConfig({
      ...throwawayEnv({ dataDir: join(dir, 'main'), apiKey: KEY, logLevel: 'warn' }),
      ...env,
    }),
    { services: ['ingest', 'olap-sink', 'speed-layer', 'text-pipeline', ...SUBGRAPHS, 'gateway'] },
  );
  replicas.push(startReplica('replica-a'), startReplica('replica-b'));
  await waitUntil(
    'both replicas ready',
    () => replicas.every((r) => r.output.some((line) => line.startsWith('Loupe is ready'))),
    60_000,
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(
    replicas.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  await loupe?.close();
  await cleanup?.();
  await x?.close();
  await tiktok?.close();
});

test('two connectors replicas split the schedule, poll each account once, and the API answers what they read', async () => {
  const now = Date.now();
  const accounts: { id: string; posts: () => number }[] = [];
  for (let i = 0; i < PER_PLATFORM; i++) {
    const user = x.addUser({ posts: 30 + i, newestAt: now - 3_600_000, spacingMs: DAY, seed: i });
    const xToken = x.issueToken(user.id);
    const openId = tiktok.addUser({ openId: `open-${i}`, videoCount: 20 + i, seed: i });
    const ttToken = tiktok.issueToken(openId);
    for (const [accountId, platform, nativeId, token] of [
      [`x-${i}`, 'X', user.id, xToken],
      [`tt-${i}`, 'TIKTOK', openId, ttToken],
    ] as const) {
      const reply = await postGraphQL(
        loupe.urls.gateway!,
        KEY,
        'mutation($input: ConnectAccountInput!) { connectAccount(input: $input) { state } }',
        {
          input: {
            accountId,
            platform,
            platformAccountId: nativeId,
            accessToken: token.accessToken,
            refreshToken: token.refreshToken,
            expiresAt: new Date(token.expiresAt).toISOString(),
            tier: 'STANDARD',
          },
        },
      );
      expect(reply.errors).toBeUndefined();
    }
    accounts.push(
      { id: `x-${i}`, posts: () => x.truth(user.id).posts.length },
      { id: `tt-${i}`, posts: () => tiktok.truth(openId).videos.length },
    );
  }

  const polled = async () => {
    const reply = await postGraphQL<{ connections: { polls: number; state: string }[] }>(
      loupe.urls.gateway!,
      KEY,
      '{ connections { polls state } }',
    );
    return reply.data?.connections ?? [];
  };
  await waitUntil(
    'every connection polled once',
    async () => {
      const all = await polled();
      return all.length === 2 * PER_PLATFORM && all.every((c) => c.polls >= 1);
    },
    90_000,
  ).catch((error: unknown) => {
    throw new Error(
      `${String(error)}\n${replicas.map((r) => r.output.slice(-20).join('\n')).join('\n---\n')}`,
    );
  });
  expect((await polled()).every((c) => c.polls === 1 && c.state === 'HEALTHY')).toBe(true);
  // Both replicas took part, and together they ran exactly one poll per connection.
  await waitUntil(
    'the replicas logged their polls',
    () => replicas.reduce((n, r) => n + r.polls, 0) >= 2 * PER_PLATFORM,
    10_000,
  );
  expect(replicas.map((r) => r.polls).every((n) => n > 0)).toBe(true);
  expect(replicas.reduce((n, r) => n + r.polls, 0)).toBe(2 * PER_PLATFORM);
  // Each account's profile was read once: no poll ran twice.
  const profileReads = new Map<string, number>();
  for (const call of x.calls) {
    if (call.endpoint === 'GET /2/users/:id' && call.userId) {
      profileReads.set(call.userId, (profileReads.get(call.userId) ?? 0) + 1);
    }
  }
  expect(profileReads.size).toBe(PER_PLATFORM);
  expect([...profileReads.values()].every((n) => n === 1)).toBe(true);

  // What the replicas read went through Kafka to the sink in this process.
  await waitUntil(
    'every post queryable',
    async () => {
      for (const account of accounts) {
        const reply = await postGraphQL<{ account: { posts: { totalCount: number } } }>(
          loupe.urls.gateway!,
          KEY,
          'query($id: ID!) { account(id: $id) { posts { totalCount } } }',
          { id: account.id },
        );
        if (reply.data?.account.posts.totalCount !== account.posts()) return false;
      }
      return true;
    },
    60_000,
  );
});

test('the connectors role refuses to start on a shared meta store without LOUPE_TOKEN_KEYS', async () => {
  const lone = startReplica('no-keys', ['LOUPE_TOKEN_KEYS']);
  const code = await new Promise<number | null>((resolve) => lone.child.once('exit', resolve));
  expect(code).not.toBe(0);
  expect(lone.output.join('\n')).toMatch(/set LOUPE_TOKEN_KEYS/);
});
