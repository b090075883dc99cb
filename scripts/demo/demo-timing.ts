// When the demo's audience engages: a post's engagement per viewer depends on the weekday and hour
// it goes out in the demo organisation's own zone, so `bestTimeToPost` has real top slots.
// Coffee drinkers engage on weekday mornings (commute and first break), most mid-week; at
// weekends the peak moves to late morning; evenings get a smaller bump.
import { weekdayAndHour } from '../../lib/time/zoned-buckets.ts';
import { DEMO_TIME_ZONE } from '../../lib/meta/accounts.repo.ts';

/** Engagement per viewer by local hour (0–23), on a working day and at a weekend. */
const WEEKDAY_HOURS: readonly number[] = [
  0.5, 0.5, 0.5, 0.5, 0.55, 0.7, 1, 1.5, 1.9, 1.7, 1.2, 1, 1.05, 0.95, 0.8, 0.75, 0.8, 0.9, 0.95,
  0.9, 0.8, 0.7, 0.6, 0.55,
];
const WEEKEND_HOURS: readonly number[] = [
  0.55, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.75, 1, 1.35, 1.5, 1.35, 1.1, 0.95, 0.85, 0.8, 0.85, 0.9,
  0.95, 0.9, 0.8, 0.7, 0.6, 0.55,
];
/** By ISO weekday (1 = Monday … 7 = Sunday): mid-week mornings are the best of the week. */
const DAY_WEIGHT: readonly number[] = [1, 1.2, 1.25, 1.2, 0.95, 0.85, 0.95];

export interface LocalSlot {
  /** ISO weekday, 1 = Monday … 7 = Sunday, as `bestTimeToPost` numbers them. */
  dayOfWeek: number;
  hour: number;
}

/** The weekday and hour of an instant in the demo organisation's zone (DST included). */
export function localSlot(ms: number): LocalSlot {
  return weekdayAndHour(ms, DEMO_TIME_ZONE);
}

/** How much engagement per viewer a post published at `ms` earns, against a typical slot. */
export function slotAppeal(ms: number): number {
  const { dayOfWeek, hour } = localSlot(ms);
  const hours = dayOfWeek >= 6 ? WEEKEND_HOURS : WEEKDAY_HOURS;
  return (hours[hour] ?? 1) * (DAY_WEIGHT[dayOfWeek - 1] ?? 1);
}
