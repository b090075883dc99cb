// The live store: short-lived counters, unique-member sketches, small values and pub/sub.
// Shaped after Redis so the server adapter is a thin mapping. Embedded: `memory.live.ts`; server:
// Redis (`redis.live.ts`). Both pass `live.contract.ts`.

export interface Increment {
  key: string;
  by: number;
}

export interface UniqueAdd {
  key: string;
  members: readonly string[];
}

export interface LiveValue {
  key: string;
  value: string;
}

export type Unsubscribe = () => Promise<void>;

export interface LiveStore {
  /**
   * Adds to integer counters; every touched key expires `ttlSeconds` after its last write. All or
   * nothing: a key that holds something other than a counter, or a counter that would pass
   * ±(2^53 − 1), refuses the whole call and leaves every counter as it was.
   */
  increment(ops: readonly Increment[], ttlSeconds: number): Promise<void>;
  /** Counter values in the order asked; 0 for a missing key. */
  counters(keys: readonly string[]): Promise<number[]>;
  /** Adds members to HyperLogLog sketches (about 1% standard error). */
  addUnique(ops: readonly UniqueAdd[], ttlSeconds: number): Promise<void>;
  /** Estimated size of the union of the sketches. */
  countUnique(keys: readonly string[]): Promise<number>;
  setValues(values: readonly LiveValue[], ttlSeconds: number): Promise<void>;
  /** Values in the order asked; undefined for a missing key. */
  getValues(keys: readonly string[]): Promise<(string | undefined)[]>;
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is active, so no message published after it is missed. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}
