// The one seeded generator (and text hash) behind every fake's data and every replayable test
// case, so the same seed gives the same numbers wherever it is used.

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32: small, fast, good enough for data). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit number from text (FNV-1a over UTF-16 code units): a seed or id named by text. */
export function hashText(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
