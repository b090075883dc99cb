// Posts analytics from the OLAP store: lifetime metrics and engagement rates of posts, top posts,
// hashtag trends against the previous period, and the best time to post. Every statement starts
// from post-stats.sql.ts and is scoped by the caller's organisation.
import type { Olap, OlapParams } from '../../lib/olap/olap.port.ts';
import { ENGAGEMENT_METRICS, type Platform } from '../../schema/event-envelope.ts';
import { toPost, type Post, type PostRow } from './posts.store.ts';
import { postStatsSql, rateSql, type PostSelection, type RateBasis } from './post-stats.sql.ts';

export type PostMetric = (typeof ENGAGEMENT_METRICS)[number] | 'engagements';

export interface PostStats extends Post {
  platform: Platform;
  /** Lifetime value of every counter, and engagements by the platform's definition. */
  lifetime: Record<PostMetric, number>;
  /** The account's followers at the time of posting; null without a level by then. */
  followers: number | null;
}

/** What top posts are ordered by: a lifetime metric, or an engagement rate. */
export type PostRanking = { metric: PostMetric } | { rate: RateBasis };

/** A position in a ranking: the last post of the previous page. */
export interface RankPosition {
  value: number;
  id: string;
}

export interface TopPostsArgs extends PostSelection {
  from: number;
  to: number;
  by: PostRanking;
  first: number;
  after?: RankPosition;
}

export interface RankedPost {
  post: PostStats;
  value: number;
}

export interface HashtagPeriod {
  posts: number;
  engagements: number;
  /** Sum and count of the rates of posts that have one, so averages are exact to recompute. */
  rateSum: number;
  rated: number;
}

export interface HashtagTrendRow {
  hashtag: string;
  current: HashtagPeriod;
  previous: HashtagPeriod;
}

export interface SlotRow {
  /** ISO day of week, 1 = Monday. */
  dayOfWeek: number;
  hour: number;
  posts: number;
  rated: number;
  rateSum: number;
}

interface StatsRow extends PostRow {
  platform: string;
  engagements: number;
  followers: number | null;
  sort_value?: number;
  [column: `m_${string}`]: number;
}

const STATS_COLUMNS = `account_id, post_id, platform, media_type, content, url, published_ms,
  engagements, followers, ${ENGAGEMENT_METRICS.map((m) => `m_${m}`).join(', ')}`;

function toStats(r: StatsRow): PostStats {
  const lifetime = { engagements: r.engagements } as Record<PostMetric, number>;
  for (const m of ENGAGEMENT_METRICS) lifetime[m] = r[`m_${m}`] ?? 0;
  return {
    ...toPost(r),
    platform: r.platform as Platform,
    lifetime,
    followers: r.followers,
  };
}

/** The rate of one post, by the same rule as rateSql: null without a positive denominator. */
export function engagementRateOf(stats: PostStats, basis: RateBasis): number | null {
  const denominator = basis === 'followers' ? (stats.followers ?? 0) : stats.lifetime[basis];
  return denominator > 0 ? stats.lifetime.engagements / denominator : null;
}

function sortSql(by: PostRanking): string {
  return 'rate' in by
    ? rateSql(by.rate)
    : by.metric === 'engagements'
      ? 'engagements'
      : `m_${by.metric}`;
}

const EMPTY_PERIOD: HashtagPeriod = { posts: 0, engagements: 0, rateSum: 0, rated: 0 };

export interface PostAnalyticsStore {
  /** Stats of each post, in the order asked; null for posts the organisation does not have. */
  byIds(orgId: string, ids: readonly string[]): Promise<(PostStats | null)[]>;
  /** One page of posts published in the range, best first, ties by id; posts without a rate are left out. */
  top(orgId: string, args: TopPostsArgs): Promise<{ nodes: RankedPost[]; hasMore: boolean }>;
  /** Per hashtag of the posts published in [from, to) or in the period of the same length before. */
  hashtagTrends(
    orgId: string,
    sel: PostSelection & { from: number; to: number },
    basis: RateBasis,
  ): Promise<HashtagTrendRow[]>;
  /** The hashtags of each post's latest version, sorted, in the order asked. */
  hashtagsOf(orgId: string, ids: readonly string[]): Promise<string[][]>;
  /** Posts published in the range per local day of week and hour of `timeZone` (slots with posts only). */
  slots(
    orgId: string,
    sel: PostSelection & { from: number; to: number },
    basis: RateBasis,
    timeZone: string,
  ): Promise<SlotRow[]>;
}

