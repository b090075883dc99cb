// One suite for every cache store: memory here, Redis when a server is configured. Namespaces
// carry a random suffix, so a shared server keeps no state between runs.
import { randomUUID } from 'node:crypto';
import type { Keyv } from 'keyv';
import { describe, expect, test } from 'vitest';

export function cacheContract(
  name: string,
  create: (options: {
    namespace: string;
    ttlMs?: number;
  }) => Keyv<unknown> | Promise<Keyv<unknown>>,
): void {
  describe(`cache contract: ${name}`, () => {
    const namespace = (label: string): string => `contract-${label}-${randomUUID().slice(0, 8)}`;

    test('sets, gets and deletes JSON values', async () => {
      const cache = await create({ namespace: namespace('basic') });
      const value = { data: { accounts: [{ id: 'a1', followers: 12 }] }, note: 'é ✓' };
      expect(await cache.set('q1', value)).toBe(true);
      await cache.set('n', 42);
      expect(await cache.get('q1')).toEqual(value);
      expect(await cache.get('n')).toBe(42);
      expect(await cache.get('missing')).toBeUndefined();
      expect(await cache.delete('q1')).toBe(true);
      expect(await cache.get('q1')).toBeUndefined();
      expect(await cache.delete('q1')).toBe(false);
      await cache.disconnect();
    });

    test('expires entries after the default TTL or the one given to set', async () => {
      const cache = await create({ namespace: namespace('ttl'), ttlMs: 1000 });
      await cache.set('default', 'd');
      await cache.set('short', 's', 100);
      await cache.set('long', 'l', 10_000);
      await sleep(400);
      expect(await cache.get('short')).toBeUndefined();
      expect(await cache.get('default')).toBe('d');
      await sleep(800);
      expect(await cache.get('default')).toBeUndefined();
      expect(await cache.get('long')).toBe('l');
      await cache.disconnect();
    });

    test('keeps namespaces apart, clear included', async () => {
      const a = await create({ namespace: namespace('a') });
      const b = await create({ namespace: namespace('b') });
      await a.set('same-key', 'from a');
      await b.set('same-key', 'from b');
      expect(await a.get('same-key')).toBe('from a');
      expect(await b.get('same-key')).toBe('from b');
      await a.delete('same-key');
      expect(await b.get('same-key')).toBe('from b');
      await a.set('other', 1);
      await a.clear();
      expect(await a.get('other')).toBeUndefined();
      expect(await b.get('same-key')).toBe('from b');
      await Promise.all([a.disconnect(), b.disconnect()]);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
