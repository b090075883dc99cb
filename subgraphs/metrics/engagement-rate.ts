// Engagement rate: engagements over a basis, per bucket and over the range. Where the basis is
// missing or zero the rate is null, never 0 or Infinity, so a dashboard can tell "no engagement"
// from "nothing to divide by".
import type { MetricName } from '../../schema/event-envelope.ts';
import type { MetricSeries } from './metrics.store.ts';

export type RateBasis = 'followers' | 'reach' | 'impressions' | 'views';

export const BASIS_METRIC: Record<RateBasis, MetricName> = {
  followers: 'followers',
  reach: 'reach',
  impressions: 'impressions',
  views: 'views',
};

export interface EngagementRate {
  total: number | null;
  points: { at: number; value: number | null }[];
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

/**
 * Followers are a level: each bucket divides by the followers at its end (the level before the
 * range plus the changes up to it), and the range by their average over the buckets that have
 * one. Reach, impressions and views are counts: each bucket divides by its own, the range by
 * their sum.
 */
export function engagementRate(
  basis: RateBasis,
  engagements: MetricSeries,
  denominator: MetricSeries,
): EngagementRate {
  if (basis !== 'followers') {
    return {
      total: ratio(engagements.total, denominator.total),
      points: engagements.points.map((p, i) => ({
        at: p.at,
        value: ratio(p.value, denominator.points[i]?.value ?? 0),
      })),
    };
  }
  let level = denominator.startLevel;
  const levels = denominator.points.map((p) => (level += p.value));
  const known = levels.filter((l) => l > 0);
  const average = known.length === 0 ? 0 : known.reduce((a, b) => a + b, 0) / known.length;
  return {
    total: ratio(engagements.total, average),
    points: engagements.points.map((p, i) => ({ at: p.at, value: ratio(p.value, levels[i] ?? 0) })),
  };
}

/**
 * Growth of a lifetime total: each bucket's change over the level at its start, and the range's
 * total change over the level before it.
 */
export function growthRate(series: MetricSeries): EngagementRate {
  let level = series.startLevel;
  const points = series.points.map((p) => {
    const value = ratio(p.value, level);
    level += p.value;
    return { at: p.at, value };
  });
  return { total: ratio(series.total, series.startLevel), points };
}
