// The Graph reads of a Facebook Page (A.7) and how their answers become Loupe's fields. Only
// metrics that survived the 2024–2025 removals are asked: `page_media_view` and
// `page_total_media_view_unique` (views and reach), `page_follows_country`/`_city`, and
// `post_media_view`; never `page_fans*` or `*impressions*`.
import { z } from 'zod';
import { answerOf, graphTimeMs, insightsSchema } from '../meta/graph-answers.ts';
import { graphGet, lifetimeTotalsReader, postPageReader } from '../meta/graph-reads.ts';
import type { DayValue, MetaSource, NativePost } from '../meta/graph-source.ts';

/** Meta's BUC allowance is per Page across endpoints (A.8): one limiter bucket for all. */
export const FACEBOOK_ENDPOINT = 'pages BUC';
const DAY = 86_400_000;
/** Page insights take at most 90 days per request (A.7). */
const DAYS_PER_CALL = 90;

const pageSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  username: z.string().optional(),
  followers_count: z.number().int().nonnegative().default(0),
});

const summarySchema = z
  .object({ summary: z.object({ total_count: z.number().int().nonnegative() }).optional() })
  .optional();
const postSchema = z.object({
  id: z.string(),
  message: z.string().optional(),
  created_time: z.string(),
  permalink_url: z.url().optional(),
  status_type: z.string().optional(),
  // A post never shared has no `shares` field.
  shares: z.object({ count: z.number().int().nonnegative() }).optional(),
  reactions: summarySchema,
  comments: summarySchema,
});

const countSchema = z.object({
  summary: z.object({ total_count: z.number().int().nonnegative() }).optional(),
});

const POST_FIELDS = [
  'id',
  'message',
  'created_time',
  'permalink_url',
  'status_type',
  'shares',
  'reactions.summary(total_count).limit(0)',
  'comments.summary(total_count).limit(0)',
].join(',');
const POST_METRICS = { post_media_view: 'views', post_total_media_view_unique: 'reach' } as const;
const PAGE_METRICS = { page_media_view: 'views', page_total_media_view_unique: 'reach' } as const;

function mediaTypeOf(status: string | undefined): NativePost['mediaType'] {
  if (status === 'added_photos') return 'image';
  if (status === 'added_video') return 'video';
  if (status === 'shared_story') return 'link';
  return 'text';
}

const get = graphGet(FACEBOOK_ENDPOINT);

export const facebookSource: MetaSource = {
  async profile(api, nativeId) {
    const page = answerOf(
      pageSchema,
      await get(api, `/${nativeId}`, { fields: 'id,name,username,followers_count' }),
      'Facebook Page',
    );
    // Pages have no post count field; the posts edge's summary carries it.
    const list = answerOf(
      countSchema,
      await get(api, `/${nativeId}/published_posts`, {
        fields: 'id',
        limit: 1,
        summary: 'total_count',
      }),
      'Facebook Page posts',
    );
    return {
      handle: page.username ?? page.id,
      displayName: page.name ?? '',
      followers: page.followers_count,
      // Pages follow no one.
      following: 0,
      postCount: list.summary?.total_count ?? 0,
    };
  },

  posts: postPageReader({
    get,
    edge: '/published_posts',
    fields: POST_FIELDS,
    item: postSchema,
    what: 'Facebook Page posts',
    toPost: (p) => ({
      nativeId: p.id,
      publishedAt: graphTimeMs(p.created_time),
      content: p.message ?? '',
      ...(p.permalink_url !== undefined && { url: p.permalink_url }),
      mediaType: mediaTypeOf(p.status_type),
      totals: {
        // Reactions of every kind: a Page post's closest thing to likes.
        ...(p.reactions?.summary && { likes: p.reactions.summary.total_count }),
        ...(p.comments?.summary && { comments: p.comments.summary.total_count }),
        shares: p.shares?.count ?? 0,
      },
    }),
  }),

  postTotals: lifetimeTotalsReader({
    get,
    metrics: POST_METRICS,
    what: 'Facebook post insights',
  }),

  async dayInsights(api, nativeId, days) {
    const out: DayValue[] = [];
    const wanted = new Set(days);
    for (let i = 0; i < days.length; i += DAYS_PER_CALL) {
      const chunk = days.slice(i, i + DAYS_PER_CALL);
      const body = await get(api, `/${nativeId}/insights`, {
        metric: Object.keys(PAGE_METRICS).join(','),
        period: 'day',
        since: chunk[0]! / 1000,
        until: (chunk[chunk.length - 1]! + DAY) / 1000 - 1,
      });
      for (const entry of answerOf(insightsSchema, body, 'Facebook Page insights').data) {
        const metric = PAGE_METRICS[entry.name as keyof typeof PAGE_METRICS];
        if (!metric) continue;
        for (const v of entry.values ?? []) {
          // A day's value is stamped with its end (`end_time`).
          const day = v.end_time === undefined ? undefined : graphTimeMs(v.end_time) - DAY;
          if (day !== undefined && wanted.has(day) && typeof v.value === 'number') {
            out.push({ day, metric, value: v.value });
          }
        }
      }
    }
    return out;
  },

  async audience(api, nativeId, lastSettledDay) {
    const body = await get(api, `/${nativeId}/insights`, {
      metric: 'page_follows_country,page_follows_city',
      period: 'day',
      since: lastSettledDay / 1000,
      until: (lastSettledDay + DAY) / 1000 - 1,
    });
    const entries = answerOf(insightsSchema, body, 'Facebook Page demographics').data;
    const latest = (name: string) => {
      const value = entries.find((e) => e.name === name)?.values?.at(-1)?.value;
      return typeof value === 'object' ? value : undefined;
    };
    const country = latest('page_follows_country');
    const city = latest('page_follows_city');
    // Under 100 followers Meta answers no values (A.7); age and gender left with page_fans_*.
    if (!country && !city) return null;
    return { ...(country && { country }), ...(city && { city }) };
  },
};