export function createPostAnalyticsStore(olap: Olap): PostAnalyticsStore {
  return {
    async byIds(orgId, ids) {
      const params: OlapParams = { org: orgId };
      const rows = await olap.query<StatsRow>(
        `${postStatsSql({ postIds: ids }, params)} SELECT ${STATS_COLUMNS} FROM s`,
        params,
      );
      const byId = new Map(rows.map((r) => [r.post_id, toStats(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    async hashtagsOf(orgId, ids) {
      const rows = await olap.query<{ post_id: string; tags: string[] }>(
        `SELECT post_id, arraySort(groupUniqArray(hashtag)) AS tags FROM post_hashtags
         WHERE org_id = {org:String} AND post_id IN {ids:Array(String)}
           AND (account_id, post_id, version) IN (
             SELECT account_id, post_id, max(version) FROM posts
             WHERE org_id = {org:String} AND post_id IN {ids:Array(String)}
             GROUP BY account_id, post_id)
         GROUP BY post_id`,
        { org: orgId, ids: [...new Set(ids)] },
      );
      const byId = new Map(rows.map((r) => [r.post_id, r.tags]));
      return ids.map((id) => byId.get(id) ?? []);
    },

    async top(orgId, args) {
      const params: OlapParams = { org: orgId, limit: args.first + 1 };
      const after = args.after
        ? '(sort_value < {afterValue:Float64} OR (sort_value = {afterValue:Float64} AND post_id > {afterId:String}))'
        : '1';
      if (args.after) {
        params['afterValue'] = args.after.value;
        params['afterId'] = args.after.id;
      }
      // One row past the page says whether another page follows.
      const rows = await olap.query<StatsRow>(
        `${postStatsSql(args, params)}
         SELECT ${STATS_COLUMNS}, toFloat64(${sortSql(args.by)}) AS sort_value FROM s
         WHERE sort_value IS NOT NULL AND ${after}
         ORDER BY sort_value DESC, post_id ASC
         LIMIT {limit:UInt32}`,
        params,
      );
      const nodes = rows.map((r) => ({ post: toStats(r), value: r.sort_value ?? 0 }));
      return { nodes: nodes.slice(0, args.first), hasMore: nodes.length > args.first };
    },

    async hashtagTrends(orgId, sel, basis) {
      const params: OlapParams = { org: orgId };
      const span = sel.to - sel.from;
      const stats = postStatsSql({ ...sel, from: sel.from - span, to: sel.to }, params, {
        hashtags: true,
      });
      params['current'] = sel.from;
      const rate = rateSql(basis);
      const rows = await olap.query<{
        hashtag: string;
        current: number;
        n: number | string;
        engagement_sum: number;
        rate_sum: number | null;
        rated: number | string;
      }>(
        // The hashtags of each post's latest version, as extracted at insert: no join, no regex.
        `${stats}
         SELECT hashtag, toUInt8(published_ms >= {current:Int64}) AS current, count() AS n,
                sum(engagements) AS engagement_sum, sum(${rate}) AS rate_sum, count(${rate}) AS rated
         FROM s ARRAY JOIN hashtags AS hashtag
         GROUP BY hashtag, current`,
        params,
      );
      const byTag = new Map<string, HashtagTrendRow>();
      for (const r of rows) {
        const trend = byTag.get(r.hashtag) ?? {
          hashtag: r.hashtag,
          current: EMPTY_PERIOD,
          previous: EMPTY_PERIOD,
        };
        const period: HashtagPeriod = {
          posts: Number(r.n),
          engagements: r.engagement_sum,
          rateSum: r.rate_sum ?? 0,
          rated: Number(r.rated),
        };
        if (Number(r.current) === 1) trend.current = period;
        else trend.previous = period;
        byTag.set(r.hashtag, trend);
      }
      return [...byTag.values()];
    },

    async slots(orgId, sel, basis, timeZone) {
      const params: OlapParams = { org: orgId, tz: timeZone };
      const rate = rateSql(basis);
      const rows = await olap.query<{
        dow: number;
        hour: number;
        n: number | string;
        rated: number | string;
        rate_sum: number | null;
      }>(
        `${postStatsSql(sel, params)}
         SELECT toDayOfWeek(published_at, 0, {tz:String}) AS dow,
                toHour(toTimeZone(published_at, {tz:String})) AS hour,
                count() AS n, count(${rate}) AS rated, sum(${rate}) AS rate_sum
         FROM s
         GROUP BY dow, hour`,
        params,
      );
      return rows.map((r) => ({
        dayOfWeek: r.dow,
        hour: r.hour,
        posts: Number(r.n),
        rated: Number(r.rated),
        rateSum: r.rate_sum ?? 0,
      }));
    },
  };
}
