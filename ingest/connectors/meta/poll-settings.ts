// The tunables of a Meta poll and their defaults in one place; each connector overrides them from
// its options.
import { DAY } from './poll-time.ts';

export interface MetaPollSettings {
  /** Posts asked per page (`limit`). */
  pageSize: number;
  /** Posts this recent are read again every poll, so their totals stay fresh. */
  refreshWindowMs: number;
  /** How far back the first poll reads posts. */
  horizonMs: number;
  /** How many settled days the first poll reads account insights for. */
  insightsHorizonDays: number;
  /** Most days of account insights one poll reads. */
  insightDaysPerPoll: number;
  /** Most pages of posts one poll reads; a longer pass goes on in the next poll. */
  maxPagesPerPoll: number;
}

export const DEFAULT_META_POLL: MetaPollSettings = {
  pageSize: 25,
  refreshWindowMs: 7 * DAY,
  horizonMs: 90 * DAY,
  insightsHorizonDays: 28,
  insightDaysPerPoll: 14,
  maxPagesPerPoll: 40,
};
