// Server cache stores: one Redis connection shared by every cache, one `@keyv/redis` store per
// cache namespace (see cache.ts), every key under the deployment's prefix. The only file that
// imports @keyv/redis; the embedded twin is cache.ts's BoundedMemoryStore.
import KeyvRedis, { createClient, type RedisClientType } from '@keyv/redis';
import type { KeyvStoreAdapter } from 'keyv';

export interface RedisCacheStoresOptions {
  /** Server address, e.g. `redis://127.0.0.1:6379/0`. */
  url: string;
  /** Put before every key (the deployment's LOUPE_REDIS_KEY_PREFIX, e.g. `loupe:`). */
  keyPrefix: string;
  /** How long one connection attempt may take before it counts as failed. Default: 2000 ms. */
  connectTimeoutMs?: number;
  /** Told of each connection and command error once; the caches meanwhile answer misses. */
  onError?: (error: unknown) => void;
}

export interface RedisCacheStores {
  /** A store for the cache of this namespace; give it to `createCache` with the same namespace. */
  store(namespace: string): KeyvStoreAdapter;
  /** Closes the shared connection; the stores answer misses afterwards. */
  close(): Promise<void>;
}

/** Separates a namespace from the keys of its cache (@keyv/redis's default). */
const SEPARATOR = '::';
// clear() deletes by SCAN MATCH `<prefix><namespace>::*`: glob characters in either part, or a
// separator inside a namespace, would let one cache's clear() reach another's keys.
const GLOB_CHARS = /[*?[\]\\]/;
const NAMESPACE = /^[A-Za-z0-9_.-]+$/;

export function createRedisCacheStores(options: RedisCacheStoresOptions): RedisCacheStores {
  const {
    url,
    keyPrefix,
    connectTimeoutMs = 2000,
    onError = (error: unknown) => process.emitWarning(`cache store error: ${String(error)}`),
  } = options;
  if (GLOB_CHARS.test(keyPrefix)) {
    throw new RangeError(`cache key prefix must not contain * ? [ ] or \\, got ${keyPrefix}`);
  }

  // No offline queue: while Redis is down get() misses at once, so API-key checks fall back to
  // PostgreSQL (slower) rather than hang or fail every request.
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 5000),
    },
  });
  // Each store forwards the client's errors too; report every error object once.
  const reported = new WeakSet<object>();
  const report = (error: unknown): void => {
    if (typeof error === 'object' && error !== null) {
      if (reported.has(error)) return;
      reported.add(error);
    }
    onError(error);
  };
  client.on('error', report);
  // Commands wait for the first connection attempt only, so a cache used right after start-up
  // does not miss for want of a connection; after that they fail fast while disconnected.
  const firstAttempt = new Promise<void>((resolve) => {
    client.once('ready', resolve);
    client.once('error', () => resolve());
  });
  let closed = false;
  // Settles only once connected; the client retries meanwhile.
  client.connect().catch((error: unknown) => {
    if (!closed) report(error);
  });

  return {
    store(namespace: string): KeyvStoreAdapter {
      if (closed) throw new Error('cache stores are closed');
      if (!NAMESPACE.test(namespace)) {
        throw new RangeError(`cache namespace must match ${String(NAMESPACE)}, got ${namespace}`);
      }
      const store = new PrefixedRedisStore(client, firstAttempt, keyPrefix, namespace);
      store.on('error', report);
      return store;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // destroy() when never connected: close() would wait for a connection that is not coming.
      if (client.isReady) await client.close();
      else if (client.isOpen) client.destroy();
    },
  };
}

/**
 * Keyv sets its namespace on the store; this store keeps it under the key prefix, so clear()
 * scans `<prefix><namespace>::*` only. Disconnecting one cache leaves the shared client open.
 */
class PrefixedRedisStore extends KeyvRedis<unknown> {
  readonly #firstAttempt: Promise<void>;
  readonly #keyPrefix: string;
  readonly #namespace: string;

  constructor(
    client: RedisClientType,
    firstAttempt: Promise<void>,
    keyPrefix: string,
    namespace: string,
  ) {
    super(client, { keyPrefixSeparator: SEPARATOR, useUnlink: true });
    this.#firstAttempt = firstAttempt;
    this.#keyPrefix = keyPrefix;
    this.#namespace = namespace;
    super.namespace = `${keyPrefix}${namespace}`;
  }

  override get namespace(): string | undefined {
    return super.namespace;
  }

  override set namespace(value: string | undefined) {
    // A store given to a cache of another namespace would mix two caches' keys: refuse it.
    if (value !== this.#namespace) {
      throw new RangeError(
        `cache store made for namespace ${this.#namespace} was given to namespace ${String(value)}`,
      );
    }
    super.namespace = `${this.#keyPrefix}${value}`;
  }

  // The client is connected (and reconnected) by createRedisCacheStores, never per store.
  override async getClient(): ReturnType<KeyvRedis<unknown>['getClient']> {
    await this.#firstAttempt;
    return this.client;
  }

  override async disconnect(): Promise<void> {}
}
