// The insights edges (A.2–A.5, A.7): which metrics exist for which object, the two answer shapes
// (`values[]` by day and `total_value` with breakdowns), empty `data` when there is nothing to
// say, and the refusals for deprecated metrics, old timeframes and quiet stories.
import type { Buckets, DayInsights, MetaAccount, MetaPost } from './meta-seed.ts';
import { graphError, invalidMetric, invalidParameter, notEnoughViewers } from './meta-errors.ts';

const DAY = 86_400_000;
/** Meta's documented delay: values of a day settle up to 48 h after it ends. */
export const SETTLE_MS = 48 * 3_600_000;
const IG_USER_RETENTION_MS = 90 * DAY;
const RETENTION_MS = 2 * 365 * DAY;
const PAGE_RANGE_MAX_MS = 90 * DAY;
/** Media created from this day on have no `impressions` (A.4). */
const IMPRESSIONS_CUTOFF = Date.UTC(2024, 6, 2);
const TOP_VALUES = 45;

export type InsightEntry = {
  name: string;
  period: string;
  title: string;
  description: string;
  id: string;
} & ({ values: { value: number | Buckets; end_time?: string }[] } | { total_value: TotalValue });

interface TotalValue {
  value?: number;
  breakdowns?: {
    dimension_keys: string[];
    results: { dimension_values: string[]; value: number }[];
  }[];
}

/** `2019-04-05T07:56:32+0000`, as Graph writes times (A.1). */
export function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

const dayStartOf = (ms: number) => Math.floor(ms / DAY) * DAY;

/** A day's value as the API shows it at `now`: partial until the day has settled. */
function asOf(final: number, dayStart: number, now: number): number {
  const progress = Math.min(1, Math.max(0, (now - dayStart) / (DAY + SETTLE_MS)));
  return Math.floor(final * progress);
}

function entry(
  objectId: string,
  name: string,
  period: string,
  shape: { values: { value: number | Buckets; end_time?: string }[] } | { total_value: TotalValue },
): InsightEntry {
  return {
    name,
    period,
    title: name.replace(/_/g, ' '),
    description: `The fake's ${name.replace(/_/g, ' ')}.`,
    id: `${objectId}/insights/${name}/${period}`,
    ...shape,
  };
}

function metricsOf(query: URLSearchParams): string[] {
  const raw = query.get('metric');
  if (!raw) throw invalidParameter('The parameter metric is required');
  return raw.split(',').map((m) => m.trim());
}

/** Days from the one holding `since` to the last starting by `until` (Unix seconds, inclusive). */
function daysIn(query: URLSearchParams, now: number, fallbackMs: number): number[] {
  const until = query.has('until') ? Number(query.get('until')) * 1000 : now;
  const since = query.has('since') ? Number(query.get('since')) * 1000 : until - fallbackMs;
  if (!Number.isFinite(since) || !Number.isFinite(until) || since > until) {
    throw invalidParameter('since and until must be Unix times, since first');
  }
  const days: number[] = [];
  // The day holding `since` is the first (A.7); days to come have no values yet.
  for (let d = dayStartOf(since); d <= until && d <= dayStartOf(now); d += DAY) days.push(d);
  return days;
}

// --- Instagram account insights (A.2, A.3) ---------------------------------------------------

