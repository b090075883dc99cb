// A trend's buckets: minutes, or the calendar buckets of lib/time in the query's zone, and the
// same bucket of an event as ClickHouse SQL, so both sides agree on every start.
import { DateTime } from 'luxon';
import { bucketStarts, type Granularity } from '../../lib/time/zoned-buckets.ts';

export type TrendInterval = 'minute' | Granularity;

const MINUTE_MS = 60_000;

/** Start of every bucket that meets [from, to), the first one at or before `from`. */
export function trendBucketStarts(
  from: number,
  to: number,
  interval: TrendInterval,
  zone: string,
): number[] {
  // Every zone in use is a whole number of minutes from UTC: a local minute is a UTC one.
  if (interval !== 'minute') return bucketStarts(from, to, interval, zone);
  const starts: number[] = [];
  for (let b = Math.floor(from / MINUTE_MS) * MINUTE_MS; b < to; b += MINUTE_MS) starts.push(b);
  return starts;
}

/** The local midnight `days` days before the one starting the day of `ms`. */
export function localDaysBefore(ms: number, days: number, zone: string): number {
  return DateTime.fromMillis(ms, { zone }).startOf('day').minus({ days }).toMillis();
}

/** SQL: the start (ms, Int64) of the bucket holding `at` (a DateTime64), in the zone `tz`. */
export function bucketSql(interval: TrendInterval, tz: string, at = 'timestamp'): string {
  const ms = (seconds: string) => `toInt64(toUnixTimestamp(${seconds})) * 1000`;
  switch (interval) {
    case 'minute':
      return ms(`toStartOfMinute(${at})`);
    case 'hour':
      return ms(`toStartOfHour(${at}, ${tz})`);
    case 'day':
      return ms(`toStartOfDay(${at}, ${tz})`);
    case 'week':
      return ms(`toDateTime(toMonday(${at}, ${tz}), ${tz})`);
    case 'month':
      return ms(`toDateTime(toStartOfMonth(${at}, ${tz}), ${tz})`);
  }
}
