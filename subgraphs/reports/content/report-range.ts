// The range rules a schedule names, in calendar days and months of the organisation's zone: a
// local day lasts 23 or 25 hours at DST changes, so ranges are built on local dates, never as
// multiples of 24 hours.
import { DateTime } from 'luxon';
import type { TimeRange } from './report-data.ts';

export type RangeRule = 'last_7_days' | 'last_30_days' | 'previous_month';

export const RANGE_RULES: readonly RangeRule[] = ['last_7_days', 'last_30_days', 'previous_month'];

/**
 * The whole local days (or month) before the one holding `at`, and the period of the same
 * calendar length just before it: `last_7_days` at any time on a Tuesday is the seven days up to
 * Tuesday 00:00, compared with the seven before those.
 */
export function rangeFor(
  rule: RangeRule,
  at: number,
  timeZone: string,
): { range: TimeRange; previous: TimeRange } {
  const now = DateTime.fromMillis(at, { zone: timeZone });
  if (!now.isValid) throw new RangeError(`unknown time zone "${timeZone}"`);
  const span =
    rule === 'previous_month' ? { months: 1 } : { days: rule === 'last_7_days' ? 7 : 30 };
  const end = now.startOf(rule === 'previous_month' ? 'month' : 'day');
  const start = end.minus(span);
  const before = start.minus(span);
  return {
    range: { from: start.toMillis(), to: end.toMillis() },
    previous: { from: before.toMillis(), to: start.toMillis() },
  };
}
