// Resolvers of the posts analytics: Post.lifetime, engagement rates and hashtags, Query.topPosts,
// hashtagTrends, bestTimeToPost and feed. Every read is scoped by the caller's organisation and
// batched per request.
import DataLoader from 'dataloader';
import { badInput } from '../../lib/graphql/errors.ts';
import { perRequest } from '../../lib/graphql/request-scope.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import type { Platform } from '../../schema/event-envelope.ts';
import { normaliseHashtag } from './hashtag.ts';
import {
  engagementRateOf,
  type HashtagPeriod,
  type PostAnalyticsStore,
  type PostMetric,
  type PostRanking,
  type PostStats,
  type RankPosition,
  type SlotRow,
} from './post-analytics.store.ts';
import type { MediaType, PostSelection, RateBasis } from './post-stats.sql.ts';
import type { Post, PostsStore } from './posts.store.ts';

export const MAX_FEED_ACCOUNTS = 100;
const MAX_PAGE = 100;
/** Longer ranges are refused: ten years of posts. */
const MAX_RANGE_MS = 3660 * 86_400_000;

interface Range {
  from: number;
  to: number;
}

interface PostFilterInput {
  platforms?: Platform[] | null;
  mediaTypes?: MediaType[] | null;
  hashtag?: string | null;
}

function checkRange(range: Range): Range {
  if (range.from > range.to) throw badInput('range.from must not be after range.to');
  if (range.to - range.from > MAX_RANGE_MS) throw badInput('range must be at most ten years');
  return range;
}

