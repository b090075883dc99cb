// The stage runner's policy, over stages whose failures the tests choose (a poison message, a
// store that is down, a store that is broken for everything), and over the real OLAP sink on
// chDB with a table constraint that refuses one row.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BusBatch, BusMessage } from '../../lib/bus/bus.port.ts';
import { createLogger } from '../../lib/logger.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import { isStoreUnavailable, StoreUnavailableError } from '../../lib/store-errors.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import type { DeadLetter, DeadLetterWriter } from './dead-letters.ts';
import { createOlapSink } from './olap-sink.consumer.ts';
import type { PipelineStage } from './outcome.ts';
import { createStageRunner, type RetryPolicy } from './stage-runner.ts';

const logger = createLogger('silent');
const RETRY: RetryPolicy = { attempts: 3, backoffMs: 10, maxBackoffMs: 40, maxSplitTries: 2000 };

function batchOf(values: readonly string[], partition = 0): BusBatch {
  const messages: BusMessage[] = values.map((value, offset) => ({
    topic: 'events',
    partition,
    offset,
    key: 'k',
    value,
  }));
  return { topic: 'events', partition, messages };
}

/** A stage that applies a batch all or nothing, refusing any batch holding a `poison` value. */
function poisonedStage(options: { down?: () => boolean } = {}) {
  const applied: number[] = [];
  let tries = 0;
  const stage: PipelineStage = {
    name: 'olap-sink',
    async handleBatch(batch) {
      tries++;
      if (options.down?.()) throw new StoreUnavailableError('test store', 'store is down');
      const bad = batch.messages.find((m) => m.value.startsWith('poison'));
      if (bad) throw new Error(`row ${bad.value} refused`);
      applied.push(...batch.messages.map((m) => m.offset));
      return { outcomes: [] };
    },
  };
  return { stage, applied, tries: () => tries };
}

/** The runner over `stage`, waiting no time between tries. */
function runner(
  stage: PipelineStage,
  deadLetters: DeadLetterWriter,
  options: { retry?: RetryPolicy } = {},
) {
  return createStageRunner({
    stage,
    deadLetters,
    logger,
    retry: options.retry ?? RETRY,
    sleep: async () => undefined,
  });
}

function collectingLetters() {
  const letters: DeadLetter[] = [];
  const writer: DeadLetterWriter = async (_stage, batch) => void letters.push(...batch);
  return { letters, writer };
}

