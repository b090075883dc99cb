// The live store contract against a real Redis (LOUPE_REDIS_URL, else the local default).
// A random key prefix per run keeps runs on a shared server apart; its keys go in afterAll.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config.ts';
import { liveContract } from './live.contract.ts';
import { createRedisLiveStore } from './redis.live.ts';

const url = loadConfig().servers.redisUrl ?? 'redis://127.0.0.1:6379';
const keyPrefix = `loupe-test-${randomUUID().slice(0, 8)}:`;

liveContract('redis', async () => createRedisLiveStore({ url, keyPrefix }));

describe('redis live store', () => {
  test('rejects a non-integer increment before writing anything', async () => {
    const live = createRedisLiveStore({ url, keyPrefix });
    await expect(
      live.increment(
        [
          { key: 'int-a', by: 1 },
          { key: 'int-b', by: 1.5 },
        ],
        60,
      ),
    ).rejects.toThrow(/integer/);
    expect(await live.counters(['int-a', 'int-b'])).toEqual([0, 0]);
    await live.close();
  });

  test('reports a key used as two kinds, as the memory store does', async () => {
    const live = createRedisLiveStore({ url, keyPrefix });
    await live.setValues([{ key: 'kinds', value: 'v' }], 60);
    await expect(live.increment([{ key: 'kinds', by: 1 }], 60)).rejects.toThrow();
    await expect(live.counters(['kinds'])).rejects.toThrow(/WRONGTYPE/);
    await live.close();
  });

  test('keeps stores with different prefixes apart, channels included', async () => {
    const mine = createRedisLiveStore({ url, keyPrefix: `${keyPrefix}mine:` });
    const theirs = createRedisLiveStore({ url, keyPrefix: `${keyPrefix}theirs:` });
    await mine.increment([{ key: 'k', by: 3 }], 60);
    expect(await theirs.counters(['k'])).toEqual([0]);

    const heard: string[] = [];
    const mineHeard: string[] = [];
    const off = await theirs.subscribe('ch', (m) => heard.push(m));
    await mine.subscribe('ch', (m) => mineHeard.push(m));
    await mine.publish('ch', 'hello');
    await waitFor(() => mineHeard.length === 1);
    expect(heard).toEqual([]);
    await off();
    await Promise.all([mine.close(), theirs.close()]);
  });

  test('a subscriber that throws does not keep the message from the others', async () => {
    const errors: unknown[] = [];
    const live = createRedisLiveStore({ url, keyPrefix, onSubscriberError: (e) => errors.push(e) });
    const got: string[] = [];
    await live.subscribe('boom', () => {
      throw new Error('boom');
    });
    await live.subscribe('boom', (m) => got.push(m));
    await live.publish('boom', 'x');
    await waitFor(() => got.length === 1);
    expect(errors).toHaveLength(1);
    await live.close();
  });
});

afterAll(async () => {
  const live = createRedisLiveStore({ url, keyPrefix });
  await live.clear();
  await live.close();
});

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for delivery');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
