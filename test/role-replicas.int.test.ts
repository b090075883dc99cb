// One role per process, two replicas: the speed layer runs in two child processes
// (`npm start -- --service speed-layer`), the rest of the product in this one, all on Kafka,
// Redis, PostgreSQL and Elasticsearch. The replicas split the events topic's partitions through
// their consumer group, and together they count every event exactly once: the live ticks a
// dashboard receives add up to what was posted, for accounts on both replicas' partitions.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { loadConfig, SUBGRAPHS, throwawayEnv } from '../lib/config.ts';
import type { EventInput } from '../schema/event-envelope.ts';
import { startLoupe, type RunningLoupe } from '../scripts/runtime.ts';
import { throwawayServerEnv } from './support/throwaway-servers.ts';
import { waitUntil } from './support/wait-for.ts';

const KEY = 'loupe_replicas_key_0123456789';
const ACCOUNTS = 24;

interface Replica {
  child: ChildProcess;
  /** Partitions of the events topic it holds after its latest rebalance. */
  partitions: number[] | undefined;
}

let dir: string;
let env: Record<string, string>;
let cleanup: () => Promise<void>;
let loupe: RunningLoupe;
const replicas: Replica[] = [];

function startReplica(name: string): Replica {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/start.ts', '--service', 'speed-layer'],
    {
      env: {
        PATH: process.env['PATH'],
        ...throwawayEnv({ dataDir: join(dir, name), apiKey: KEY, logLevel: 'info' }),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const replica: Replica = { child, partitions: undefined };
  // pino writes one JSON object per line; the bus logs each assignment it is given.
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const entry = JSON.parse(line) as { msg?: string; topic?: string; partitions?: number[] };
    if (entry.msg === 'joined consumer group' && entry.topic === 'events') {
      replica.partitions = entry.partitions;
    }
  });
  return replica;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loupe-replicas-'));
  const servers = await throwawayServerEnv();
  env = servers.env;
  cleanup = () => servers.cleanup();
  const config = loadConfig({
    ...throwawayEnv({ dataDir: join(dir, 'main'), apiKey: KEY, logLevel: 'warn' }),
    ...env,
  });
  loupe = await startLoupe(config, {
    services: ['ingest', 'olap-sink', 'text-pipeline', ...SUBGRAPHS, 'gateway'],
  });
  replicas.push(startReplica('replica-a'), startReplica('replica-b'));
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
  await rm(dir, { recursive: true, force: true });
});

test('two speed-layer processes split the partitions and count every event once', async () => {
  await waitUntil(
    'both replicas to hold disjoint partitions covering the topic',
    () => {
      const [a, b] = replicas.map((r) => r.partitions ?? []);
      const all = new Set([...a!, ...b!]);
      return a!.length > 0 && b!.length > 0 && all.size === a!.length + b!.length && all.size === 8;
    },
    60_000,
  );

  const client = createClient({
    url: loupe.urls.gateway!.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { apiKey: KEY },
    retryAttempts: 0,
  });
  const accountIds = Array.from({ length: ACCOUNTS }, (_, i) => `replica-acct-${i}`);
  const likes = new Map<string, number>();
  await new Promise<void>((resolve, reject) => {
    client.subscribe<{ metricTicks: { account: { id: string }; metric: string; delta: number } }>(
      {
        query: `subscription ($ids: [ID!]!) { metricTicks(accountIds: $ids) { account { id } metric delta } }`,
        variables: { ids: accountIds },
      },
      {
        next: ({ data }) => {
          const tick = data?.metricTicks;
          if (tick?.metric !== 'LIKES') return;
          likes.set(tick.account.id, (likes.get(tick.account.id) ?? 0) + tick.delta);
        },
        error: reject,
        complete: () => undefined,
      },
    );
    // graphql-ws acknowledges the connection before the subscription is live upstream.
    client.on('connected', () => setTimeout(resolve, 300));
  });

  const now = Date.now();
  const events: EventInput[] = accountIds.flatMap((accountId, a) =>
    Array.from({ length: 20 }, (_, i) => ({
      id: `${accountId}-${i}-${now}`,
      type: 'engagement' as const,
      platform: 'instagram' as const,
      accountId,
      metric: 'likes' as const,
      mode: 'delta' as const,
      value: 1 + ((a + i) % 5),
      occurredAt: new Date(now - i * 1000).toISOString(),
    })),
  );
  const res = await fetch(`${loupe.urls.ingest!}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify({ events }),
  });
  expect(res.status).toBe(200);

  const expected = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'engagement')
      expected.set(e.accountId, (expected.get(e.accountId) ?? 0) + e.value);
  }
  await waitUntil(
    'ticks for every account',
    () => accountIds.every((id) => (likes.get(id) ?? 0) >= expected.get(id)!),
    30_000,
  );
  // Nothing counted twice, even a little later.
  await new Promise((r) => setTimeout(r, 1000));
  expect(Object.fromEntries(likes)).toEqual(Object.fromEntries(expected));
  await client.dispose();
}, 120_000);
