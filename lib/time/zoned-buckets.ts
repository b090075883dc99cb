// Calendar buckets in an IANA time zone: hours, days, ISO weeks (Monday first) and months, as
// UTC instants. A local day may last 23 or 25 hours, and zones at :30 or :45 offsets start their
// hours off the UTC hour; luxon reads the rules from the runtime's time-zone data.
import { DateTime, IANAZone } from 'luxon';

export type Granularity = 'hour' | 'day' | 'week' | 'month';

export const GRANULARITIES: readonly Granularity[] = ['hour', 'day', 'week', 'month'];

/** True for a zone name the runtime knows (`UTC`, `America/Los_Angeles`, `Asia/Kolkata`…). */
export function isTimeZone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

const UNIT = { hour: 'hour', day: 'day', week: 'week', month: 'month' } as const;

function local(ms: number, zone: string): DateTime {
  return DateTime.fromMillis(ms, { zone });
}

/** Start of the bucket holding `ms`. */
export function floorBucket(ms: number, g: Granularity, zone: string): number {
  const at = local(ms, zone);
  // By offset, not wall clock: in the hour a DST change repeats, 1:30 PST must floor to 1:00 PST.
  if (g === 'hour') return ms - mod(ms + at.offset * 60_000, 3_600_000);
  // luxon's weeks are ISO weeks: they start on Monday.
  return at.startOf(UNIT[g]).toMillis();
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** Start of the bucket after the one starting at `start`. */
export function nextBucket(start: number, g: Granularity, zone: string): number {
  const at = local(start, zone);
  // An hour is 60 real minutes; a day, week or month is calendar arithmetic (23 or 25 h at DST).
  return g === 'hour'
    ? start + 3_600_000
    : at
        .plus({ [UNIT[g]]: 1 })
        .startOf(UNIT[g])
        .toMillis();
}

/** Start of every bucket that meets [from, to), the first one starting at or before `from`. */
export function bucketStarts(from: number, to: number, g: Granularity, zone: string): number[] {
  const starts: number[] = [];
  for (let b = floorBucket(from, g, zone); b < to; b = nextBucket(b, g, zone)) starts.push(b);
  return starts;
}

/** The instant as local time with its offset, e.g. `2026-03-08T00:00:00.000-08:00`. */
export function localIso(ms: number, zone: string): string {
  return local(ms, zone).toISO({ includeOffset: true }) ?? new Date(ms).toISOString();
}

/** The same local wall time a year earlier (29 February becomes 28 February). */
export function yearBefore(ms: number, zone: string): number {
  return local(ms, zone).minus({ years: 1 }).toMillis();
}

/** The zone's offset from UTC at an instant, in minutes (-420 for PDT, 330 for IST). */
export function offsetMinutes(ms: number, zone: string): number {
  return local(ms, zone).offset;
}

/** The ISO weekday (1 = Monday … 7 = Sunday) and hour of an instant in a zone. */
export function weekdayAndHour(ms: number, zone: string): { dayOfWeek: number; hour: number } {
  const at = local(ms, zone);
  return { dayOfWeek: at.weekday, hour: at.hour };
}
