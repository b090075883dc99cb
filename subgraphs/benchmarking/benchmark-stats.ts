// The statistics a benchmark compares members and posts with: percentile ranks within the set,
// the landscape's average and median, shares, and breakout z-scores. Plain functions over
// numbers, so each rule is checked on its own.

/**
 * Per value: the percentage (0–100) of the other non-null values below it, ties counting half;
 * null for a null value, or when no other value is there to compare with.
 */
export function percentileRanks(values: readonly (number | null)[]): (number | null)[] {
  const known = values.filter((v): v is number => v !== null);
  return values.map((v) => {
    if (v === null || known.length < 2) return null;
    let below = 0;
    let ties = -1; // the value itself
    for (const other of known) {
      if (other < v) below++;
      else if (other === v) ties++;
    }
    return (100 * (below + ties / 2)) / (known.length - 1);
  });
}

/** Average and median of the non-null values; both null when there are none. */
export function landscapeStat(values: readonly (number | null)[]): {
  average: number | null;
  median: number | null;
} {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (known.length === 0) return { average: null, median: null };
  const mid = Math.floor(known.length / 2);
  const median = known.length % 2 === 1 ? known[mid]! : (known[mid - 1]! + known[mid]!) / 2;
  return { average: known.reduce((a, b) => a + b, 0) / known.length, median };
}

/** A part over its whole; null when the whole is not positive. */
export function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

export interface Comparable {
  id: string;
  /** What the post is compared within: posts of one group only. */
  group: string;
  value: number;
}

export interface Breakout<P extends Comparable> {
  post: P;
  comparablePosts: number;
  mean: number;
  standardDeviation: number;
  zScore: number;
}

/**
 * Posts whose value is more than `k` population standard deviations above the mean of the other
 * posts of their group (leave-one-out, so an outlier does not hide itself by widening the spread).
 * Groups are summed once: each post's mean and spread come from the group's sums minus its own.
 * Highest z-score first, ties by id.
 */
export function breakouts<P extends Comparable>(
  posts: readonly P[],
  k: number,
  minComparable: number,
): Breakout<P>[] {
  const sums = new Map<string, { n: number; sum: number; squares: number }>();
  for (const p of posts) {
    const s = sums.get(p.group) ?? { n: 0, sum: 0, squares: 0 };
    s.n++;
    s.sum += p.value;
    s.squares += p.value * p.value;
    sums.set(p.group, s);
  }
  const found: Breakout<P>[] = [];
  for (const post of posts) {
    const s = sums.get(post.group)!;
    const n = s.n - 1;
    if (n < Math.max(1, minComparable)) continue;
    const mean = (s.sum - post.value) / n;
    // Clamped: rounding may leave a tiny negative variance for identical values.
    const variance = Math.max(0, (s.squares - post.value * post.value) / n - mean * mean);
    const standardDeviation = Math.sqrt(variance);
    // Identical values (up to rounding) have no spread to measure against.
    if (!(standardDeviation > 1e-9 * Math.max(1, Math.abs(mean)))) continue;
    const zScore = (post.value - mean) / standardDeviation;
    if (zScore > k) found.push({ post, comparablePosts: n, mean, standardDeviation, zScore });
  }
  return found.sort((a, b) => b.zScore - a.zScore || (a.post.id < b.post.id ? -1 : 1));
}
