// Server live store: the port maps onto Redis commands one to one, pipelined per call.
// The only file that imports ioredis; the embedded twin is `memory.live.ts`.
// While Redis is unreachable, reads and writes fail at once rather than queue (callers fall back
// or retry), both connections keep reconnecting in the background, and subscriptions come back
// on their own when it returns.
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';
import { StoreUnavailableError } from '../store-errors.ts';
import type { Increment, LiveStore, LiveValue, UniqueAdd, Unsubscribe } from './live.port.ts';

export interface RedisLiveStoreOptions {
  /** Server address, e.g. `redis://127.0.0.1:6379/0`. */
  url: string;
  /** Put before every key and channel, so several stores share one server without clashing. */
  keyPrefix?: string;
  /** Told when a subscriber throws; the other subscribers still get the message. */
  onSubscriberError?: (error: unknown, channel: string) => void;
  /**
   * Told of the first connection error of each outage (not of every reconnect attempt); the
   * store keeps reconnecting meanwhile. Default: a warning through `logger`, else the process.
   */
  onConnectionError?: (error: Error) => void;
  /** Where outages and recoveries are reported when `onConnectionError` is not given. */
  logger?: Logger;
  /** Longest wait for a TCP connection, and for the first one before a call fails. Default 2 s. */
  connectTimeoutMs?: number;
  /** Longest wait for a reply before a call fails (its command may still apply). Default 2 s. */
  commandTimeoutMs?: number;
  /** Reconnect attempts back off from 50 ms, doubling up to this. Default 1 s. */
  maxReconnectDelayMs?: number;
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

/**
 * INCRBY of every key in one script, which Redis runs atomically: every key is checked to hold an
 * integer and to stay within ±(2^53 − 1) (what a JavaScript number holds exactly, as in the memory
 * store) before any is written, so a refused call leaves every counter as it was. A MULTI would
 * apply the other increments of a call in which one fails.
 * KEYS: the counters; ARGV[1]: the TTL in ms; ARGV[1 + i]: the increment of KEYS[i].
 */
const INCREMENT_SCRIPT = `
local limit = 9007199254740991
for i, key in ipairs(KEYS) do
  local current = 0
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'none' then
    local raw = redis.call('GET', key)
    if kind ~= 'string' or not string.match(raw, '^-?%d+$') then
      return redis.error_reply('WRONGTYPE live key ' .. key .. ' does not hold a counter')
    end
    current = tonumber(raw)
  end
  local sum = current + tonumber(ARGV[i + 1])
  if sum > limit or sum < -limit then
    return redis.error_reply('RANGE increment of live key ' .. key .. ' would pass 2^53 - 1')
  end
end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, ARGV[i + 1])
  redis.call('PEXPIRE', key, ARGV[1])
end
return #KEYS
`;

interface ScriptedRedis extends Redis {
  liveIncrement(keyCount: number, ...args: (string | number)[]): Promise<number>;
}

export function createRedisLiveStore(options: RedisLiveStoreOptions): RedisLiveStore {
  const {
    url,
    keyPrefix = '',
    logger,
    onSubscriberError = (error: unknown, channel: string) =>
      logger
        ? logger.error({ err: error, channel }, 'live store subscriber threw')
        : process.emitWarning(`live store subscriber of ${channel} threw: ${String(error)}`),
    onConnectionError = (error: Error) =>
      logger
        ? logger.warn({ err: error }, 'live store: Redis unreachable, reconnecting')
        : process.emitWarning(`live store: Redis unreachable, reconnecting: ${error.message}`),
    connectTimeoutMs = 2000,
    commandTimeoutMs = 2000,
    maxReconnectDelayMs = 1000,
  } = options;
  const common: RedisOptions = {
    keyPrefix,
    connectTimeout: connectTimeoutMs,
    // Forever, with capped backoff: the store comes back by itself when Redis does.
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt - 1, 10), maxReconnectDelayMs),
  };
  const client = new Redis(url, {
    ...common,
    // Refuse commands while disconnected instead of queueing them for an unknown time.
    enableOfflineQueue: false,
    // Commands in flight when the connection drops fail at once; resending them after the
    // caller was told they failed could apply an increment twice.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
  });
  client.defineCommand('liveIncrement', { lua: INCREMENT_SCRIPT });
  const scripted = client as ScriptedRedis;
  // A connection in subscriber mode accepts no other commands, so pub/sub gets its own.
  let subscriber: Redis | undefined;
  const channels = new Map<string, Channel>();
  let closed = false;

  // One report per outage, whichever connection notices first, and one when both are back.
  const down = new Set<Redis>();
  const watch = (connection: Redis): void => {
    connection.on('error', (error: Error) => {
      if (closed || down.has(connection)) return;
      if (down.size === 0) onConnectionError(error);
      down.add(connection);
    });
    connection.on('ready', () => {
      if (!down.delete(connection) || down.size > 0) return;
      logger?.info('live store: Redis reachable again');
    });
  };
  watch(client);

  // The command connection refuses commands until its first connect; calls made before then
  // wait for that attempt (bounded by connectTimeoutMs), later ones fail at once while it is down.
  let connected = false;
  const firstConnect = new Promise<void>((resolve, reject) => {
    client.once('ready', () => {
      connected = true;
      resolve();
    });
    client.once('close', () => reject(unreachable(url)));
  });
  firstConnect.catch(() => undefined);

  const assertOpen = (): void => {
    if (closed) throw new Error('live store is closed');
  };

  // A function, so TypeScript does not keep the status it narrowed before an await.
  const isReady = (): boolean => client.status === 'ready';
  const usable = async (): Promise<void> => {
    assertOpen();
    if (isReady()) return;
    if (!connected) await firstConnect;
    if (!isReady()) throw unreachable(url);
  };

  // PEXPIRE/PX rather than EXPIRE/EX: the port takes fractional seconds, as the memory store does.
  const ttlMs = (ttlSeconds: number): number => {
    if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
      throw new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`);
    }
    return Math.max(1, Math.round(ttlSeconds * 1000));
  };

  /**
   * Redis's own refusals (WRONGTYPE, a failed script check) are answers about the data; a lost
   * connection, a timeout or a refused command while disconnected means Redis is unreachable.
   */
  const send = <T>(request: Promise<T>): Promise<T> =>
    request.catch((error: unknown) => {
      if (error instanceof ReplyError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new StoreUnavailableError('Redis', `live store: Redis at ${redact(url)}: ${reason}`, {
        cause: error,
      });
    });

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
      subscriber = client.duplicate({
        // SUBSCRIBE sent during an outage waits for Redis instead of failing the subscriber,
        // and the channels subscribed before it are subscribed again on reconnect.
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        autoResendUnfulfilledCommands: true,
        autoResubscribe: true,
        commandTimeout: undefined,
      });
      watch(subscriber);
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
      await usable();
      const sums = new Map<string, number>();
      for (const { key, by } of ops) sums.set(key, (sums.get(key) ?? 0) + by);
      for (const [key, by] of sums) {
        if (!Number.isSafeInteger(by))
          throw new RangeError(`increment of ${key} passes 2^53 - 1: ${by}`);
      }
      // One script: all of the increments or none, whether Redis refuses one or the link drops.
      await send(scripted.liveIncrement(sums.size, ...sums.keys(), ms, ...sums.values()));
    },

    async counters(keys: readonly string[]): Promise<number[]> {
      assertOpen();
      if (keys.length === 0) return [];
      await usable();
      const values = await send(client.mget(...keys));
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
      await usable();
      const pipeline = client.pipeline();
      for (const { key, members } of ops) pipeline.pfadd(key, ...members);
      for (const key of new Set(ops.map((op) => op.key))) pipeline.pexpire(key, ms);
      check(await send(pipeline.exec()));
    },

    async countUnique(keys: readonly string[]): Promise<number> {
      assertOpen();
      if (keys.length === 0) return 0;
      await usable();
      return send(client.pfcount(...keys));
    },

    async setValues(values: readonly LiveValue[], ttlSeconds: number): Promise<void> {
      assertOpen();
      const ms = ttlMs(ttlSeconds);
      if (values.length === 0) return;
      await usable();
      const pipeline = client.pipeline();
      for (const { key, value } of values) pipeline.set(key, value, 'PX', ms);
      check(await send(pipeline.exec()));
    },

    async getValues(keys: readonly string[]): Promise<(string | undefined)[]> {
      assertOpen();
      if (keys.length === 0) return [];
      await usable();
      const values = await send(client.mget(...keys));
      return values.map((value) => value ?? undefined);
    },

    async publish(channel: string, message: string): Promise<void> {
      await usable();
      await send(client.publish(channelName(channel), message));
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
        if (closed || !subscriber) return;
        const unsubscribed = subscriber.unsubscribe(channelName(channel));
        // While Redis is away UNSUBSCRIBE waits in the queue; the caller need not wait with it.
        if (subscriber.status === 'ready') await unsubscribed;
        else unsubscribed.catch(() => undefined);
      };
    },

    async clear(): Promise<number> {
      assertOpen();
      if (keyPrefix === '') throw new Error('refusing to clear a live store without a keyPrefix');
      await usable();
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
      await Promise.all([end(client), subscriber && end(subscriber)]);
    },
  };
}

function unreachable(url: string): Error {
  return new StoreUnavailableError(
    'Redis',
    `live store unavailable: Redis at ${redact(url)} is not connected`,
  );
}

/** The URL without its password, fit for an error message. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}

/** QUIT when connected (replies already due still arrive); otherwise just drop the connection. */
async function end(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    await connection.quit().catch(() => connection.disconnect());
  } else {
    connection.disconnect();
  }
}
