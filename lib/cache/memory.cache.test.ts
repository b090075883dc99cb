import { describe, expect, test } from 'vitest';
import { cacheContract } from './cache.contract.ts';
import { BoundedMemoryStore, createCache } from './cache.ts';

cacheContract('memory', (options) => createCache(options));

describe('memory cache', () => {
  test('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = createCache<number>({ namespace: 'lru', maxEntries: 3 });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    expect(await cache.get('a')).toBe(1);
    await cache.set('d', 4);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe(1);
    expect(await cache.get('d')).toBe(4);
  });

  test('takes another store in place of memory', async () => {
    const store = new BoundedMemoryStore(10);
    const cache = createCache({ namespace: 'given', store });
    await cache.set('k', 'v');
    expect(store.size).toBe(1);
    expect(await cache.get('k')).toBe('v');
  });

  test('refuses an empty namespace', () => {
    expect(() => createCache({ namespace: '' })).toThrow(/namespace/);
  });
});
