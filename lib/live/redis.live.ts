// Server live store: the port maps onto Redis commands one to one, pipelined per call.
// The only file that imports ioredis; the embedded twin is `memory.live.ts`.
import { Redis } from 'ioredis';
import type { Increment, LiveStore, LiveValue, UniqueAdd, Unsubscribe } from './live.port.ts';

export interface RedisLiveStoreOptions {
  /** Server address, e.g. `redis://127.0.0.1:6379/0`. */
  url: string;
  /** Put before every key and channel, so several stores share one server without clashing. */
  keyPrefix?: string;
  /** Told when a subscriber throws; the other subscribers still get the message. */
  onSubscriberError?: (error: unknown, channel: string) => void;
  /** Told of connection errors; ioredis reconnects on its own meanwhile. */
  onConnectionError?: (error: Error) => void;
}

export interface RedisLiveStore extends LiveStore {
  /** Deletes every key under `keyPrefix` and returns how many; refuses without a prefix. */
  clear(): Promise<number>;
}

interface Subscription {
  onMessage: (message: string) => void;
}

interface Channel {
  subscribers: Set<Subscription>;
  /** Settles once the server acknowledged SUBSCRIBE for this channel. */
  ready: Promise<void>;
}

type PipelineResult = [error: Error | null, result: unknown][] | null;

export function createRedisLiveStore(options: RedisLiveStoreOptions): RedisLiveStore {
  const {
    url,
    keyPrefix = '',
    onSubscriberError = (error: unknown, channel: string) =>
      process.emitWarning(`live store subscriber of ${channel} threw: ${String(error)}`),
    onConnectionError = (error: Error) =>
      process.emitWarning(`live store connection error: ${error.message}`),
  } = options;
  const client = new Redis(url, { keyPrefix });
  client.on('error', onConnectionError);
  // A connection in subscriber mode accepts no other commands, so pub/sub gets its own.
  let subscriber: Redis | undefined;
  const channels = new Map<string, Channel>();
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new Error('live store is closed');
  };

  // PEXPIRE/PX rather than EXPIRE/EX: the port takes fractional seconds, as the memory store does.
  const ttlMs = (ttlSeconds: number): number => {
    if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
      throw new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`);
    }
    return Math.max(1, Math.round(ttlSeconds * 1000));
  };

  /** Throws the first command error of a pipeline, such as WRONGTYPE. */
  const check = (results: PipelineResult): void => {
    for (const [error] of results ?? []) if (error) throw error;
  };

  // ioredis prefixes keys but not pub/sub channel names, so channels are prefixed here.
  const channelName = (channel: string): string => `${keyPrefix}${channel}`;

  const onMessage = (fullChannel: string, message: string): void => {
    if (!fullChannel.startsWith(keyPrefix)) return;
    const channel = fullChannel.slice(keyPrefix.length);
    const entry = channels.get(channel);
    if (!entry) return;
    for (const target of [...entry.subscribers]) {
      try {
        target.onMessage(message);
      } catch (error) {
        onSubscriberError(error, channel);
      }
    }
  };

  const subscriberConnection = (): Redis => {
    if (!subscriber) {
      subscriber = client.duplicate();
      subscriber.on('error', onConnectionError);
      subscriber.on('message', onMessage);
    }
    return subscriber;
  };

  return {
    async increment(ops: readonly Increment[], ttlSeconds: number): Promise<void> {
      assertOpen();
      const ms = ttlMs(ttlSeconds);
      // Checked before anything is sent, so a bad op leaves every counter as it was.
      for (const { key, by } of ops) {
        if (!Number.isSafeInteger(by))
          throw new RangeError(`increment of ${key} is not an integer: ${by}`);
      }
      if (ops.length === 0) return;
      const pipeline = client.pipeline();
      for (const { key, by } of ops) pipeline.incrby(key, by);
      for (const key of new Set(ops.map((op) => op.key))) pipeline.pexpire(key, ms);
      check(await pipeline.exec());
    },

    async counters(keys: readonly string[]): Promise<number[]> {
      assertOpen();
      if (keys.length === 0) return [];
      const values = await client.mget(...keys);
      return values.map((value, i) => {
        if (value === null) return 0;
        const n = Number(value);
        // MGET returns any string, a HyperLogLog too; only an integer is a counter.
        if (!Number.isSafeInteger(n)) {
          throw new Error(`WRONGTYPE live key ${keys[i]} does not hold a counter`);
        }
        return n;
      });
    },

    async addUnique(ops: readonly UniqueAdd[], ttlSeconds: number): Promise<void> {
      assertOpen();
      const ms = ttlMs(ttlSeconds);
      if (ops.length === 0) return;
      const pipeline = client.pipeline();
      for (const { key, members } of ops) pipeline.pfadd(key, ...members);
      for (const key of new Set(ops.map((op) => op.key))) pipeline.pexpire(key, ms);
      check(await pipeline.exec());
    },

    async countUnique(keys: readonly string[]): Promise<number> {
      assertOpen();
      if (keys.length === 0) return 0;
      return client.pfcount(...keys);
    },

    async setValues(values: readonly LiveValue[], ttlSeconds: number): Promise<void> {
      assertOpen();
      const ms = ttlMs(ttlSeconds);
      if (values.length === 0) return;
      const pipeline = client.pipeline();
      for (const { key, value } of values) pipeline.set(key, value, 'PX', ms);
      check(await pipeline.exec());
    },

    async getValues(keys: readonly string[]): Promise<(string | undefined)[]> {
      assertOpen();
      if (keys.length === 0) return [];
      const values = await client.mget(...keys);
      return values.map((value) => value ?? undefined);
    },

    async publish(channel: string, message: string): Promise<void> {
      assertOpen();
      await client.publish(channelName(channel), message);
    },

    async subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe> {
      assertOpen();
      let entry = channels.get(channel);
      if (!entry) {
        const connection = subscriberConnection();
        const ready = connection.subscribe(channelName(channel)).then(() => undefined);
        const created: Channel = { subscribers: new Set(), ready };
        channels.set(channel, created);
        // A failed SUBSCRIBE must not leave a channel that later callers would wait on.
        ready.catch(() => {
          if (channels.get(channel) === created) channels.delete(channel);
        });
        entry = created;
      }
      // A fresh object per call, so the same function subscribed twice unsubscribes separately.
      const subscription: Subscription = { onMessage };
      entry.subscribers.add(subscription);
      const own = entry;
      try {
        await own.ready;
      } catch (error) {
        own.subscribers.delete(subscription);
        throw error;
      }
      return async () => {
        if (!own.subscribers.delete(subscription)) return;
        if (own.subscribers.size > 0 || channels.get(channel) !== own) return;
        channels.delete(channel);
        if (!closed && subscriber) await subscriber.unsubscribe(channelName(channel));
      };
    },

    async clear(): Promise<number> {
      assertOpen();
      if (keyPrefix === '') throw new Error('refusing to clear a live store without a keyPrefix');
      // SCAN's pattern and replies carry the full key, which ioredis does not prefix or strip.
      const pattern = `${keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
      let cursor = '0';
      let deleted = 0;
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) {
          deleted += await client.unlink(...keys.map((key) => key.slice(keyPrefix.length)));
        }
      } while (cursor !== '0');
      return deleted;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      channels.clear();
      await Promise.all([client.quit(), subscriber?.quit()]);
    },
  };
}
