// Answers computed from stored events, kept in memory for as long as those events are unchanged.
// The sink bumps two write marks per account after every insert (ingest/pipeline/write-marks.ts):
// `late` for events older than the current quarter-hour, `any` for every event. An entry holds the
// marks its accounts had when it was computed and is used again only while they read the same:
// under `late` for parts that end at a past quarter-hour, under `any` for the open end.
import { cacheLookups } from '../observability/metrics.ts';
import { WRITE_MARK_TTL_SECONDS, writeMarkKey } from './live-keys.ts';
import type { LiveStore } from './live.port.ts';

/** The marks of a set of accounts at one moment, as comparable strings. */
export interface WriteMarks {
  late: string;
  any: string;
}

export interface WriteMarkedCache {
  /**
   * The accounts' marks now, or undefined when the live store cannot say: then nothing cached can
   * be trusted, and everything held is dropped.
   */
  marks(orgId: string, accountIds: readonly string[]): Promise<WriteMarks | undefined>;
  /** Whether `key` holds an entry computed under `marks`. */
  holds(key: string, marks: string): boolean;
  /**
   * Makes the accounts' marks outlive what is computed next, so a mark that expired and counted
   * up again can never look unchanged. False (everything dropped) when the live store cannot.
   */
  keep(orgId: string, accountIds: readonly string[]): Promise<boolean>;
  /** The entry under `key` if computed under `marks`; else `compute()`, kept while there is room. */
  get<T>(
    key: string,
    marks: string,
    compute: () => Promise<T>,
    sizeOf: (value: T) => number,
  ): Promise<T>;
}

export interface WriteMarkedCacheOptions {
  live: LiveStore;
  /** Its label in loupe_cache_lookups_total. */
  name: string;
  /** Values or rows all entries may hold together; the oldest go first. */
  maxHeld: number;
  /** An entry bigger than this is used once and not kept. */
  maxEntry: number;
  /** An entry is dropped after this long even when no write touched it. */
  maxAgeMs: number;
  now?: () => number;
}

interface Entry {
  marks: string;
  createdAt: number;
  value: Promise<unknown>;
  /** Values or rows held, once computed. */
  size: number;
}

export function createWriteMarkedCache(options: WriteMarkedCacheOptions): WriteMarkedCache {
  const { live, name, maxHeld, maxEntry, maxAgeMs, now = Date.now } = options;
  const entries = new Map<string, Entry>();
  let held = 0;
  const drop = (key: string, entry: Entry) => {
    if (entries.get(key) !== entry) return;
    entries.delete(key);
    held -= entry.size;
  };
  const clear = () => {
    entries.clear();
    held = 0;
  };
  const keysOf = (orgId: string, accountIds: readonly string[]) =>
    accountIds.flatMap((a) => [writeMarkKey('late', orgId, a), writeMarkKey('any', orgId, a)]);
  const usable = (entry: Entry | undefined, marks: string): entry is Entry =>
    entry !== undefined && entry.marks === marks && now() - entry.createdAt < maxAgeMs;

  return {
    async marks(orgId, accountIds) {
      try {
        const counts = await live.counters(keysOf(orgId, accountIds));
        return {
          late: counts.filter((_, i) => i % 2 === 0).join(','),
          any: counts.filter((_, i) => i % 2 === 1).join(','),
        };
      } catch {
        clear();
        return undefined;
      }
    },

    holds: (key, marks) => usable(entries.get(key), marks),

    async keep(orgId, accountIds) {
      try {
        await live.increment(
          keysOf(orgId, accountIds).map((key) => ({ key, by: 0 })),
          WRITE_MARK_TTL_SECONDS,
        );
        return true;
      } catch {
        clear();
        return false;
      }
    },

    get<T>(
      key: string,
      marks: string,
      compute: () => Promise<T>,
      sizeOf: (value: T) => number,
    ): Promise<T> {
      const found = entries.get(key);
      if (usable(found, marks)) {
        cacheLookups.inc({ cache: name, result: 'hit' });
        return found.value as Promise<T>;
      }
      cacheLookups.inc({ cache: name, result: 'miss' });
      const value = compute();
      const entry: Entry = { marks, createdAt: now(), value, size: 0 };
      if (found) drop(key, found);
      entries.set(key, entry);
      value.then(
        (v) => {
          if (entries.get(key) !== entry) return;
          entry.size = sizeOf(v);
          held += entry.size;
          if (entry.size > maxEntry) drop(key, entry);
          for (const [oldest, e] of entries) {
            if (held <= maxHeld) break;
            drop(oldest, e);
          }
        },
        () => drop(key, entry),
      );
      return value;
    },
  };
}
