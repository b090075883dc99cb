// Embedded live store: Redis's counters, HyperLogLogs, expiring strings and pub/sub in one Map,
// so a single process runs the speed layer and live tiles with the semantics Redis gives later.
import { HyperLogLog } from './hyperloglog.ts';
import type { Increment, LiveStore, LiveValue, UniqueAdd, Unsubscribe } from './live.port.ts';

export interface MemoryLiveStoreOptions {
  /** How often expired keys nobody reads are swept away. */
  sweepIntervalMs?: number;
  /** Keys examined per sweep, so one sweep never holds the event loop for long. */
  sweepBatch?: number;
  /** Told when a subscriber throws; the other subscribers still get the message. */
  onSubscriberError?: (error: unknown, channel: string) => void;
}

export interface MemoryLiveStore extends LiveStore {
  /** Keys held, counting expired ones not yet swept or read. */
  readonly size: number;
}

type Entry =
  | { kind: 'counter'; value: number; expiresAt: number }
  | { kind: 'unique'; sketch: HyperLogLog; expiresAt: number }
  | { kind: 'value'; value: string; expiresAt: number };

interface Subscription {
  onMessage: (message: string) => void;
}

export function createMemoryLiveStore(options: MemoryLiveStoreOptions = {}): MemoryLiveStore {
  const {
    sweepIntervalMs = 1000,
    sweepBatch = 20_000,
    onSubscriberError = (error: unknown, channel: string) =>
      process.emitWarning(`live store subscriber of ${channel} threw: ${String(error)}`),
  } = options;
  // One keyspace, as in Redis: a key holds one kind of entry at a time.
  const entries = new Map<string, Entry>();
  const channels = new Map<string, Set<Subscription>>();
  let closed = false;

  // A Map iterator survives inserts and deletes, so each sweep resumes where the last stopped.
  let cursor = entries.entries();
  const sweep = (): void => {
    const now = Date.now();
    for (let n = 0; n < sweepBatch; n++) {
      const next = cursor.next();
      if (next.done) {
        cursor = entries.entries();
        return;
      }
      const [key, entry] = next.value;
      if (entry.expiresAt <= now) entries.delete(key);
    }
  };
  const sweeper = setInterval(sweep, sweepIntervalMs);
  sweeper.unref();

  const assertOpen = (): void => {
    if (closed) throw new Error('live store is closed');
  };

  /** The entry of a key unless it expired (then it is removed), checked to be of `kind`. */
  function read<K extends Entry['kind']>(
    key: string,
    kind: K,
    now: number,
  ): Extract<Entry, { kind: K }> | undefined {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      entries.delete(key);
      return undefined;
    }
    if (entry.kind !== kind) {
      throw new Error(`WRONGTYPE live key ${key} holds a ${entry.kind}, not a ${kind}`);
    }
    return entry as Extract<Entry, { kind: K }>;
  }

  const expiryOf = (ttlSeconds: number, now: number): number => {
    if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
      throw new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`);
    }
    return now + ttlSeconds * 1000;
  };

  return {
    get size() {
      return entries.size;
    },

    async increment(ops: readonly Increment[], ttlSeconds: number): Promise<void> {
      assertOpen();
      const now = Date.now();
      const expiresAt = expiryOf(ttlSeconds, now);
      // Checked before any write, so a bad op leaves every counter as it was.
      const sums = new Map<string, number>();
      for (const { key, by } of ops) {
        if (!Number.isSafeInteger(by))
          throw new RangeError(`increment of ${key} is not an integer: ${by}`);
        sums.set(key, (sums.get(key) ?? read(key, 'counter', now)?.value ?? 0) + by);
      }
      for (const [key, value] of sums) {
        if (!Number.isSafeInteger(value))
          throw new RangeError(`RANGE increment of live key ${key} would pass 2^53 - 1`);
      }
      for (const { key, by } of ops) {
        const entry = read(key, 'counter', now);
        if (entry) {
          entry.value += by;
          entry.expiresAt = expiresAt;
        } else {
          entries.set(key, { kind: 'counter', value: by, expiresAt });
        }
      }
    },

    async counters(keys: readonly string[]): Promise<number[]> {
      assertOpen();
      const now = Date.now();
      return keys.map((key) => read(key, 'counter', now)?.value ?? 0);
    },

    async addUnique(ops: readonly UniqueAdd[], ttlSeconds: number): Promise<void> {
      assertOpen();
      const now = Date.now();
      const expiresAt = expiryOf(ttlSeconds, now);
      for (const { key } of ops) read(key, 'unique', now);
      for (const { key, members } of ops) {
        let entry = read(key, 'unique', now);
        if (entry) {
          entry.expiresAt = expiresAt;
        } else {
          entry = { kind: 'unique', sketch: new HyperLogLog(), expiresAt };
          entries.set(key, entry);
        }
        entry.sketch.add(members);
      }
    },

    async countUnique(keys: readonly string[]): Promise<number> {
      assertOpen();
      const now = Date.now();
      const sketches: HyperLogLog[] = [];
      for (const key of keys) {
        const entry = read(key, 'unique', now);
        if (entry) sketches.push(entry.sketch);
      }
      return HyperLogLog.countUnion(sketches);
    },

    async setValues(values: readonly LiveValue[], ttlSeconds: number): Promise<void> {
      assertOpen();
      const now = Date.now();
      const expiresAt = expiryOf(ttlSeconds, now);
      for (const { key } of values) read(key, 'value', now);
      for (const { key, value } of values) entries.set(key, { kind: 'value', value, expiresAt });
    },

    async getValues(keys: readonly string[]): Promise<(string | undefined)[]> {
      assertOpen();
      const now = Date.now();
      return keys.map((key) => read(key, 'value', now)?.value);
    },

    async publish(channel: string, message: string): Promise<void> {
      assertOpen();
      const subscribers = channels.get(channel);
      if (!subscribers || subscribers.size === 0) return;
      const targets = [...subscribers];
      // Delivered after publish returns, as from a server, yet before any timer or I/O runs.
      queueMicrotask(() => {
        if (closed) return;
        for (const target of targets) {
          // Unsubscribed meanwhile: Redis would not deliver to it either.
          if (!subscribers.has(target)) continue;
          try {
            target.onMessage(message);
          } catch (error) {
            onSubscriberError(error, channel);
          }
        }
      });
    },

    async subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe> {
      assertOpen();
      let subscribers = channels.get(channel);
      if (!subscribers) {
        subscribers = new Set();
        channels.set(channel, subscribers);
      }
      // A fresh object per call, so the same function subscribed twice unsubscribes separately.
      const subscription: Subscription = { onMessage };
      subscribers.add(subscription);
      const own = subscribers;
      return async () => {
        own.delete(subscription);
        if (own.size === 0 && channels.get(channel) === own) channels.delete(channel);
      };
    },

    async close(): Promise<void> {
      closed = true;
      clearInterval(sweeper);
      entries.clear();
      channels.clear();
    },
  };
}
