// The query router's plan: which stored rows answer which bucket. Each local bucket, clipped to
// the range, is covered by the coarsest UTC rows that fit inside it (months, then days, hours and
// quarter-hours) and by raw events for what is left (the range's unaligned ends). Every instant
// of the range falls in exactly one piece, so summing the pieces recounts the range.
import { bucketStarts, nextBucket, type Granularity } from '../../lib/time/zoned-buckets.ts';

export type Grain = 'month' | 'day' | 'hour' | 'quarter';

/** Rows of one grain: their starts (ms) and, for each, the bucket (its start, ms) it belongs to. */
export interface GrainPieces {
  starts: number[];
  buckets: number[];
}

export interface RangePlan {
  /** Bucket starts, oldest first; the first starts at or before the range. */
  buckets: number[];
  rollups: Record<Grain, GrainPieces>;
  /** Sub-quarter-hour spans read from raw events, in order, each inside one bucket. */
  raw: { from: number; to: number; bucket: number }[];
  /**
   * Where the level before the range is read: month rows before `month`, day rows in
   * [month, day), hour rows in [day, hour), quarter rows in [hour, quarter), raw in [quarter, from).
   */
  before: { month: number; day: number; hour: number; quarter: number };
}

const MINUTE = 60_000;
const SIZE = { day: 1440 * MINUTE, hour: 60 * MINUTE, quarter: 15 * MINUTE } as const;

function floorTo(ms: number, grain: Grain): number {
  if (grain === 'month') {
    const d = new Date(ms);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  return Math.floor(ms / SIZE[grain]) * SIZE[grain];
}

function next(start: number, grain: Grain): number {
  if (grain === 'month') {
    const d = new Date(start);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return start + SIZE[grain];
}

function ceilTo(ms: number, grain: Grain): number {
  const floor = floorTo(ms, grain);
  return floor === ms ? ms : next(floor, grain);
}

const FINER: Record<Grain, Grain | 'raw'> = {
  month: 'day',
  day: 'hour',
  hour: 'quarter',
  quarter: 'raw',
};

export function planRange(
  from: number,
  to: number,
  granularity: Granularity,
  timeZone: string,
): RangePlan {
  const buckets = bucketStarts(from, to, granularity, timeZone);
  const rollups: Record<Grain, GrainPieces> = {
    month: { starts: [], buckets: [] },
    day: { starts: [], buckets: [] },
    hour: { starts: [], buckets: [] },
    quarter: { starts: [], buckets: [] },
  };
  const raw: RangePlan['raw'] = [];

  // Covers [a, b) with rows of `grain` that fit, handing the uncovered ends to the finer grain.
  const cover = (a: number, b: number, grain: Grain | 'raw', bucket: number): void => {
    if (a >= b) return;
    if (grain === 'raw') {
      raw.push({ from: a, to: b, bucket });
      return;
    }
    const first = ceilTo(a, grain);
    let end = first;
    while (next(end, grain) <= b) end = next(end, grain);
    if (first >= end) {
      cover(a, b, FINER[grain], bucket);
      return;
    }
    cover(a, first, FINER[grain], bucket);
    for (let s = first; s < end; s = next(s, grain)) {
      rollups[grain].starts.push(s);
      rollups[grain].buckets.push(bucket);
    }
    cover(end, b, FINER[grain], bucket);
  };
  for (const start of buckets) {
    const end = nextBucket(start, granularity, timeZone);
    cover(Math.max(start, from), Math.min(end, to), 'month', start);
  }
  return {
    buckets,
    rollups,
    raw,
    before: {
      month: floorTo(from, 'month'),
      day: floorTo(from, 'day'),
      hour: floorTo(from, 'hour'),
      quarter: floorTo(from, 'quarter'),
    },
  };
}
