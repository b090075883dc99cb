// The cache port is Keyv itself: in memory by default, `@keyv/redis` when a server is configured,
// chosen by the caller (who read the config) and passed in as `store`.
import { Keyv, type KeyvStoreAdapter } from 'keyv';

export interface CacheOptions {
  /** Prefix of every key, so caches sharing a server never see each other's entries. */
  namespace: string;
  /** Default lifetime of an entry; `set(key, value, ttlMs)` overrides it. Default: no expiry. */
  ttlMs?: number;
  /**
   * Where entries live. Default: a bounded in-memory store. Give each cache its own store
   * instance (e.g. one `new KeyvRedis(client)` per namespace over a shared client): Keyv writes
   * its namespace onto the store, and `clear()` clears the whole store it was given.
   */
  store?: KeyvStoreAdapter | Map<string, unknown>;
  /** Entries kept by the default in-memory store; the least recently used go first. */
  maxEntries?: number;
}

export function createCache<Value = unknown>(options: CacheOptions): Keyv<Value> {
  const { namespace, ttlMs, store, maxEntries = 10_000 } = options;
  if (namespace.length === 0) throw new RangeError('cache namespace must not be empty');
  return new Keyv<Value>({
    store: store ?? new BoundedMemoryStore(maxEntries),
    namespace,
    ttl: ttlMs,
  });
}

/**
 * Keyv's plain-Map store grows for ever (it drops an expired entry only when it is read again),
 * so the default store caps its entries and evicts the least recently used.
 */
export class BoundedMemoryStore extends Map<string, unknown> {
  constructor(private readonly maxEntries: number) {
    super();
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  override get(key: string): unknown {
    if (!super.has(key)) return undefined;
    const value = super.get(key);
    // Re-inserting moves the key to the back of Map order, which is our recency list.
    super.delete(key);
    super.set(key, value);
    return value;
  }

  override set(key: string, value: unknown): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.maxEntries) {
      const oldest = this.keys().next();
      if (!oldest.done) super.delete(oldest.value);
    }
    return this;
  }
}