function checkCount(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badInput(`${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function selection(
  range: Range,
  filter: PostFilterInput | null | undefined,
): PostSelection & Range {
  const { from, to } = checkRange(range);
  const hashtag = filter?.hashtag == null ? undefined : normaliseHashtag(filter.hashtag);
  if (hashtag === '') throw badInput('filter.hashtag must not be empty');
  return {
    from,
    to,
    ...(filter?.platforms != null && { platforms: filter.platforms }),
    ...(filter?.mediaTypes != null && { mediaTypes: filter.mediaTypes }),
    ...(hashtag !== undefined && { hashtag }),
  };
}

/** Cursors are opaque to callers: base64url of a JSON array. */
function encode(value: unknown[]): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode(cursor: string, valid: (v: unknown[]) => boolean): unknown[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && valid(value)) return value;
  } catch {
    // Not JSON: reported below like any other foreign string.
  }
  throw badInput('after is not a cursor returned by this API');
}

/** A ranking cursor: the last post's value and id, and its rank so the next page goes on from it. */
const rankCursor = (cursor: string): RankPosition & { rank: number } => {
  const [value, id, rank] = decode(
    cursor,
    (v) =>
      v.length === 3 &&
      Number.isFinite(v[0]) &&
      typeof v[1] === 'string' &&
      Number.isSafeInteger(v[2]),
  ) as [number, string, number];
  return { value, id, rank };
};

const feedCursor = (cursor: string) => {
  const [publishedAt, id] = decode(
    cursor,
    (v) => v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string',
  ) as [number, string];
  return { publishedAt, id };
};

function ranking(by: {
  metric?: PostMetric | null;
  engagementRate?: RateBasis | null;
}): PostRanking {
  if ((by.metric == null) === (by.engagementRate == null)) {
    throw badInput('by takes exactly one of metric or engagementRate');
  }
  return by.metric != null ? { metric: by.metric } : { rate: by.engagementRate! };
}

const mean = (p: HashtagPeriod) => (p.rated === 0 ? null : p.rateSum / p.rated);
const percent = (now: number, before: number) =>
  before === 0 ? null : ((now - before) / before) * 100;

function period(p: HashtagPeriod) {
  return { posts: p.posts, engagements: p.engagements, averageEngagementRate: mean(p) };
}

/** Every slot of the week, Monday 00:00 first, with the average withheld below `minPosts`. */
export function postingSlots(rows: readonly SlotRow[], minPosts: number) {
  const byKey = new Map(rows.map((r) => [r.dayOfWeek * 24 + r.hour, r]));
  const slots = [];
  for (let day = 1; day <= 7; day++) {
    for (let hour = 0; hour < 24; hour++) {
      const r = byKey.get(day * 24 + hour);
      const rated = r?.rated ?? 0;
      const tooFewPosts = rated < minPosts || rated === 0;
      slots.push({
        dayOfWeek: day,
        hour,
        posts: r?.posts ?? 0,
        ratedPosts: rated,
        tooFewPosts,
        averageEngagementRate: tooFewPosts ? null : r!.rateSum / rated,
      });
    }
  }
  return slots;
}

export function postAnalyticsResolvers(deps: {
  store: PostsStore;
  analytics: PostAnalyticsStore;
  /** The engine's name for an IANA zone, or null when it has none: slots are cut by the engine. */
  timeZone: (name: string) => Promise<string | null>;
}) {
  const { store, analytics } = deps;
  const loaders = perRequest((ctx) => {
    const org = ctx.caller.orgId;
    return {
      stats: new DataLoader<string, PostStats | null>((ids) => analytics.byIds(org, ids)),
      hashtags: new DataLoader<string, string[]>((ids) => analytics.hashtagsOf(org, ids)),
    };
  });
  const statsOf = (post: Post, ctx: SubgraphContext) =>
    'lifetime' in post ? (post as PostStats) : loaders(ctx).stats.load(post.id);

  return {
    Platform: {
      FACEBOOK: 'facebook',
      INSTAGRAM: 'instagram',
      X: 'x',
      TIKTOK: 'tiktok',
      APP: 'app',
    },
    MediaType: { TEXT: 'text', IMAGE: 'image', VIDEO: 'video', CAROUSEL: 'carousel', LINK: 'link' },
    EngagementRateBasis: {
      FOLLOWERS: 'followers',
      REACH: 'reach',
      IMPRESSIONS: 'impressions',
      VIEWS: 'views',
    },
    PostMetric: {
      LIKES: 'likes',
      COMMENTS: 'comments',
      SHARES: 'shares',
      SAVES: 'saves',
      VIEWS: 'views',
      IMPRESSIONS: 'impressions',
      REACH: 'reach',
      CLICKS: 'clicks',
      QUOTES: 'quotes',
      BOOKMARKS: 'bookmarks',
      ENGAGEMENTS: 'engagements',
    },
    Query: {
      async topPosts(
        _: unknown,
        args: {
          range: Range;
          by: { metric?: PostMetric | null; engagementRate?: RateBasis | null };
          filter?: PostFilterInput | null;
          first: number;
          after?: string | null;
        },
        ctx: SubgraphContext,
      ) {
        const first = checkCount('first', args.first, 1, MAX_PAGE);
        const after = args.after == null ? undefined : rankCursor(args.after);
        const page = await analytics.top(ctx.caller.orgId, {
          ...selection(args.range, args.filter),
          by: ranking(args.by),
          first,
          ...(after && { after: { value: after.value, id: after.id } }),
        });
        const offset = after?.rank ?? 0;
        const stats = loaders(ctx).stats;
        const last = page.nodes.at(-1);
        return {
          nodes: page.nodes.map((n, i) => {
            stats.prime(n.post.id, n.post);
            return { rank: offset + i + 1, value: n.value, post: n.post };
          }),
          endCursor:
            page.hasMore && last
              ? encode([last.value, last.post.id, offset + page.nodes.length])
              : null,
        };
      },

      async hashtagTrends(
        _: unknown,
        args: {
          range: Range;
          minPosts: number;
          basis: RateBasis;
          filter?: PostFilterInput | null;
          first: number;
        },
        ctx: SubgraphContext,
      ) {
        const minPosts = checkCount('minPosts', args.minPosts, 1, 1_000_000);
        const first = checkCount('first', args.first, 1, MAX_PAGE);
        const sel = selection(args.range, args.filter);
        const rows = await analytics.hashtagTrends(ctx.caller.orgId, sel, args.basis);
        const trends = rows
          .filter((r) => r.current.posts >= minPosts)
          .sort(
            (a, b) =>
              b.current.posts - a.current.posts ||
              b.current.engagements - a.current.engagements ||
              (a.hashtag < b.hashtag ? -1 : a.hashtag > b.hashtag ? 1 : 0),
          )
          .slice(0, first)
          .map((r) => {
            const now = mean(r.current);
            const before = mean(r.previous);
            return {
              hashtag: r.hashtag,
              current: period(r.current),
              previous: period(r.previous),
              postsChange: r.current.posts - r.previous.posts,
              postsChangePercent: percent(r.current.posts, r.previous.posts),
              engagementsChange: r.current.engagements - r.previous.engagements,
              engagementsChangePercent: percent(r.current.engagements, r.previous.engagements),
              averageEngagementRateChange: now === null || before === null ? null : now - before,
            };
          });
        return { basis: args.basis, comparedFrom: 2 * sel.from - sel.to, trends };
      },

      async bestTimeToPost(
        _: unknown,
        args: {
          range: Range;
          basis: RateBasis;
          timeZone?: string | null;
          minPosts: number;
          top: number;
          filter?: PostFilterInput | null;
        },
        ctx: SubgraphContext,
      ) {
        const minPosts = checkCount('minPosts', args.minPosts, 1, 1_000_000);
        const top = checkCount('top', args.top, 0, 168);
        const sel = selection(args.range, args.filter);
        const timeZone = await deps.timeZone(args.timeZone ?? ctx.caller.timeZone);
        if (timeZone === null) {
          throw badInput(
            `timeZone must be an IANA time zone such as Europe/Paris, got "${args.timeZone}"`,
          );
        }
        const slots = postingSlots(
          await analytics.slots(ctx.caller.orgId, sel, args.basis, timeZone),
          minPosts,
        );
        const topSlots = slots
          .filter((s) => s.averageEngagementRate !== null)
          .sort(
            (a, b) =>
              b.averageEngagementRate! - a.averageEngagementRate! || b.ratedPosts - a.ratedPosts,
          )
          .slice(0, top);
        return { timeZone, basis: args.basis, minPosts, slots, topSlots };
      },

      async feed(
        _: unknown,
        args: { accountIds: string[]; first: number; after?: string | null },
        ctx: SubgraphContext,
      ) {
        if (args.accountIds.length > MAX_FEED_ACCOUNTS) {
          throw badInput(`accountIds must name at most ${MAX_FEED_ACCOUNTS} accounts`);
        }
        const first = checkCount('first', args.first, 1, MAX_PAGE);
        const after = args.after == null ? undefined : feedCursor(args.after);
        const page = await store.feed(ctx.caller.orgId, args.accountIds, {
          first,
          ...(after && { after }),
        });
        const last = page.nodes.at(-1);
        return {
          nodes: page.nodes,
          endCursor: page.hasMore && last ? encode([last.publishedAt, last.id]) : null,
        };
      },
    },
    Post: {
      platform: async (post: Post, _: unknown, ctx: SubgraphContext) =>
        (await statsOf(post, ctx))?.platform ?? null,
      hashtags: (post: Post, _: unknown, ctx: SubgraphContext) =>
        loaders(ctx).hashtags.load(post.id),
      lifetime: async (post: Post, _: unknown, ctx: SubgraphContext) =>
        (await statsOf(post, ctx))?.lifetime ?? null,
      followersAtPosting: async (post: Post, _: unknown, ctx: SubgraphContext) =>
        (await statsOf(post, ctx))?.followers ?? null,
      async engagementRate(post: Post, args: { basis: RateBasis }, ctx: SubgraphContext) {
        const stats = await statsOf(post, ctx);
        return stats ? engagementRateOf(stats, args.basis) : null;
      },
    },
  };
}