type DayMetric = keyof DayInsights;
const IG_DAY_METRICS: Record<string, { field: DayMetric; timeSeries: boolean }> = {
  reach: { field: 'reach', timeSeries: true },
  views: { field: 'views', timeSeries: false },
  likes: { field: 'likes', timeSeries: false },
  comments: { field: 'comments', timeSeries: false },
  shares: { field: 'shares', timeSeries: false },
  saves: { field: 'saves', timeSeries: false },
  total_interactions: { field: 'likes', timeSeries: false },
  accounts_engaged: { field: 'accountsEngaged', timeSeries: false },
  follows_and_unfollows: { field: 'follows', timeSeries: false },
};
/** In the metrics table, but the fake has no data for them: answered with empty `data`. */
const IG_QUIET_METRICS = new Set(['profile_links_taps', 'replies', 'reposts']);
const IG_DEMOGRAPHICS = new Set(['follower_demographics', 'engaged_audience_demographics']);
const IG_BREAKDOWNS: Record<string, string[]> = {
  reach: ['media_product_type', 'follow_type'],
  views: ['follower_type', 'media_product_type'],
  likes: ['media_product_type'],
  comments: ['media_product_type'],
  shares: ['media_product_type'],
  saves: ['media_product_type'],
  total_interactions: ['media_product_type'],
  follows_and_unfollows: ['follow_type'],
};
const BREAKDOWN_VALUES: Record<string, string[]> = {
  media_product_type: ['POST', 'CAROUSEL_CONTAINER', 'REEL', 'STORY'],
  follow_type: ['FOLLOWER', 'NON_FOLLOWER'],
  follower_type: ['FOLLOWER', 'NON_FOLLOWER'],
};
const OLD_TIMEFRAMES = new Set(['last_14_days', 'last_30_days', 'last_90_days', 'prev_month']);
const TIMEFRAMES = new Set(['this_month', 'this_week']);

function dayValue(account: MetaAccount, metric: string, day: number): number {
  const d = account.day(day);
  if (metric === 'total_interactions') return d.likes + d.comments + d.shares + d.saves;
  return d[IG_DAY_METRICS[metric]!.field];
}

export function igAccountInsights(
  account: MetaAccount,
  query: URLSearchParams,
  now: number,
): InsightEntry[] {
  const metrics = metricsOf(query);
  const period = query.get('period');
  if (!period) throw invalidParameter('The parameter period is required');
  for (const m of metrics) {
    if (!IG_DAY_METRICS[m] && !IG_QUIET_METRICS.has(m) && !IG_DEMOGRAPHICS.has(m)) {
      throw invalidMetric(m);
    }
  }
  if (metrics.some((m) => IG_DEMOGRAPHICS.has(m))) return igDemographics(account, metrics, query);
  if (period !== 'day')
    throw invalidParameter(`period ${period} is not supported for these metrics`);
  const metricType = query.get('metric_type') ?? 'time_series';
  const breakdown = query.get('breakdown');
  const days = daysIn(query, now, DAY).filter(
    (d) => d >= account.createdAt && d >= dayStartOf(now - IG_USER_RETENTION_MS),
  );
  const out: InsightEntry[] = [];
  for (const m of metrics) {
    if (metricType === 'time_series' && IG_DAY_METRICS[m] && !IG_DAY_METRICS[m].timeSeries) {
      throw invalidParameter(`metric_type=total_value is required for ${m}`);
    }
    if (metricType === 'total_value' && breakdown && !IG_BREAKDOWNS[m]?.includes(breakdown)) {
      // A.2: an unsupported breakdown fails the whole request with this message.
      throw graphError(500, 1, 'An unknown error has occurred.');
    }
    if (IG_QUIET_METRICS.has(m) || days.length === 0) continue;
    if (m === 'follows_and_unfollows' && account.followers < 100) continue;
    if (metricType === 'time_series') {
      const values = days.map((d) => ({
        value: asOf(dayValue(account, m, d), d, now),
        end_time: graphTime(d + DAY),
      }));
      out.push(entry(account.id, m, 'day', { values }));
      continue;
    }
    const value = days.reduce((sum, d) => sum + asOf(dayValue(account, m, d), d, now), 0);
    const total: TotalValue = { value };
    if (breakdown) {
      const keys = BREAKDOWN_VALUES[breakdown] ?? ['UNKNOWN'];
      total.breakdowns = [
        {
          dimension_keys: [breakdown],
          results: splitExactly(value, keys).map(([k, v]) => ({ dimension_values: [k], value: v })),
        },
      ];
    }
    out.push(entry(account.id, m, 'day', { total_value: total }));
  }
  return out;
}

