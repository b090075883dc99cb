// What counts as an engagement on each platform: the one definition the API, its SDL description
// and the reports share. Each platform's own interactions map onto the envelope's counters:
// Facebook reactions arrive as `likes`, X replies as `comments` and X reposts as `shares`.
import type { MetricName, Platform } from './event-envelope.ts';

export const ENGAGEMENTS: Record<Platform, readonly MetricName[]> = {
  facebook: ['likes', 'comments', 'shares'],
  instagram: ['likes', 'comments', 'saves', 'shares'],
  x: ['likes', 'comments', 'shares', 'quotes'],
  tiktok: ['likes', 'comments', 'shares'],
  // App events are product analytics, not social engagement.
  app: [],
};

/** Every counter that is an engagement on some platform. */
export const ENGAGEMENT_COMPONENTS: readonly MetricName[] = [
  ...new Set(Object.values(ENGAGEMENTS).flat()),
];
