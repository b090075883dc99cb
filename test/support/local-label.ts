// Names the local bucket of an instant with nothing but Intl, to check zoned answers against
// without sharing a line with the code under test: "2026-03-08" for a day, the Monday's date
// for an ISO week, "2026-03" for a month, and for an hour its local time with the offset (so
// the hour a DST change repeats gets two names).

export type LabelGrain = 'hour' | 'day' | 'week' | 'month';

const formats = new Map<string, Intl.DateTimeFormat>();

function parts(ms: number, zone: string): Record<string, string> {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    });
    formats.set(zone, format);
  }
  return Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]));
}

export function localLabel(ms: number, grain: LabelGrain, zone: string): string {
  const p = parts(ms, zone);
  const [y, m, d] = [Number(p['year']), Number(p['month']), Number(p['day'])];
  if (grain === 'month') return `${p['year']}-${p['month']}`;
  if (grain === 'day') return `${p['year']}-${p['month']}-${p['day']}`;
  if (grain === 'week') {
    // Calendar arithmetic on the local date alone: back to its Monday.
    const date = new Date(Date.UTC(y, m - 1, d));
    date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
    return date.toISOString().slice(0, 10);
  }
  return `${p['year']}-${p['month']}-${p['day']}T${p['hour']} ${p['timeZoneName']}`;
}

/** The local wall-clock minute of an instant, e.g. "00:00", to check that buckets start at midnight. */
export function localClock(ms: number, zone: string): string {
  const p = parts(ms, zone);
  return `${p['hour']}:${p['minute']}`;
}
