// The Graph reads of an Instagram professional account (A.2–A.6) and how their answers become
// Loupe's fields. Only current metrics are asked: `views`, never `impressions` or `plays`
// (deprecated in v22, refused for media created after 2024-07-01, A.4).
import { z } from 'zod';
import { answerOf, graphTimeMs, insightsSchema } from '../meta/graph-answers.ts';
import { graphGet, lifetimeTotalsReader, postPageReader } from '../meta/graph-reads.ts';
import type { Audience, DayValue, MetaSource, NativePost } from '../meta/graph-source.ts';

/** Meta's BUC allowance is per app+user across endpoints (A.8): one limiter bucket for all. */
export const INSTAGRAM_ENDPOINT = 'instagram BUC';
const DAY = 86_400_000;

const userSchema = z.object({
  id: z.string(),
  username: z.string().min(1),
  name: z.string().optional(),
  followers_count: z.number().int().nonnegative(),
  follows_count: z.number().int().nonnegative().default(0),
  media_count: z.number().int().nonnegative(),
});

const mediaSchema = z.object({
  id: z.string(),
  caption: z.string().optional(),
  media_type: z.string(),
  media_product_type: z.string().optional(),
  permalink: z.url().optional(),
  timestamp: z.string(),
  like_count: z.number().int().nonnegative().optional(),
  comments_count: z.number().int().nonnegative().optional(),
});

const MEDIA_FIELDS =
  'id,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count';
/** Lifetime media insights for feed and reels alike (A.5), and what Loupe calls them. */
const MEDIA_METRICS = { views: 'views', reach: 'reach', saved: 'saves', shares: 'shares' } as const;
const AUDIENCE_BREAKDOWNS = ['age', 'gender', 'country', 'city'] as const;

function mediaTypeOf(type: string): NativePost['mediaType'] {
  if (type === 'IMAGE') return 'image';
  if (type === 'VIDEO') return 'video';
  if (type === 'CAROUSEL_ALBUM') return 'carousel';
  return undefined;
}

const get = graphGet(INSTAGRAM_ENDPOINT);

export const instagramSource: MetaSource = {
  async profile(api, nativeId) {
    const body = await get(api, `/${nativeId}`, {
      fields: 'id,username,name,followers_count,follows_count,media_count',
    });
    const user = answerOf(userSchema, body, 'Instagram profile');
    return {
      handle: user.username,
      displayName: user.name ?? '',
      followers: user.followers_count,
      following: user.follows_count,
      postCount: user.media_count,
    };
  },

  posts: postPageReader({
    get,
    edge: '/media',
    fields: MEDIA_FIELDS,
    item: mediaSchema,
    what: 'Instagram media',
    toPost: (m) => ({
      nativeId: m.id,
      publishedAt: graphTimeMs(m.timestamp),
      content: m.caption ?? '',
      ...(m.permalink !== undefined && { url: m.permalink }),
      mediaType: mediaTypeOf(m.media_type),
      totals: {
        ...(m.like_count !== undefined && { likes: m.like_count }),
        ...(m.comments_count !== undefined && { comments: m.comments_count }),
      },
    }),
  }),

  postTotals: lifetimeTotalsReader({
    get,
    metrics: MEDIA_METRICS,
    what: 'Instagram media insights',
  }),

  async dayInsights(api, nativeId, days) {
    const out: DayValue[] = [];
    // `views` has no time series (A.2): one total_value read per day, inclusive bounds.
    for (const day of days) {
      const body = await get(api, `/${nativeId}/insights`, {
        metric: 'reach,views',
        period: 'day',
        metric_type: 'total_value',
        since: day / 1000,
        until: (day + DAY) / 1000 - 1,
      });
      for (const entry of answerOf(insightsSchema, body, 'Instagram account insights').data) {
        const value = entry.total_value?.value;
        if ((entry.name === 'reach' || entry.name === 'views') && value !== undefined) {
          out.push({ day, metric: entry.name, value });
        }
      }
    }
    return out;
  },

  async audience(api, nativeId) {
    const audience: Audience = {};
    for (const breakdown of AUDIENCE_BREAKDOWNS) {
      // this_month: the older timeframes (last_30_days, …) are refused since v20 (A.3).
      const body = await get(api, `/${nativeId}/insights`, {
        metric: 'follower_demographics',
        period: 'lifetime',
        metric_type: 'total_value',
        timeframe: 'this_month',
        breakdown,
      });
      const entry = answerOf(insightsSchema, body, 'Instagram demographics').data[0];
      // Under 100 followers Meta answers no entry at all (A.2).
      if (!entry) return null;
      const buckets: Record<string, number> = {};
      for (const group of entry.total_value?.breakdowns ?? []) {
        const at = group.dimension_keys.indexOf(breakdown);
        if (at < 0) continue;
        for (const r of group.results) {
          const key = r.dimension_values[at];
          if (key) buckets[key] = (buckets[key] ?? 0) + r.value;
        }
      }
      audience[breakdown] = buckets;
    }
    return audience;
  },
};
