// Our own HyperLogLog: npm's options hash with a slow pure-JS 64-bit xxhash or need a native addon,
// and none keeps small sketches sparse, which matters with one sketch per account and hour.
//
// Redis's parameters: 2^14 registers over a 64-bit hash (0.81% standard error), counted with
// Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
// 2017), which Redis also uses. A sketch starts as a small hash table of set registers and turns
// dense (one byte per register, 16 KiB) once that table would be as large.

const P = 14;
const M = 1 << P;
/** Hash bits left after the register index; a register holds a rank of 1..Q+1. */
const Q = 64 - P;
const ALPHA_INF = 0.5 / Math.LN2;
/** Largest sparse table (entries are 4 bytes, at most half full) before turning dense. */
const SPARSE_MAX_SLOTS = 2048;

// The two 32-bit halves of the last hash, kept in module state so hashing allocates nothing.
let hashHigh = 0;
let hashLow = 0;

/**
 * Hashes a string's UTF-16 code units to 64 bits in (hashHigh, hashLow): two MurmurHash3-style
 * lanes with different constants, cross-mixed at the end so every output bit depends on every input.
 */
function hashInto(text: string): void {
  let h1 = 0x3c6ef372;
  let h2 = 0x9e3779b9;
  const n = text.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const k = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    h1 ^= Math.imul(rotl(Math.imul(k, 0xcc9e2d51), 15), 0x1b873593);
    h1 = (Math.imul(rotl(h1, 13), 5) + 0xe6546b64) | 0;
    h2 ^= Math.imul(rotl(Math.imul(k, 0x85ebca6b), 16), 0xc2b2ae35);
    h2 = (Math.imul(rotl(h2, 17), 9) + 0x7f4a7c15) | 0;
  }
  if (i < n) {
    const k = text.charCodeAt(i);
    h1 ^= Math.imul(rotl(Math.imul(k, 0xcc9e2d51), 15), 0x1b873593);
    h2 ^= Math.imul(rotl(Math.imul(k, 0x85ebca6b), 16), 0xc2b2ae35);
  }
  h1 ^= n;
  h2 ^= n;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  hashHigh = (h1 + h2) | 0;
  hashLow = (h2 + hashHigh) | 0;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function trailingZeros(x: number): number {
  return 31 - Math.clz32(x & -x);
}

export class HyperLogLog {
  /** Sparse form: open-addressed slots holding `index << 6 | rank`, 0 when empty. */
  private sparse: Uint32Array | undefined = new Uint32Array(16);
  private sparseCount = 0;
  private dense: Uint8Array | undefined;
  private cachedCount: number | undefined = 0;

  /** Adds members; returns whether any register changed (Redis's PFADD reply). */
  add(members: readonly string[]): boolean {
    let changed = false;
    for (const member of members) {
      hashInto(member);
      const index = hashLow & (M - 1);
      // The rank is the position of the lowest set bit among the 50 bits above the index.
      const rest = hashLow >>> P;
      const rank =
        rest !== 0
          ? trailingZeros(rest) + 1
          : hashHigh !== 0
            ? 32 - P + trailingZeros(hashHigh) + 1
            : Q + 1;
      if (this.setRegister(index, rank)) changed = true;
    }
    if (changed) this.cachedCount = undefined;
    return changed;
  }

  /** Estimated number of distinct members added. */
  count(): number {
    this.cachedCount ??= estimate(this.histogram());
    return this.cachedCount;
  }

  /** Estimated size of the union of sketches, without changing any of them. */
  static countUnion(sketches: readonly HyperLogLog[]): number {
    if (sketches.length === 0) return 0;
    if (sketches.length === 1) return sketches[0]!.count();
    const registers = new Uint8Array(M);
    for (const sketch of sketches) sketch.maxInto(registers);
    const histogram = new Float64Array(Q + 2);
    for (let i = 0; i < M; i++) histogram[registers[i]!]!++;
    return estimate(histogram);
  }

  /** Bytes held by the registers, for memory accounting. */
  get byteLength(): number {
    return this.dense ? this.dense.byteLength : this.sparse!.byteLength;
  }

  private setRegister(index: number, rank: number): boolean {
    const dense = this.dense;
    if (dense) {
      if (dense[index]! >= rank) return false;
      dense[index] = rank;
      return true;
    }
    const slots = this.sparse!;
    const mask = slots.length - 1;
    for (let s = index & mask; ; s = (s + 1) & mask) {
      const entry = slots[s]!;
      if (entry === 0) {
        slots[s] = (index << 6) | rank;
        this.sparseCount++;
        if (this.sparseCount * 2 > slots.length) this.growSparse();
        return true;
      }
      if (entry >>> 6 === index) {
        if ((entry & 63) >= rank) return false;
        slots[s] = (index << 6) | rank;
        return true;
      }
    }
  }

  private growSparse(): void {
    const old = this.sparse!;
    if (old.length * 2 > SPARSE_MAX_SLOTS) {
      const dense = new Uint8Array(M);
      this.maxInto(dense);
      this.dense = dense;
      this.sparse = undefined;
      return;
    }
    const slots = new Uint32Array(old.length * 2);
    const mask = slots.length - 1;
    for (const entry of old) {
      if (entry === 0) continue;
      let s = (entry >>> 6) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = entry;
    }
    this.sparse = slots;
  }

  private maxInto(registers: Uint8Array): void {
    if (this.dense) {
      for (let i = 0; i < M; i++) {
        const rank = this.dense[i]!;
        if (rank > registers[i]!) registers[i] = rank;
      }
      return;
    }
    for (const entry of this.sparse!) {
      if (entry === 0) continue;
      const index = entry >>> 6;
      const rank = entry & 63;
      if (rank > registers[index]!) registers[index] = rank;
    }
  }

  /** How many registers hold each rank 0..Q+1. */
  private histogram(): Float64Array {
    const histogram = new Float64Array(Q + 2);
    if (this.dense) {
      for (let i = 0; i < M; i++) histogram[this.dense[i]!]!++;
      return histogram;
    }
    histogram[0] = M - this.sparseCount;
    for (const entry of this.sparse!) if (entry !== 0) histogram[entry & 63]!++;
    return histogram;
  }
}

function estimate(histogram: Float64Array): number {
  let z = M * tau((M - histogram[Q + 1]!) / M);
  for (let k = Q; k >= 1; k--) z = 0.5 * (z + histogram[k]!);
  z += M * sigma(histogram[0]! / M);
  return Math.round((ALPHA_INF * M * M) / z);
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z !== previous);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  } while (z !== previous);
  return z / 3;
}