function igDemographics(
  account: MetaAccount,
  metrics: string[],
  query: URLSearchParams,
): InsightEntry[] {
  if (metrics.some((m) => !IG_DEMOGRAPHICS.has(m))) {
    throw invalidParameter('demographic metrics cannot be mixed with other metrics');
  }
  if (query.has('since') || query.has('until')) {
    throw invalidParameter('demographic metrics take a timeframe, not since and until');
  }
  const timeframe = query.get('timeframe');
  if (!timeframe) throw invalidParameter('The parameter timeframe is required');
  if (OLD_TIMEFRAMES.has(timeframe)) {
    throw invalidParameter(
      `timeframe ${timeframe} is no longer supported; use this_month or this_week`,
    );
  }
  if (!TIMEFRAMES.has(timeframe)) throw invalidParameter(`timeframe ${timeframe} is not valid`);
  const breakdown = query.get('breakdown');
  if (
    breakdown !== 'age' &&
    breakdown !== 'gender' &&
    breakdown !== 'country' &&
    breakdown !== 'city'
  ) {
    throw invalidParameter('breakdown must be one of age, city, country, gender');
  }
  if (account.followers < 100) return [];
  const buckets = top(account.demographics[breakdown]);
  return metrics.map((m) =>
    entry(account.id, m, 'lifetime', {
      total_value: {
        breakdowns: [
          {
            dimension_keys: ['timeframe', breakdown],
            results: Object.entries(buckets).map(([k, v]) => ({
              dimension_values: [timeframe.toUpperCase(), k],
              value: m === 'engaged_audience_demographics' ? Math.floor(v / 4) : v,
            })),
          },
        ],
      },
    }),
  );
}

// --- Instagram media insights (A.4, A.5) -----------------------------------------------------

const MEDIA_METRICS: Record<string, ('FEED' | 'REELS' | 'STORY')[]> = {
  comments: ['FEED', 'REELS'],
  follows: ['FEED', 'STORY'],
  ig_reels_avg_watch_time: ['REELS'],
  ig_reels_video_view_total_time: ['REELS'],
  impressions: ['FEED', 'STORY'],
  likes: ['FEED', 'REELS'],
  link_clicks: ['STORY'],
  navigation: ['STORY'],
  profile_activity: ['FEED', 'STORY'],
  profile_visits: ['FEED', 'STORY'],
  reach: ['FEED', 'REELS', 'STORY'],
  reels_skip_rate: ['REELS'],
  replies: ['STORY'],
  reposts: ['FEED', 'REELS', 'STORY'],
  saved: ['FEED', 'REELS'],
  shares: ['FEED', 'REELS', 'STORY'],
  total_interactions: ['FEED', 'REELS', 'STORY'],
  views: ['FEED', 'REELS', 'STORY'],
};

function mediaValue(post: MetaPost, metric: string): number {
  const c = post.counters;
  switch (metric) {
    case 'comments':
      return c.comments;
    case 'likes':
      return c.likes;
    case 'reach':
      return c.reach;
    case 'saved':
      return c.saves;
    case 'shares':
      return c.shares;
    case 'views':
      return c.views;
    case 'impressions':
      return Math.floor(c.views * 0.9);
    case 'total_interactions':
      return c.likes + c.comments + c.saves + c.shares;
    case 'reels_skip_rate':
      return 35;
    default:
      return Math.floor(c.reach * 0.01);
  }
}

export function igMediaInsights(
  post: MetaPost,
  query: URLSearchParams,
  now: number,
  delayMs: number,
): InsightEntry[] {
  const metrics = metricsOf(query);
  for (const m of metrics) {
    const types = MEDIA_METRICS[m];
    if (!types || !types.includes(post.productType)) throw invalidMetric(m);
    if (m === 'impressions' && post.createdAt >= IMPRESSIONS_CUTOFF) throw invalidMetric(m);
  }
  const breakdown = query.get('breakdown');
  if (breakdown && !metrics.every((m) => m === 'navigation' || m === 'profile_activity')) {
    throw graphError(500, 1, 'An unknown error has occurred.');
  }
  if (post.productType === 'STORY' && post.counters.reach < 5) throw notEnoughViewers();
  if (now - post.createdAt < delayMs || now - post.createdAt > RETENTION_MS) return [];
  return metrics.map((m) =>
    entry(post.id, m, 'lifetime', { values: [{ value: mediaValue(post, m) }] }),
  );
}

// --- Facebook Page and post insights (A.7) ---------------------------------------------------

