// Poison messages and store outages in the running pipeline, on the in-process bus and on Kafka:
// events and rollups in chDB, the speed layer on the real Redis through a TCP forwarder the tests
// cut. A message a store refuses goes to the dead-letter topic with its stage and the store's
// reason and its partition goes on; a store that is down is waited for and nothing is
// dead-lettered; a store that refuses everything is waited for too; dead letters replay after a
// fix. Every count is checked against the events the test sent.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Bus } from '../lib/bus/bus.port.ts';
import { createKafkaBus } from '../lib/bus/kafka.bus.ts';
import { createMemoryBus } from '../lib/bus/memory.bus.ts';
import { counterKey, hourOf } from '../lib/live/live-keys.ts';
import type { LiveStore } from '../lib/live/live.port.ts';
import { createRedisLiveStore } from '../lib/live/redis.live.ts';
import { createLogger } from '../lib/logger.ts';
import { createChdbOlap } from '../lib/olap/chdb.olap.ts';
import type { Olap } from '../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../lib/olap/olap-schema.ts';
import { stageHandlers, startPipeline, type Pipeline } from '../ingest/pipeline/pipeline.ts';
import type { RetryPolicy } from '../ingest/pipeline/stage-runner.ts';
import { EVENTS_TOPIC, GROUPS, partitionKey } from '../ingest/pipeline/topics.ts';
import type { EventInput } from '../schema/event-envelope.ts';
import { readDeadLetters, replayDeadLetters, type StoredLetter } from '../scripts/dead-letters.ts';
import { startTcpProxy, target, through, type TcpProxy } from './support/tcp-proxy.ts';
import { throwawayKafka, throwawayRedis } from './support/throwaway-servers.ts';
import { waitUntil } from './support/wait-for.ts';

const logger = createLogger(process.env['FAULTS_LOG'] ?? 'silent');
const RETRY: RetryPolicy = { attempts: 2, backoffMs: 20, maxBackoffMs: 50, maxSplitTries: 2000 };
const ACCOUNTS = 6;

interface Backoff {
  retryMs: number;
  maxRetryMs: number;
}
const FAST: Backoff = { retryMs: 20, maxRetryMs: 200 };

/** A bus, and the settings that point a command line at the same log. */
type NewBus = (backoff?: Backoff) => { bus: Bus; env: Record<string, string> };

const buses: [string, NewBus][] = [
  [
    'in-process bus',
    (backoff = FAST) => ({ bus: createMemoryBus({ partitions: 4, ...backoff }), env: {} }),
  ],
  [
    'Kafka',
    (backoff = FAST) => {
      const { brokers, topicPrefix } = throwawayKafka();
      const bus = createKafkaBus({
        brokers: brokers.split(','),
        prefix: topicPrefix,
        partitions: 4,
        ...backoff,
        logger,
      });
      return { bus, env: { LOUPE_KAFKA_BROKERS: brokers, LOUPE_KAFKA_TOPIC_PREFIX: topicPrefix } };
    },
  ],
];

