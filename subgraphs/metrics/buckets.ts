// Bucket arithmetic in UTC for the three rollup grains.

export type Granularity = 'hour' | 'day' | 'month';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function floorBucket(ms: number, g: Granularity): number {
  if (g === 'hour') return Math.floor(ms / HOUR) * HOUR;
  if (g === 'day') return Math.floor(ms / DAY) * DAY;
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextBucket(bucket: number, g: Granularity): number {
  if (g === 'hour') return bucket + HOUR;
  if (g === 'day') return bucket + DAY;
  const d = new Date(bucket);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Start of the bucket holding `ms`, or `ms` itself when it already starts one. */
export function ceilBucket(ms: number, g: Granularity): number {
  const floor = floorBucket(ms, g);
  return floor === ms ? ms : nextBucket(floor, g);
}

/** Every bucket start in [from, to); both ends already aligned. */
export function bucketStarts(from: number, to: number, g: Granularity): number[] {
  const starts: number[] = [];
  for (let b = from; b < to; b = nextBucket(b, g)) starts.push(b);
  return starts;
}

/** Widest range answered per grain, so one query cannot ask for millions of points. */
export const MAX_BUCKETS: Record<Granularity, number> = { hour: 24 * 93, day: 3660, month: 600 };
