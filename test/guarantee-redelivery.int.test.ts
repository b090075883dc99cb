// Guarantees of the pipeline on the real Kafka (the shared local broker, under a per-run topic
// prefix), with events and rollups in chDB in this process:
// - a sink that wrote to ClickHouse but died before committing re-reads that batch, and the
//   totals do not change;
// - replaying an offset range (`npm run replay`) changes no total;
// - a malformed message goes to the dead-letter topic with its reason and the consumer goes on;
// - two replicas of a stage share the partitions through their consumer group.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Bus, BusMessage } from '../lib/bus/bus.port.ts';
import { createKafkaBus } from '../lib/bus/kafka.bus.ts';
import { loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { createMemoryLiveStore } from '../lib/live/memory.live.ts';
import { createChdbOlap } from '../lib/olap/chdb.olap.ts';
import type { Olap } from '../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../lib/olap/olap-schema.ts';
import { createOlapSink } from '../ingest/pipeline/olap-sink.consumer.ts';
import { stageHandlers, startPipeline, type Pipeline } from '../ingest/pipeline/pipeline.ts';
import {
  DEAD_LETTER_TOPIC,
  EVENTS_TOPIC,
  GROUPS,
  partitionKey,
} from '../ingest/pipeline/topics.ts';
import { METRICS, type EventInput } from '../schema/event-envelope.ts';
import { replay } from '../scripts/replay.ts';
import { createMetricsStore, readAccountSeries } from '../subgraphs/metrics/metrics.store.ts';
import { knownBatch } from './support/known-batch.ts';
import { distinctUsers, recount } from './support/recount.ts';
import { DEFAULT_KAFKA_BROKERS } from './support/throwaway-servers.ts';
import { waitUntil } from './support/wait-for.ts';

const brokers = loadConfig().servers.kafkaBrokers ?? [DEFAULT_KAFKA_BROKERS];
const prefix = `loupe-test-${randomBytes(4).toString('hex')}.`;
const orgId = `org-${randomUUID()}`;
const batch = knownBatch({ end: Date.now(), hours: 24 * 10, size: 3000, seed: 5 });
const logger = createLogger('silent');
const RETRY = { attempts: 2, backoffMs: 5, maxBackoffMs: 10, maxSplitTries: 2000 };

let dir: string;
let olap: Olap;
const buses: Bus[] = [];
const newBus = (options: { retryMs?: number } = {}) => {
  const bus = createKafkaBus({ brokers, prefix, partitions: 4, ...options });
  buses.push(bus);
  return bus;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loupe-redelivery-'));
  olap = createChdbOlap({ dataDir: dir });
  await applyOlapSchema(olap);
});

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await olap?.close();
  await rm(dir, { recursive: true, force: true });
});

function publishEvents(bus: Bus, events: readonly EventInput[]): Promise<void> {
  return bus.publish(
    EVENTS_TOPIC,
    events.map((event) => ({
      key: partitionKey(orgId, event.accountId),
      value: JSON.stringify({ orgId, receivedAt: Date.now(), event }),
    })),
  );
}

/** Every metric's hourly points and total, as the metrics API reads them, against a recount. */
async function expectTotalsMatchRecount(events: readonly EventInput[]): Promise<void> {
  const store = createMetricsStore({ olap });
  const series = await readAccountSeries(store, {
    orgId,
    accountId: batch.accountId,
    platform: 'instagram',
    from: batch.from,
    to: batch.to,
    granularity: 'hour',
    metrics: METRICS,
  });
  const expected = recount(events, 'hour');
  for (const one of series) {
    const want = expected.get(one.metric) ?? new Map<number, number>();
    for (const p of one.points) {
      expect(p.value, `${one.metric} at ${p.at}`).toBe(want.get(p.at) ?? 0);
    }
    const total =
      one.metric === 'unique_users'
        ? distinctUsers(events)
        : [...want.values()].reduce((a, b) => a + b, 0);
    expect(one.total, `${one.metric} total`).toBe(total);
  }
}

async function storedEvents(): Promise<number> {
  const [row] = await olap.query<{ n: number }>(
    'SELECT count() AS n FROM events WHERE org_id = {org:String}',
    { org: orgId },
  );
  return Number(row?.n ?? 0);
}

