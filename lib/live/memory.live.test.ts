import { describe, expect, test } from 'vitest';
import { HyperLogLog } from './hyperloglog.ts';
import { liveContract } from './live.contract.ts';
import { createMemoryLiveStore } from './memory.live.ts';

liveContract('memory', async () => createMemoryLiveStore({ sweepIntervalMs: 100 }));

describe('memory live store', () => {
  test('sweeps expired keys nobody reads', async () => {
    const live = createMemoryLiveStore({ sweepIntervalMs: 20, sweepBatch: 30 });
    await live.increment(
      Array.from({ length: 100 }, (_, i) => ({ key: `short-${i}`, by: 1 })),
      0.05,
    );
    await live.setValues([{ key: 'long', value: 'v' }], 60);
    expect(live.size).toBe(101);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(live.size).toBe(1);
    await live.close();
  });

  test('rejects using a key as two kinds, as Redis does', async () => {
    const live = createMemoryLiveStore();
    await live.increment([{ key: 'k', by: 1 }], 60);
    await expect(live.setValues([{ key: 'k', value: 'v' }], 60)).rejects.toThrow(/WRONGTYPE/);
    await expect(live.addUnique([{ key: 'k', members: ['m'] }], 60)).rejects.toThrow(/WRONGTYPE/);
    await expect(live.increment([{ key: 'k', by: 1.5 }], 60)).rejects.toThrow(/integer/);
    expect(await live.counters(['k'])).toEqual([1]);
    await live.close();
  });

  test('a subscriber that throws does not keep the message from the others', async () => {
    const errors: unknown[] = [];
    const live = createMemoryLiveStore({ onSubscriberError: (e) => errors.push(e) });
    const got: string[] = [];
    await live.subscribe('c', () => {
      throw new Error('boom');
    });
    await live.subscribe('c', (m) => got.push(m));
    await live.publish('c', 'x');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(got).toEqual(['x']);
    expect(errors).toHaveLength(1);
    await live.close();
  });
});

describe('hyperloglog', () => {
  test('stays sparse and small for a few members, then turns dense', () => {
    const sketch = new HyperLogLog();
    sketch.add(Array.from({ length: 100 }, (_, i) => `m${i}`));
    expect(sketch.byteLength).toBeLessThan(2048);
    expect(sketch.count()).toBe(100);
    sketch.add(Array.from({ length: 5000 }, (_, i) => `n${i}`));
    expect(sketch.byteLength).toBe(16384);
    expect(Math.abs(sketch.count() - 5100) / 5100).toBeLessThan(0.02);
  });

  test('unions sparse and dense sketches alike', () => {
    const small = new HyperLogLog();
    const big = new HyperLogLog();
    small.add(['a', 'b', 'c']);
    big.add(Array.from({ length: 20_000 }, (_, i) => `u${i}`));
    const union = HyperLogLog.countUnion([small, big]);
    expect(Math.abs(union - 20_003) / 20_003).toBeLessThan(0.02);
    expect(HyperLogLog.countUnion([])).toBe(0);
  });

  test('stays within 2% across cardinalities', () => {
    for (const size of [1000, 3000, 30_000, 300_000]) {
      const sketch = new HyperLogLog();
      sketch.add(Array.from({ length: size }, (_, i) => `${size}:${i}`));
      expect(Math.abs(sketch.count() - size) / size).toBeLessThan(0.02);
    }
  });
});
