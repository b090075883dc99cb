// The cache contract against a real Redis (LOUPE_REDIS_URL, else the local default). A random
// key prefix per run keeps runs on a shared server apart; its keys go in afterAll.
import { randomUUID } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config.ts';
import { cacheContract } from './cache.contract.ts';
import { createCache } from './cache.ts';
import { createRedisCacheStores } from './redis.cache.ts';

const url = loadConfig().servers.redisUrl ?? 'redis://127.0.0.1:6379';
const keyPrefix = `loupe-test-${randomUUID().slice(0, 8)}:`;
const stores = createRedisCacheStores({ url, keyPrefix });
// A plain client to look at the keys the stores wrote and to delete this run's keys.
const raw = createClient({ url });

beforeAll(async () => {
  await raw.connect();
});

afterAll(async () => {
  await stores.close();
  for (const key of await keysUnder(keyPrefix)) await raw.unlink(key);
  await raw.close();
});

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of raw.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    keys.push(...batch);
  }
  return keys.sort();
}

cacheContract('redis', ({ namespace, ttlMs }) =>
  createCache({ namespace, ttlMs, store: stores.store(namespace) }),
);

describe('redis cache stores', () => {
  test('write every key under the key prefix and the namespace', async () => {
    const cache = createCache({ namespace: 'layout', store: stores.store('layout') });
    await cache.set('k', 'v');
    expect(await keysUnder(`${keyPrefix}layout`)).toEqual([`${keyPrefix}layout::layout:k`]);
  });

  test('clear() of one namespace leaves other namespaces and other prefixes alone', async () => {
    const others = createRedisCacheStores({ url, keyPrefix: `${keyPrefix}other:` });
    const a = createCache({ namespace: 'ns', store: stores.store('ns') });
    const sibling = createCache({ namespace: 'ns-2', store: stores.store('ns-2') });
    const elsewhere = createCache({ namespace: 'ns', store: others.store('ns') });
    // A key outside any cache that the SCAN pattern of `ns` would match without the separator.
    await raw.set(`${keyPrefix}ns-stray`, 'x');
    await Promise.all([a.set('k', 'a'), sibling.set('k', 'sibling'), elsewhere.set('k', 'other')]);

    await a.clear();

    expect(await a.get('k')).toBeUndefined();
    expect(await sibling.get('k')).toBe('sibling');
    expect(await elsewhere.get('k')).toBe('other');
    expect(await raw.get(`${keyPrefix}ns-stray`)).toBe('x');
    await others.close();
  });

  test('disconnecting one cache keeps the shared connection for the others', async () => {
    const a = createCache({ namespace: 'shared-a', store: stores.store('shared-a') });
    const b = createCache({ namespace: 'shared-b', store: stores.store('shared-b') });
    await a.disconnect();
    await b.set('k', 1);
    expect(await b.get('k')).toBe(1);
  });

  test('refuses a store given to a cache of another namespace, and glob characters', () => {
    expect(() => createCache({ namespace: 'b', store: stores.store('a') })).toThrow(/namespace a/);
    expect(() => stores.store('a*')).toThrow(/namespace/);
    expect(() => createRedisCacheStores({ url, keyPrefix: 'loupe[1]:' })).toThrow(/prefix/);
  });

  test('an unreachable server makes reads miss at once and reports the errors', async () => {
    const errors: unknown[] = [];
    const down = createRedisCacheStores({
      url: 'redis://127.0.0.1:1',
      keyPrefix,
      onError: (e) => errors.push(e),
    });
    const cache = createCache({ namespace: 'down', store: down.store('down') });
    const started = Date.now();
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', 'v');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(errors.length).toBeGreaterThan(0);
    await down.close();
  });
});