const PAGE_METRICS: Record<string, (d: DayInsights, a: MetaAccount) => number> = {
  page_media_view: (d) => d.views,
  page_total_media_view_unique: (d) => d.reach,
  page_follows: (_, a) => a.followers,
  page_daily_follows_unique: (d) => d.follows,
  page_daily_unfollows_unique: (d) => d.unfollows,
};
const PAGE_DEMOGRAPHICS: Record<string, 'country' | 'city'> = {
  page_follows_country: 'country',
  page_follows_city: 'city',
};

export function pageInsights(
  account: MetaAccount,
  query: URLSearchParams,
  now: number,
): InsightEntry[] {
  if (!query.get('metric')) {
    throw graphError(400, 3001, 'Invalid query', {
      error_subcode: 1504028,
      error_user_title: 'No Metric Specified',
      error_user_msg: 'Name at least one metric.',
      is_transient: false,
    });
  }
  const metrics = metricsOf(query);
  for (const m of metrics) if (!PAGE_METRICS[m] && !PAGE_DEMOGRAPHICS[m]) throw invalidMetric(m);
  const period = query.get('period') ?? 'day';
  const until = query.has('until') ? Number(query.get('until')) * 1000 : now;
  const since = query.has('since') ? Number(query.get('since')) * 1000 : until - 2 * DAY;
  if (until - since > PAGE_RANGE_MAX_MS) {
    throw invalidParameter('There can be at most 90 days between since and until');
  }
  if (account.fans < 100) return [];
  const days = daysIn(query, now, 2 * DAY).filter((d) => d >= dayStartOf(now - RETENTION_MS));
  const out: InsightEntry[] = [];
  for (const m of metrics) {
    const demographic = PAGE_DEMOGRAPHICS[m];
    if (demographic) {
      // Observed: these answer only by day or week, and an empty list for lifetime (A.7).
      if (period === 'lifetime' || account.followers < 100 || days.length === 0) continue;
      if (period !== 'day' && period !== 'week')
        throw invalidParameter(`period ${period} is not valid`);
      const buckets = top(account.demographics[demographic]);
      const values = days.map((d) => ({ value: buckets, end_time: graphTime(d + DAY) }));
      out.push(entry(account.id, m, period, { values }));
      continue;
    }
    if (period !== 'day') throw invalidParameter(`period ${period} is not supported by the fake`);
    if (days.length === 0) continue;
    const values = days.map((d) => ({
      value:
        m === 'page_follows'
          ? account.followers
          : asOf(PAGE_METRICS[m]!(account.day(d), account), d, now),
      end_time: graphTime(d + DAY),
    }));
    out.push(entry(account.id, m, 'day', { values }));
  }
  return out;
}

const POST_METRICS: Record<string, (p: MetaPost) => number | Buckets> = {
  post_media_view: (p) => p.counters.views,
  post_total_media_view_unique: (p) => p.counters.reach,
  post_reactions_by_type_total: (p) => ({ like: p.counters.likes }),
};

export function postInsights(
  post: MetaPost,
  query: URLSearchParams,
  now: number,
  delayMs: number,
): InsightEntry[] {
  const metrics = metricsOf(query);
  for (const m of metrics) if (!POST_METRICS[m]) throw invalidMetric(m);
  const period = query.get('period') ?? 'lifetime';
  if (period !== 'lifetime')
    throw invalidParameter(`period ${period} is not valid for post metrics`);
  if (now - post.createdAt < delayMs || now - post.createdAt > RETENTION_MS) return [];
  return metrics.map((m) =>
    entry(post.id, m, 'lifetime', { values: [{ value: POST_METRICS[m]!(post) }] }),
  );
}

// --- helpers -------------------------------------------------------------------------------

/** The top 45 values of a breakdown (A.2). */
function top(buckets: Buckets): Buckets {
  return Object.fromEntries(
    Object.entries(buckets)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_VALUES),
  );
}

/** Splits `total` over `keys` so the parts add up to it exactly. */
function splitExactly(total: number, keys: string[]): [string, number][] {
  const base = Math.floor(total / keys.length);
  return keys.map((k, i) => [k, i === 0 ? total - base * (keys.length - 1) : base]);
}
