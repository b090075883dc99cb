// Calendar buckets in an IANA time zone: hours, days, ISO weeks (Monday first) and months, as
// UTC instants. A local day may last 23 or 25 hours, and zones at :30 or :45 offsets start their
// hours off the UTC hour; luxon reads the rules from the runtime's time-zone data.
import { DateTime, IANAZone, Zone } from 'luxon';

export type Granularity = 'hour' | 'day' | 'week' | 'month';

export const GRANULARITIES: readonly Granularity[] = ['hour', 'day', 'week', 'month'];

/** True for a zone name the runtime knows (`UTC`, `America/Los_Angeles`, `Asia/Kolkata`…). */
export function isTimeZone(name: string): boolean {
  // luxon builds an Intl formatter to answer, so names found valid are remembered (a few hundred).
  if (validNames.has(name)) return true;
  const valid = IANAZone.isValidZone(name);
  if (valid && validNames.size < 1_000) validNames.add(name);
  return valid;
}

const validNames = new Set<string>();

const UNIT = { hour: 'hour', day: 'day', week: 'week', month: 'month' } as const;

const HOUR_MS = 3_600_000;

/**
 * An IANA zone whose offsets are remembered per UTC hour. The runtime's answer (Intl's
 * formatToParts) costs microseconds and a dashboard asks it thousands of times; an hour whose
 * first and last millisecond share an offset has it throughout (transitions are months apart).
 */
class RememberedZone extends Zone {
  private readonly offsets = new Map<number, number>();

  constructor(private readonly zone: IANAZone) {
    super();
  }

  override get type() {
    return 'iana';
  }
  override get name() {
    return this.zone.name;
  }
  override get isUniversal() {
    return false;
  }
  override get isValid() {
    return this.zone.isValid;
  }
  override offsetName(ts: number, options: Parameters<Zone['offsetName']>[1]) {
    return this.zone.offsetName(ts, options);
  }
  override formatOffset(ts: number, format: Parameters<Zone['formatOffset']>[1]) {
    return this.zone.formatOffset(ts, format);
  }
  override equals(other: Zone) {
    return other.type === 'iana' && other.name === this.name;
  }
  override offset(ts: number): number {
    const hour = Math.floor(ts / HOUR_MS);
    const known = this.offsets.get(hour);
    if (known !== undefined) return known;
    const first = this.zone.offset(hour * HOUR_MS);
    if (first !== this.zone.offset(hour * HOUR_MS + HOUR_MS - 1)) return this.zone.offset(ts);
    if (this.offsets.size >= 200_000) this.offsets.clear();
    this.offsets.set(hour, first);
    return first;
  }
}

const zones = new Map<string, RememberedZone>();

function zoneOf(name: string): Zone | string {
  // luxon reads UTC and fixed offsets (`UTC+5`) itself, with no runtime call to remember.
  if (/^(utc|gmt)/i.test(name)) return name;
  let zone = zones.get(name);
  if (!zone) {
    zone = new RememberedZone(IANAZone.create(name));
    // Only known names are kept, so asking for made-up ones cannot grow the map.
    if (zone.isValid) zones.set(name, zone);
  }
  return zone;
}

function local(ms: number, zone: string): DateTime {
  return DateTime.fromMillis(ms, { zone: zoneOf(zone) });
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

/** Bounded maps of answers already worked out: a dashboard asks for the same buckets all day. */
function remembered<T>(limit: number): (key: string, work: () => T) => T {
  const known = new Map<string, T>();
  return (key, work) => {
    let value = known.get(key);
    if (value === undefined) {
      value = work();
      if (known.size >= limit) known.clear();
      known.set(key, value);
    }
    return value;
  };
}

const nextBuckets = remembered<number>(100_000);

/** Start of the bucket after the one starting at `start`. */
export function nextBucket(start: number, g: Granularity, zone: string): number {
  // An hour is 60 real minutes; a day, week or month is calendar arithmetic (23 or 25 h at DST).
  if (g === 'hour') return start + 3_600_000;
  return nextBuckets(`${g}|${zone}|${start}`, () =>
    local(start, zone)
      .plus({ [UNIT[g]]: 1 })
      .startOf(UNIT[g])
      .toMillis(),
  );
}

/** Start of every bucket that meets [from, to), the first one starting at or before `from`. */
export function bucketStarts(from: number, to: number, g: Granularity, zone: string): number[] {
  const starts: number[] = [];
  for (let b = floorBucket(from, g, zone); b < to; b = nextBucket(b, g, zone)) starts.push(b);
  return starts;
}

/** The instant as local time with its offset, e.g. `2026-03-08T00:00:00.000-08:00`. */
const localIsos = remembered<string>(100_000);

export function localIso(ms: number, zone: string): string {
  return localIsos(`${zone}|${ms}`, () => formatLocal(ms, zone));
}

function formatLocal(ms: number, zone: string): string {
  const known = zoneOf(zone);
  if (typeof known === 'string' || !known.isValid) {
    return local(ms, zone).toISO({ includeOffset: true }) ?? new Date(ms).toISOString();
  }
  // The wall clock is the instant shifted by its offset; luxon's formatter costs 10x this.
  const offset = known.offset(ms);
  const wall = new Date(ms + offset * 60_000).toISOString().slice(0, 23);
  const abs = Math.abs(offset);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${wall}${offset < 0 ? '-' : '+'}${hhmm}`;
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
