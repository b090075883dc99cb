// Buckets of one audience dimension as the API shows them, with small buckets suppressed (Meta's
// rule for demographics: a bucket that stands for fewer than `minBucket` people is withheld).
//
// Snapshots carry relative values per bucket (the demo and most connectors send shares that sum to
// 1; counts work the same way): a bucket's share is its value over the dimension's sum, and the
// people it stands for are that share of the account's followers at the snapshot's time.

export interface AudienceBucket {
  key: string;
  /** As the snapshot reported it; null when suppressed. */
  value: number | null;
  /** Of the dimension's sum, 0 to 1; null when suppressed. */
  share: number | null;
  /** People the bucket stands for, rounded; null when suppressed. */
  count: number | null;
  suppressed: boolean;
}

export interface BucketChange {
  key: string;
  before: AudienceBucket | null;
  after: AudienceBucket | null;
  valueChange: number | null;
  shareChange: number | null;
  countChange: number | null;
}

const byKey = (a: { key: string }, b: { key: string }) =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

/**
 * A dimension's buckets: shown ones largest first (ties by key), then suppressed ones by key, so
 * their order says nothing about their size. `followers` null (no profile yet) suppresses all.
 */
export function toBuckets(
  values: Record<string, number>,
  followers: number | null,
  minBucket: number,
): AudienceBucket[] {
  const sum = Object.values(values).reduce((a, b) => a + b, 0);
  const shown: AudienceBucket[] = [];
  const hidden: AudienceBucket[] = [];
  for (const [key, value] of Object.entries(values)) {
    const share = sum > 0 ? value / sum : 0;
    // Multiplied before dividing, so counts reported as counts come back exactly.
    const count = followers === null ? null : sum > 0 ? Math.round((value * followers) / sum) : 0;
    if (minBucket > 0 && (count === null || count < minBucket)) {
      hidden.push({ key, value: null, share: null, count: null, suppressed: true });
    } else {
      shown.push({ key, value, share, count, suppressed: false });
    }
  }
  shown.sort((a, b) => (b.value ?? 0) - (a.value ?? 0) || byKey(a, b));
  return [...shown, ...hidden.sort(byKey)];
}

const minus = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined ? null : a - b;

/** Per key of either side: before, after, and the change where both sides are shown. */
export function bucketChanges(
  before: readonly AudienceBucket[],
  after: readonly AudienceBucket[],
): BucketChange[] {
  const b = new Map(before.map((x) => [x.key, x]));
  const a = new Map(after.map((x) => [x.key, x]));
  // In the order of the later buckets, then keys that disappeared, in the earlier order.
  const keys = [...new Set([...after.map((x) => x.key), ...before.map((x) => x.key)])];
  return keys.map((key) => {
    const was = b.get(key) ?? null;
    const is = a.get(key) ?? null;
    return {
      key,
      before: was,
      after: is,
      valueChange: minus(is?.value, was?.value),
      shareChange: minus(is?.share, was?.share),
      countChange: minus(is?.count, was?.count),
    };
  });
}
