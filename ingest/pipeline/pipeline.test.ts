// The pipeline on the embedded bus: a sink that fails after writing (as if killed before it could
// commit) gets the batch again, and the totals do not change.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createMemoryBus } from '../../lib/bus/memory.bus.ts';
import type { Bus } from '../../lib/bus/bus.port.ts';
import { createMemoryLiveStore } from '../../lib/live/memory.live.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import type { EventEnvelope } from '../../schema/event-envelope.ts';
import { knownBatch } from '../../test/support/known-batch.ts';
import { createOlapSink } from './olap-sink.consumer.ts';
import { startPipeline } from './pipeline.ts';
import { createLogger } from '../../lib/logger.ts';
import type { DeadLetter } from '../../schema/dead-letter.ts';
import { DEAD_LETTER_TOPIC, EVENTS_TOPIC, partitionKey } from './topics.ts';

const ORG = 'org-pipeline';
const logger = createLogger('silent');
const RETRY = { attempts: 2, backoffMs: 5, maxBackoffMs: 10, maxSplitTries: 2000 };
let olap: Olap;
let bus: Bus;

beforeAll(async () => {
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-pipeline-')) });
  await applyOlapSchema(olap);
  bus = createMemoryBus({ partitions: 4, retryMs: 10 });
});
afterAll(async () => {
  await bus.close();
  await olap.close();
});

async function storedCount(accountId: string): Promise<number> {
  const rows = await olap.query<{ n: number }>(
    `SELECT toFloat64(sum(delta_sum)) AS n FROM metrics_daily
     WHERE org_id = {org:String} AND account_id = {account:String} AND metric = 'app_events'`,
    { org: ORG, account: accountId },
  );
  return rows[0]?.n ?? 0;
}

test('a batch written but not committed is redelivered and counted once', async () => {
  const batch = knownBatch({ end: Date.now(), hours: 30, size: 600 });
  const sink = createOlapSink({ olap });
  let crashes = 1;
  const consumer = await bus.consume({
    topic: EVENTS_TOPIC,
    group: 'sink-that-crashes',
    maxBatchSize: 100_000,
    handleBatch: async (b) => {
      await sink.handleBatch(b);
      // Written to the OLAP store, then "killed" before the offset commit.
      if (crashes-- > 0) throw new Error('crash after write');
    },
  });
  const envelopes: EventEnvelope[] = batch.events.map((event) => ({
    orgId: ORG,
    receivedAt: Date.now(),
    event,
  }));
  await bus.publish(
    EVENTS_TOPIC,
    envelopes.map((e) => ({ key: partitionKey(ORG, e.event.accountId), value: JSON.stringify(e) })),
  );
  // Producer retry: the same events published again.
  await bus.publish(
    EVENTS_TOPIC,
    envelopes
      .slice(0, 50)
      .map((e) => ({ key: partitionKey(ORG, e.event.accountId), value: JSON.stringify(e) })),
  );
  const appEvents = batch.events.filter((e) => e.type === 'app').length;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const committed = await bus.committedOffsets(EVENTS_TOPIC, 'sink-that-crashes');
    const end = await bus.endOffsets(EVENTS_TOPIC);
    if ([...end].every(([p, o]) => (committed.get(p) ?? 0) >= o)) break;
    if (Date.now() > deadline) throw new Error('sink did not catch up');
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(crashes).toBeLessThan(0);
  expect(await storedCount(batch.accountId)).toBe(appEvents);
  await consumer.close();
});

test('the whole pipeline stores, counts live and dead-letters a malformed message', async () => {
  const live = createMemoryLiveStore();
  const pipeline = await startPipeline({
    bus,
    olap,
    live,
    logger,
    retry: RETRY,
    stages: ['olapSink', 'speedLayer'],
  });
  const letters: string[] = [];
  const dlq = await bus.consume({
    topic: DEAD_LETTER_TOPIC,
    group: 'test-dlq-reader',
    handleBatch: async (b) => void letters.push(...b.messages.map((m) => m.value)),
  });
  const batch = knownBatch({ end: Date.now(), hours: 3, size: 200, seed: 3 });
  await bus.publish(EVENTS_TOPIC, [
    ...batch.events.map((event) => ({
      key: partitionKey(ORG, event.accountId),
      value: JSON.stringify({ orgId: ORG, receivedAt: Date.now(), event }),
    })),
    { key: 'x', value: '{"orgId":"o","event":{"type":"nope"}}' },
  ]);
  await pipeline.caughtUp(20_000);
  expect(await storedCount(batch.accountId)).toBe(
    batch.events.filter((e) => e.type === 'app').length,
  );
  for (let i = 0; i < 100 && letters.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  // Each stage that read it says so: a replay after a fix goes to each of them.
  expect(letters).toHaveLength(2);
  const dead = letters.map((l) => JSON.parse(l) as DeadLetter);
  expect(dead.map((d) => d.stage).sort()).toEqual(['olap-sink', 'speed-layer']);
  for (const d of dead) {
    expect(d.reason).toMatch(/^malformed: .*(receivedAt|event)/);
    expect(d.original).toContain('"type":"nope"');
  }
  await dlq.close();
  await pipeline.close();
  await live.close();
});