describe('on Kafka', () => {
  let pipeline: Pipeline;
  let bus: Bus;

  test('a sink that dies after writing but before committing re-reads the batch; totals hold', async () => {
    const crashing = newBus({ retryMs: 3_600_000 });
    await publishEvents(crashing, batch.events);
    const end = await crashing.endOffsets(EVENTS_TOPIC);

    // The doomed member writes each batch to ClickHouse, then "dies" before its commit: the
    // handler never resolves successfully and its backoff outlasts the test.
    const sink = createOlapSink({ olap });
    let written = 0;
    await crashing.consume({
      topic: EVENTS_TOPIC,
      group: GROUPS.olapSink,
      maxBatchSize: 100_000,
      handleBatch: async (b) => {
        written += (await sink.handleBatch(b)).inserted;
        throw new Error('killed before commit');
      },
    });
    await waitUntil('the doomed writes', () => written >= batch.events.length, 60_000);
    expect(await storedEvents()).toBe(batch.events.length);
    const committed = await crashing.committedOffsets(EVENTS_TOPIC, GROUPS.olapSink);
    for (const [p, offset] of end) if (offset > 0) expect(committed.get(p)).toBe(0);
    await crashing.close();

    // A new member of the group (a restarted sink) starts from the last commit: the whole batch.
    bus = newBus();
    pipeline = await startPipeline({
      bus,
      olap,
      live: createMemoryLiveStore(),
      logger,
      retry: RETRY,
      stages: ['olapSink'],
    });
    await pipeline.caughtUp(60_000);
    const after = await bus.committedOffsets(EVENTS_TOPIC, GROUPS.olapSink);
    for (const [p, offset] of end) expect(after.get(p) ?? 0).toBe(offset);
    expect(await storedEvents()).toBe(batch.events.length);
    await expectTotalsMatchRecount(batch.events);
  });

  test('replaying the whole topic, then one partition’s middle, changes no total', async () => {
    const sink = stageHandlers({
      bus,
      olap,
      live: createMemoryLiveStore(),
      logger,
      retry: RETRY,
    }).find((h) => h.stage === 'olapSink')!;
    const end = await bus.endOffsets(EVENTS_TOPIC);
    const all = await replay(bus, sink, {});
    expect(all.done).toBe([...end.values()].reduce((a, b) => a + b, 0));
    await expectTotalsMatchRecount(batch.events);

    const [partition, size] = [...end].sort((a, b) => b[1] - a[1])[0]!;
    const part = await replay(bus, sink, {
      partitions: [partition],
      from: Math.floor(size / 4),
      to: Math.floor(size / 2),
    });
    expect(part.done).toBe(Math.floor(size / 2) - Math.floor(size / 4));
    await expectTotalsMatchRecount(batch.events);
  });

  test('a malformed message goes to the dead-letter topic with its reason; the sink goes on', async () => {
    const letters: BusMessage[] = [];
    await bus.consume({
      topic: DEAD_LETTER_TOPIC,
      group: `dead-letter-reader-${randomUUID()}`,
      handleBatch: async (b) => void letters.push(...b.messages),
    });
    const garbage = [
      '{"orgId": "x", "event": ',
      JSON.stringify({ orgId, event: { type: 'nope' } }),
    ];
    await bus.publish(
      EVENTS_TOPIC,
      garbage.map((value) => ({ key: partitionKey(orgId, batch.accountId), value })),
    );
    const later = knownBatch({ end: Date.now(), hours: 24, size: 200, seed: 9 });
    const laterEvents = later.events.map((e) => ({ ...e, accountId: batch.accountId }));
    await publishEvents(bus, laterEvents);

    await waitUntil('both dead letters', () => letters.length >= 2, 60_000);
    const parsed = letters.map((l) => JSON.parse(l.value) as Record<string, unknown>);
    expect(parsed.map((l) => l['original']).sort()).toEqual([...garbage].sort());
    for (const letter of parsed) {
      expect(letter['stage']).toBe(GROUPS.olapSink);
      expect(typeof letter['reason']).toBe('string');
      expect((letter['reason'] as string).length).toBeGreaterThan(5);
    }
    await pipeline.caughtUp(60_000);
    expect(await storedEvents()).toBe(batch.events.length + laterEvents.length);
    await expectTotalsMatchRecount([...batch.events, ...laterEvents]);
  });

  test('two replicas of the sink split the partitions of their group', async () => {
    await pipeline.close();
    const replicaBuses = [newBus(), newBus()];
    const seen = replicaBuses.map(() => new Set<number>());
    const sinks = replicaBuses.map(
      (b) =>
        stageHandlers({ bus: b, olap, live: createMemoryLiveStore(), logger, retry: RETRY })[0]!,
    );
    const replicas = await Promise.all(
      replicaBuses.map((b, i) =>
        b.consume({
          topic: EVENTS_TOPIC,
          group: GROUPS.olapSink,
          handleBatch: async (batchOf) => {
            seen[i]!.add(batchOf.partition);
            await sinks[i]!.handle(batchOf);
          },
        }),
      ),
    );
    // Many accounts, so every partition gets some.
    const spread = Array.from(
      { length: 40 },
      (_, a) => knownBatch({ end: Date.now(), hours: 24, size: 25, seed: 100 + a }).events,
    ).flat();
    await publishEvents(bus, spread);
    const end = await bus.endOffsets(EVENTS_TOPIC);
    await waitUntil(
      'both replicas to drain the topic',
      async () => {
        const committed = await bus.committedOffsets(EVENTS_TOPIC, GROUPS.olapSink);
        return [...end].every(([p, offset]) => (committed.get(p) ?? 0) >= offset);
      },
      60_000,
    );
    expect(seen[0]!.size).toBeGreaterThan(0);
    expect(seen[1]!.size).toBeGreaterThan(0);
    expect([...seen[0]!].filter((p) => seen[1]!.has(p))).toEqual([]);
    await Promise.all(replicas.map((r) => r.close()));
  });

  test('npm run replay backfills a fresh store from the topic, with progress, and exits 0', async () => {
    const end = await bus.endOffsets(EVENTS_TOPIC);
    const messages = [...end.values()].reduce((a, b) => a + b, 0);
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/replay.ts', '--stage', 'olap-sink'],
      {
        encoding: 'utf8',
        timeout: 120_000,
        env: {
          PATH: process.env['PATH'],
          LOUPE_KAFKA_BROKERS: brokers.join(','),
          LOUPE_KAFKA_TOPIC_PREFIX: prefix,
          // A new, empty OLAP store: the replay fills it from what Kafka keeps.
          LOUPE_DATA_DIR: join(dir, 'backfill'),
          LOUPE_LOG_LEVEL: 'warn',
        },
      },
    );
    expect(child.stderr).not.toMatch(/error/i);
    expect(child.status).toBe(0);
    const done = /replay olap-sink: ([\d,]+) messages in/.exec(child.stdout);
    expect(Number(done?.[1]?.replaceAll(',', ''))).toBe(messages);
  });
});