describe.each(buses)('pipeline faults on the %s', (name, newBus) => {
  let dir: string;
  let olap: Olap;
  let bus: Bus;
  let busEnv: Record<string, string>;
  let live: LiveStore;
  let redis: TcpProxy;
  let pipeline: Pipeline;
  const redisRoom = throwawayRedis();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loupe-faults-'));
    // Where a command line run with LOUPE_DATA_DIR=dir keeps its OLAP store.
    olap = createChdbOlap({ dataDir: join(dir, 'olap') });
    await applyOlapSchema(olap);
    redis = await startTcpProxy(target(redisRoom.url, 6379));
    live = createRedisLiveStore({
      url: through(redis, redisRoom.url),
      keyPrefix: redisRoom.keyPrefix,
      logger,
    });
    ({ bus, env: busEnv } = newBus());
    pipeline = await startPipeline({
      bus,
      olap,
      live,
      logger,
      retry: RETRY,
      stages: ['olapSink', 'speedLayer'],
    });
  });

  // A test that failed half way must not leave its constraint to fail the next ones.
  afterEach(async () => {
    for (const name of ['no_poison', 'no_poison_cli', 'broken']) {
      await olap.command(`ALTER TABLE events DROP CONSTRAINT IF EXISTS ${name}`);
    }
  });

  afterAll(async () => {
    await redis?.restore();
    await pipeline?.close();
    await bus?.close();
    await live?.close();
    await redisRoom.clear();
    await redis?.close();
    await olap?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** `count` likes events spread over the accounts and the last two hours. */
  function likes(orgId: string, count: number, idOf = (i: number) => `ev-${i}`): EventInput[] {
    const now = Date.now();
    return Array.from({ length: count }, (_, i) => ({
      id: idOf(i),
      type: 'engagement',
      platform: 'x',
      accountId: `acct-${i % ACCOUNTS}`,
      metric: 'likes',
      mode: 'delta',
      value: 1 + (i % 4),
      occurredAt: new Date(now - 150 * 60_000 + i * 15_000).toISOString(),
    }));
  }

  const publish = (orgId: string, events: readonly EventInput[]) =>
    bus.publish(
      EVENTS_TOPIC,
      events.map((event) => ({
        key: partitionKey(orgId, event.accountId),
        value: JSON.stringify({ orgId, receivedAt: Date.now(), event }),
      })),
    );

  /** Per account: the likes the OLAP store holds, and whether any event id is stored twice. */
  async function stored(orgId: string): Promise<Map<string, number>> {
    const rows = await olap.query<{ account_id: string; likes: number; n: number; ids: number }>(
      `SELECT account_id, sum(metric_values[1]) AS likes, count() AS n, uniqExact(event_id) AS ids
       FROM events WHERE org_id = {org:String} GROUP BY account_id`,
      { org: orgId },
    );
    for (const r of rows) expect(Number(r.n), `${r.account_id} stored once`).toBe(Number(r.ids));
    return new Map(rows.map((r) => [r.account_id, Number(r.likes)]));
  }

  /** Per account: the likes the speed layer's hour counters hold (but for the `except` key). */
  async function counted(orgId: string, events: readonly EventInput[], except = '') {
    const hours = [...new Set(events.map((e) => hourOf(Date.parse(e.occurredAt))))];
    const result = new Map<string, number>();
    for (let a = 0; a < ACCOUNTS; a++) {
      const accountId = `acct-${a}`;
      const values = await live.counters(
        hours.map((h) => counterKey(orgId, accountId, '', 'likes', h)).filter((k) => k !== except),
      );
      const sum = values.reduce((x, y) => x + y, 0);
      if (sum !== 0) result.set(accountId, sum);
    }
    return result;
  }

  function recount(events: readonly EventInput[]): Map<string, number> {
    const sums = new Map<string, number>();
    for (const e of events) {
      if (e.type !== 'engagement') continue;
      sums.set(e.accountId, (sums.get(e.accountId) ?? 0) + e.value);
    }
    return sums;
  }

  async function lettersOf(orgId: string, from = bus): Promise<StoredLetter[]> {
    const all = await readDeadLetters(from);
    return all.filter((l) => l.letter.original.includes(JSON.stringify(orgId)));
  }

  const eventIdOf = (l: StoredLetter) =>
    (JSON.parse(l.letter.original) as { event: { id: string } }).event.id;

  test('a row the OLAP store refuses is dead-lettered with its reason; the rest is stored once, and it replays after a fix', async () => {
    const orgId = `org-${randomUUID()}`;
    await olap.command(
      `ALTER TABLE events ADD CONSTRAINT no_poison CHECK NOT startsWith(event_id, 'poison')`,
    );
    const events = likes(orgId, 500, (i) => (i === 100 || i === 401 ? `poison-${i}` : `ev-${i}`));
    await publish(orgId, events);
    await pipeline.caughtUp(60_000);

    const letters = await lettersOf(orgId);
    expect(letters.map(eventIdOf).sort()).toEqual(['poison-100', 'poison-401']);
    for (const { letter } of letters) {
      expect(letter.stage).toBe('olap-sink');
      expect(letter.reason).toMatch(/^failed alone: .*no_poison/);
    }
    const good = events.filter((e) => !e.id.startsWith('poison'));
    expect(await stored(orgId)).toEqual(recount(good));
    // The speed layer had nothing against them: it counted every event.
    expect(await counted(orgId, events)).toEqual(recount(events));

    // The fix, then the replay: each letter applied once, and a second replay adds nothing.
    await olap.command('ALTER TABLE events DROP CONSTRAINT no_poison');
    const sink = stageHandlers({ bus, olap, live, logger, retry: RETRY }).find(
      (h) => h.stage === 'olapSink',
    )!;
    for (let round = 0; round < 2; round++) {
      const replayed = await replayDeadLetters(sink, letters, { logger, retry: RETRY });
      expect(replayed).toEqual({ replayed: 2, stillFailing: [] });
      expect(await stored(orgId)).toEqual(recount(events));
    }
  });

  test('a value the live store refuses dead-letters the speed layer’s messages that carry it; the others count once', async () => {
    const orgId = `org-${randomUUID()}`;
    const events = likes(orgId, 500);
    // A counter key holding something that is not a counter: Redis refuses to add to it.
    const poisonHour = hourOf(Date.parse(events[0]!.occurredAt));
    const poisonKey = counterKey(orgId, 'acct-0', '', 'likes', poisonHour);
    await live.setValues([{ key: poisonKey, value: 'not a counter' }], 600);
    await publish(orgId, events);
    await pipeline.caughtUp(60_000);

    const poisoned = (e: EventInput) =>
      e.accountId === 'acct-0' && hourOf(Date.parse(e.occurredAt)) === poisonHour;
    const letters = await lettersOf(orgId);
    expect(letters.map(eventIdOf).sort()).toEqual(
      events
        .filter(poisoned)
        .map((e) => e.id)
        .sort(),
    );
    for (const { letter } of letters) {
      expect(letter.stage).toBe('speed-layer');
      expect(letter.reason).toMatch(/WRONGTYPE/);
    }
    const hours = [...new Set(events.map((e) => hourOf(Date.parse(e.occurredAt))))];
    expect(hours.length).toBeGreaterThan(1);
    const good = events.filter((e) => !poisoned(e));
    expect(await counted(orgId, good, poisonKey)).toEqual(recount(good));
    // The OLAP sink stored them all: only the live tail misses them.
    expect(await stored(orgId)).toEqual(recount(events));
  });

  test('while the live store is down the speed layer waits, dead-lettering nothing, and counts everything once it is back', async () => {
    const orgId = `org-${randomUUID()}`;
    const events = likes(orgId, 400);
    await redis.cut();
    await publish(orgId, events);
    const end = await bus.endOffsets(EVENTS_TOPIC);
    await waitUntil(
      'the sink to store the events',
      async () => {
        const committed = await bus.committedOffsets(EVENTS_TOPIC, GROUPS.olapSink);
        return [...end].every(([p, offset]) => (committed.get(p) ?? 0) >= offset);
      },
      60_000,
    );
    // Long enough for several redeliveries of every waiting batch.
    await new Promise((r) => setTimeout(r, 1500));
    const waiting = await bus.committedOffsets(EVENTS_TOPIC, GROUPS.speedLayer);
    expect([...end].some(([p, offset]) => (waiting.get(p) ?? 0) < offset)).toBe(true);
    await redis.restore();
    await pipeline.caughtUp(60_000);

    expect(await lettersOf(orgId)).toEqual([]);
    expect(await counted(orgId, events)).toEqual(recount(events));
    expect(await stored(orgId)).toEqual(recount(events));
  });

  // Only Kafka keeps a log a command line can read after the fact.
  if (name === 'Kafka')
    test('npm run dead-letters lists the letters with stage and reason, and replays a stage’s letters into a store', async () => {
      const orgId = `org-${randomUUID()}`;
      await olap.command(
        `ALTER TABLE events ADD CONSTRAINT no_poison_cli CHECK NOT startsWith(event_id, 'poison')`,
      );
      const events = likes(orgId, 40, (i) => (i === 7 ? 'poison-7' : `ev-${i}`));
      await publish(orgId, events);
      await pipeline.caughtUp(60_000);
      await olap.command('ALTER TABLE events DROP CONSTRAINT no_poison_cli');
      // One process at a time may open a chDB data directory: the command gets it now.
      await pipeline.close();
      await olap.close();
      const env = {
        ...busEnv,
        PATH: process.env['PATH'],
        LOUPE_DATA_DIR: dir,
        LOUPE_LOG_LEVEL: 'warn',
      };
      const run = (...args: string[]) =>
        spawnSync(process.execPath, ['--import', 'tsx', 'scripts/dead-letters.ts', ...args], {
          encoding: 'utf8',
          timeout: 120_000,
          env,
        });

      const list = run('list', '--stage', 'olap-sink');
      expect(list.status, list.stderr).toBe(0);
      const mine = list.stdout.split('\n').filter((line) => line.includes(orgId));
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatch(
        /olap-sink {2}events\[\d\]@\d+ {2}engagement "poison-7" .*no_poison_cli/,
      );
      expect(list.stdout).toMatch(/^\d+ dead letters \(olap-sink \d+\)$/m);

      const replayed = run('replay', '--stage', 'olap-sink');
      expect(replayed.status, replayed.stderr).toBe(0);
      expect(replayed.stdout).toMatch(
        /^dead letters olap-sink: (\d+) of \1 applied in [\d.]+ s, 0 still failing$/m,
      );
      const refused = run('replay', '--stage', 'speed-layer');
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/only idempotent stages can/);

      olap = createChdbOlap({ dataDir: join(dir, 'olap') });
      expect(await stored(orgId)).toEqual(recount(events));
    });

  test('a store that refuses every row is a fault of the store: the batch waits, nothing is dead-lettered, and it is stored once the store is fixed', async () => {
    const orgId = `org-${randomUUID()}`;
    // Its own bus and pipeline, slow to redeliver and on one partition (one account), so that
    // the store is mended while the batch waits, not in the middle of a split.
    const waiting: string[] = [];
    const watcher = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          const line = JSON.parse(chunk.toString('utf8')) as { msg: string };
          waiting.push(line.msg);
          done();
        },
      }),
    );
    const { bus: slowBus } = newBus({ retryMs: 1500, maxRetryMs: 1500 });
    const slow = await startPipeline({
      bus: slowBus,
      olap,
      live,
      logger: watcher,
      retry: RETRY,
      stages: ['olapSink'],
    });
    try {
      await olap.command(
        `ALTER TABLE events ADD CONSTRAINT broken CHECK org_id != ${JSON.stringify(orgId).replaceAll('"', "'")}`,
      );
      const events = likes(orgId, 60).map((e) => ({ ...e, accountId: 'acct-0' }));
      await slowBus.publish(
        EVENTS_TOPIC,
        events.map((event) => ({
          key: partitionKey(orgId, event.accountId),
          value: JSON.stringify({ orgId, receivedAt: Date.now(), event }),
        })),
      );
      await waitUntil(
        'the batch to be refused as a whole',
        () => waiting.includes('batch failed as a whole; it waits and is retried'),
        60_000,
      );
      expect(await stored(orgId)).toEqual(new Map());
      await olap.command('ALTER TABLE events DROP CONSTRAINT broken');
      await slow.caughtUp(60_000);

      expect(await lettersOf(orgId, slowBus)).toEqual([]);
      expect(waiting).not.toContain('dead-lettered');
      expect(await stored(orgId)).toEqual(recount(events));
    } finally {
      await slow.close();
      await slowBus.close();
    }
  });
});
