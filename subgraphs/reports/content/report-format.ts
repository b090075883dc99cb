// How report values are written: instants as ISO 8601 with the zone's offset (never Z), local
// dates for people, and numbers with grouping or in short form for chart ticks.
import { DateTime } from 'luxon';
import { localIso } from '../../../lib/time/zoned-buckets.ts';
import type { TimeRange } from './report-data.ts';

/** `2026-11-02T00:00:00-08:00`; milliseconds only when there are some. */
export function isoWithOffset(ms: number, timeZone: string): string {
  return localIso(ms, timeZone).replace(/\.000(?=[+-])/u, '');
}

/** `2 Nov 2026 00:00` in the zone. */
export function localDateTime(ms: number, timeZone: string): string {
  return DateTime.fromMillis(ms, { zone: timeZone }).toFormat('d LLL yyyy HH:mm');
}

/** `2 Nov`, for chart ticks. */
export function localDay(ms: number, timeZone: string): string {
  return DateTime.fromMillis(ms, { zone: timeZone }).toFormat('d LLL');
}

/** The range as people read it: start inclusive, end exclusive, with the offsets. */
export function rangeText(range: TimeRange, timeZone: string): string {
  const z = (ms: number) => DateTime.fromMillis(ms, { zone: timeZone }).toFormat('ZZ');
  return `${localDateTime(range.from, timeZone)} (UTC${z(range.from)}) to ${localDateTime(range.to, timeZone)} (UTC${z(range.to)}), end excluded`;
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function formatNumber(n: number): string {
  return grouped.format(n);
}

export function formatSigned(n: number): string {
  return `${n > 0 ? '+' : ''}${grouped.format(n)}`;
}

export function formatPercent(p: number | null): string {
  if (p === null) return 'n/a';
  return `${p > 0 ? '+' : ''}${p.toFixed(1)}%`;
}

/** 1.2k, 3.4M: short tick labels. */
export function formatShort(n: number): string {
  const abs = Math.abs(n);
  for (const [size, suffix] of [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (abs >= size) return `${Number((n / size).toFixed(abs >= size * 10 ? 0 : 1))}${suffix}`;
  }
  return `${Number(n.toFixed(abs >= 10 || Number.isInteger(n) ? 0 : 1))}`;
}
