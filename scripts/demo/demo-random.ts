// Seeded randomness keyed by what it decides (a post, an account-day), so any slice of the demo
// can be rebuilt alone: the history and the live traffic agree on the same post without sharing
// state, and generation order never changes a value.

/** Uniform in [0, 1). */
export type Rng = () => number;

/** A 32-bit hash of the seed and a key: FNV-1a over the key, then a murmur3 finaliser. */
export function hashKey(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ Math.trunc(seed)) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mulberry32: tiny, fast and good enough for demo figures (not for anything secret). */
export function rngFor(seed: number, key: string): Rng {
  let state = hashKey(seed, key);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(rng: Rng, min: number, max: number): number {
  return min + (max - min) * rng();
}

/** An integer in [min, max]. */
export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** Picks a key by its weight: `pickWeighted(rng, { card: 5, wallet: 4 })`. */
export function pickWeighted<K extends string>(rng: Rng, weights: Partial<Record<K, number>>): K {
  const entries = Object.entries(weights) as [K, number][];
  let r = rng() * entries.reduce((sum, [, w]) => sum + w, 0);
  for (const [key, w] of entries) {
    r -= w;
    if (r < 0) return key;
  }
  const last = entries[entries.length - 1];
  if (last === undefined) throw new Error('pick from an empty list');
  return last[0];
}

/** `pickWeighted` with the weights summed once, for lists drawn from in hot loops. */
export function weightedPicker<T>(entries: readonly (readonly [T, number])[]): (rng: Rng) => T {
  const values = entries.map(([v]) => v);
  const cum = cumulative(entries.map(([, w]) => w));
  return (rng) => {
    const value = values[drawIndex(rng, cum)];
    if (value === undefined) throw new Error('pick from an empty list');
    return value;
  };
}

/** Standard normal (Box–Muller). */
export function normal(rng: Rng): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** A multiplicative noise factor with median 1. */
export function logNormal(rng: Rng, sigma: number): number {
  return Math.exp(sigma * normal(rng));
}

/** Knuth's method for small means, a rounded normal for large ones. */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rng)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng();
  while (p > limit) {
    k++;
    p *= rng();
  }
  return k;
}

/** Cumulative weights for repeated weighted draws by index (binary search). */
export function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => {
    sum += w;
    out[i] = sum;
  });
  return out;
}

export function drawIndex(rng: Rng, cum: Float64Array): number {
  const r = rng() * (cum[cum.length - 1] ?? 0);
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cum[mid] ?? 0) > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
