import { describe, expect, test } from 'vitest';
import { busContract } from './bus.contract.ts';
import type { BusBatch } from './bus.port.ts';
import { createMemoryBus, partitionOf } from './memory.bus.ts';

busContract('memory', async () => createMemoryBus({ partitions: 8, retryMs: 20 }));

describe('memory bus', () => {
  test('hashes a key to the same partition every time', () => {
    expect(partitionOf('account-42', 8)).toBe(partitionOf('account-42', 8));
    const used = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(`account-${i}`, 8)));
    expect(used.size).toBe(8);
  });

  test('keeps early messages until every group has read them', async () => {
    const bus = createMemoryBus({ partitions: 1 });
    await bus.publish('t', numbered(100));
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    await bus.consume({ topic: 't', group: 'slow', handleBatch: () => stuck });
    const seen: string[] = [];
    await bus.consume({
      topic: 't',
      group: 'fast',
      handleBatch: async (b) => void seen.push(...b.messages.map((m) => m.value)),
    });
    await until(() => seen.length === 100);
    // The slow group has committed nothing, so a third group still finds every message.
    const late: string[] = [];
    await bus.consume({
      topic: 't',
      group: 'late',
      handleBatch: async (b) => void late.push(...b.messages.map((m) => m.value)),
    });
    await until(() => late.length === 100);
    release();
    await bus.close();
  });

  test('drops messages below the lowest committed offset of all groups', async () => {
    const bus = createMemoryBus({ partitions: 1 });
    const seen: number[] = [];
    await bus.consume({
      topic: 't',
      group: 'g',
      handleBatch: async (b) => void seen.push(...b.messages.map((m) => m.offset)),
    });
    for (let i = 0; i < 20; i++) await bus.publish('t', numbered(5000));
    await until(() => seen.length === 100_000);
    await until(async () => (await bus.committedOffsets('t', 'g')).get(0) === 100_000);
    // A new group from the beginning finds only what is kept: nothing, since all was read.
    const late: number[] = [];
    await bus.consume({
      topic: 't',
      group: 'late',
      handleBatch: async (b) => void late.push(...b.messages.map((m) => m.offset)),
    });
    await bus.publish('t', numbered(1));
    await until(() => late.length === 1);
    expect(late).toEqual([100_000]);
    await bus.close();
  });

  test('a failing partition does not hold back the others', async () => {
    const bad = 'account-1';
    const badPartition = partitionOf(bad, 8);
    const good = Array.from({ length: 50 }, (_, i) => `account-x${i}`).filter(
      (k) => partitionOf(k, 8) !== badPartition,
    );
    const errors: unknown[] = [];
    const delivered: string[] = [];
    const failing = createMemoryBus({
      partitions: 8,
      retryMs: 10,
      onBatchError: (error) => errors.push(error),
    });
    await failing.consume({
      topic: 't',
      group: 'g',
      handleBatch: async (batch: BusBatch) => {
        if (batch.partition === badPartition) throw new Error('poison');
        delivered.push(...batch.messages.map((m) => m.key));
      },
    });
    await failing.publish('t', [
      { key: bad, value: 'x' },
      ...good.map((key) => ({ key, value: 'y' })),
    ]);
    await until(() => delivered.length === good.length && errors.length >= 3);
    const committed = await failing.committedOffsets('t', 'g');
    expect(committed.get(badPartition)).toBe(0);
    await failing.close();
  });

  test('close waits for the batch in flight, then its partition moves on', async () => {
    const bus = createMemoryBus({ partitions: 1 });
    const releases: (() => void)[] = [];
    const seenByA: string[] = [];
    const a = await bus.consume({
      topic: 't',
      group: 'g',
      handleBatch: async (batch) => {
        await new Promise<void>((resolve) => releases.push(resolve));
        seenByA.push(...batch.messages.map((m) => m.value));
      },
    });
    await bus.publish('t', numbered(10));
    await until(() => releases.length === 1);
    const seenByB: string[] = [];
    await bus.consume({
      topic: 't',
      group: 'g',
      handleBatch: async (batch) => void seenByB.push(...batch.messages.map((m) => m.value)),
    });
    let closed = false;
    const closing = a.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    releases[0]!();
    await closing;
    expect(seenByA).toHaveLength(10);
    await bus.publish('t', numbered(5));
    await until(() => seenByB.length === 5);
    expect(releases).toHaveLength(1);
    await bus.close();
  });

  test('rejects publishing after close', async () => {
    const bus = createMemoryBus();
    await bus.close();
    await expect(bus.publish('t', numbered(1))).rejects.toThrow(/closed/);
  });
});

function numbered(count: number): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` }));
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