describe('stage runner', () => {
  test('applies a good batch whole, once, with no dead letters', async () => {
    const { stage, applied, tries } = poisonedStage();
    const { letters, writer } = collectingLetters();
    const run = createStageRunner({ stage, deadLetters: writer, logger, retry: RETRY });
    const report = await run(batchOf(['a', 'b', 'c']));
    expect(report).toEqual({ handled: 3, deadLettered: 0, dropped: 0, splitTries: 0 });
    expect(applied).toEqual([0, 1, 2]);
    expect(tries()).toBe(1);
    expect(letters).toEqual([]);
  });

  test('retries a failing batch with backoff, then isolates the poison and applies the rest once, in order', async () => {
    const { stage, applied } = poisonedStage();
    const { letters, writer } = collectingLetters();
    const waits: number[] = [];
    const run = createStageRunner({
      stage,
      deadLetters: writer,
      logger,
      retry: RETRY,
      sleep: async (ms) => void waits.push(ms),
    });
    const values = Array.from({ length: 100 }, (_, i) => (i === 17 || i === 80 ? 'poison' : 'ok'));
    const report = await run(batchOf(values));

    expect(waits).toEqual([10, 20]);
    expect(letters.map((l) => l.message.offset)).toEqual([17, 80]);
    expect(letters[0]?.reason).toBe('failed alone: row poison refused');
    const good = values.flatMap((v, i) => (v === 'ok' ? [i] : []));
    // Once each and in offset order: the speed layer's applied marks rely on it.
    expect(applied).toEqual(good);
    expect(report.handled).toBe(98);
    expect(report.deadLettered).toBe(2);
    // A binary search, not a try per message.
    expect(report.splitTries).toBeLessThan(40);
  });

  test('a store that is down fails the batch at once: no retries, no split, no dead letters', async () => {
    const { stage, tries } = poisonedStage({ down: () => true });
    const { letters, writer } = collectingLetters();
    const run = createStageRunner({ stage, deadLetters: writer, logger, retry: RETRY });
    const failed = run(batchOf(['ok', 'poison', 'ok']));
    await expect(failed).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(tries()).toBe(1);
    expect(letters).toEqual([]);
  });

  test('a store that goes down while a batch is being split fails the batch, dead-lettering nothing', async () => {
    let calls = 0;
    const { stage } = poisonedStage({ down: () => ++calls > RETRY.attempts + 2 });
    const { letters, writer } = collectingLetters();
    const run = runner(stage, writer);
    const values = Array.from({ length: 64 }, (_, i) => (i === 3 ? 'poison' : 'ok'));
    await expect(run(batchOf(values))).rejects.toSatisfy(isStoreUnavailable);
    expect(letters).toEqual([]);
  });

  test('a stage that fails for every message alone is the store’s fault: the batch waits', async () => {
    const stage: PipelineStage = {
      name: 'text-pipeline',
      handleBatch: async () => {
        throw new Error('Table texts does not exist');
      },
    };
    const { letters, writer } = collectingLetters();
    const run = runner(stage, writer);
    await expect(run(batchOf(['a', 'b', 'c', 'd', 'e']))).rejects.toThrow(
      /no part of the batch goes through \(5 messages fail alone\).*Table texts does not exist/,
    );
    expect(letters).toEqual([]);
  });

  test('a broken store costs a bounded number of tries per delivery of a large batch', async () => {
    let tries = 0;
    const stage: PipelineStage = {
      name: 'olap-sink',
      handleBatch: async () => {
        tries++;
        throw new Error('Too many parts');
      },
    };
    const { letters, writer } = collectingLetters();
    const run = runner(stage, writer, { retry: { ...RETRY, maxSplitTries: 50 } });
    await expect(run(batchOf(Array.from({ length: 10_000 }, () => 'x')))).rejects.toThrow(
      /no part of the batch goes through/,
    );
    expect(tries).toBeLessThanOrEqual(RETRY.attempts + 50 + 1);
    expect(letters).toEqual([]);
  });

  test('a batch that fails once and then goes through is neither split nor dead-lettered', async () => {
    let failures = 1;
    const stage: PipelineStage = {
      name: 'speed-layer',
      handleBatch: async () => {
        if (failures-- > 0) throw new Error('a moment of trouble');
        return { outcomes: [] };
      },
    };
    const { letters, writer } = collectingLetters();
    const run = runner(stage, writer);
    expect(await run(batchOf(['a', 'b']))).toMatchObject({ handled: 2, splitTries: 0 });
    expect(letters).toEqual([]);
  });

  test('dead letters that cannot be published fail the batch as an outage, so it comes back', async () => {
    const { stage } = poisonedStage();
    const run = createStageRunner({
      stage,
      deadLetters: async () => {
        throw new Error('Kafka: publishing failed');
      },
      logger,
      retry: RETRY,
      sleep: async () => undefined,
    });
    await expect(run(batchOf(['ok', 'poison']))).rejects.toSatisfy(isStoreUnavailable);
  });

  test('a stage’s own outcomes pass through: dead letters published, drops counted', async () => {
    const stage: PipelineStage = {
      name: 'speed-layer',
      handleBatch: async (batch) => ({
        outcomes: [
          { kind: 'dlq', message: batch.messages[0]!, reason: 'malformed: not JSON' },
          { kind: 'drop', message: batch.messages[1]!, reason: 'too old' },
        ],
      }),
    };
    const { letters, writer } = collectingLetters();
    const run = createStageRunner({ stage, deadLetters: writer, logger, retry: RETRY });
    expect(await run(batchOf(['{', 'old', 'ok']))).toEqual({
      handled: 3,
      deadLettered: 1,
      dropped: 1,
      splitTries: 0,
    });
    expect(letters.map((l) => [l.message.offset, l.reason])).toEqual([[0, 'malformed: not JSON']]);
  });
});

describe('the OLAP sink under its runner, on chDB', () => {
  const ORG = 'org-runner';
  let dir: string;
  let olap: Olap;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loupe-runner-'));
    olap = createChdbOlap({ dataDir: dir });
    await applyOlapSchema(olap);
    // What ClickHouse refuses here is a row an operator's constraint forbids: the whole insert fails.
    await olap.command(
      `ALTER TABLE events ADD CONSTRAINT no_poison CHECK NOT startsWith(event_id, 'poison')`,
    );
  });
  afterAll(async () => {
    await olap.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a row the store refuses is dead-lettered with the store’s reason; every other row is stored once', async () => {
    const at = Date.UTC(2026, 10, 20, 12);
    const events: EventInput[] = Array.from({ length: 300 }, (_, i) => ({
      id: i === 123 ? 'poison-123' : `ev-${i}`,
      type: 'engagement',
      platform: 'instagram',
      accountId: `acct-${i % 7}`,
      metric: 'likes',
      mode: 'delta',
      value: 1 + (i % 5),
      occurredAt: new Date(at + i * 1000).toISOString(),
    }));
    const batch = batchOf(
      events.map((event) => JSON.stringify({ orgId: ORG, receivedAt: at, event })),
    );
    const { letters, writer } = collectingLetters();
    const run = runner(createOlapSink({ olap }), writer);
    // Twice: a redelivered batch stores nothing twice and dead-letters the same message again.
    await run(batch);
    await run(batch);

    expect(letters.map((l) => l.message.offset)).toEqual([123, 123]);
    expect(letters[0]?.reason).toMatch(/no_poison/);
    const [row] = await olap.query<{ n: number; ids: number; likes: number }>(
      `SELECT count() AS n, uniqExact(event_id) AS ids, sum(metric_values[1]) AS likes
       FROM events FINAL WHERE org_id = {org:String}`,
      { org: ORG },
    );
    const kept = events.filter((e) => e.id !== 'poison-123');
    expect(Number(row?.n)).toBe(kept.length);
    expect(Number(row?.ids)).toBe(kept.length);
    const likes = kept.reduce((sum, e) => sum + (e.type === 'engagement' ? e.value : 0), 0);
    expect(Number(row?.likes)).toBe(likes);
  });
});
