// A competitor set over one range: the head-to-head figures of every member, the landscape,
// shares of voice, top and breakout posts. Three reads for the whole set, each made once and only
// when a field asks for it: the metric series grouped by account (the metrics store), the
// mentions and the posts published in the range (set-reads.ts); all three are kept between
// queries while the events they come from are unchanged.
import { bucketStarts, type Granularity } from '../../lib/time/zoned-buckets.ts';
import type { MetricName, Platform } from '../../schema/event-envelope.ts';
import {
  BASIS_METRIC,
  engagementRate,
  type EngagementRate,
  type RateBasis,
} from '../metrics/engagement-rate.ts';
import type { MetricSeries, MetricsStore } from '../metrics/metrics.store.ts';
import { breakouts, landscapeStat, percentileRanks, share } from './benchmark-stats.ts';
import type { PostCounter, SetPost } from './set-reads.sql.ts';
import type { SetReads } from './set-reads.ts';

const WEEK_MS = 7 * 24 * 3_600_000;

export interface BenchmarkRequest {
  orgId: string;
  /** In the set's order. */
  members: readonly { id: string; platform: Platform }[];
  from: number;
  to: number;
  granularity: Granularity;
  timeZone: string;
  /** The series each member reports, in this order. */
  metrics: readonly MetricName[];
  basis: RateBasis;
}

export type PostRanking = { metric: PostCounter | 'engagements' } | { rate: RateBasis };

export interface MemberFigures {
  accountId: string;
  platform: Platform;
  series: (MetricSeries & { percentileRank: number | null })[];
  engagements: number;
  engagementRate: EngagementRate;
  followerGrowth: { start: number; end: number; change: number; changePercent: number | null };
  posts: number;
  postsPerWeek: number;
  averageEngagementPerPost: number | null;
  ranks: Record<RankedFigure, number | null>;
  /** Engagements per bucket, for shares of voice. */
  engagementPoints: number[];
}

const RANKED = [
  'engagements',
  'engagementRate',
  'followerGrowthPercent',
  'postsPerWeek',
  'averageEngagementPerPost',
] as const;
type RankedFigure = (typeof RANKED)[number];

function once<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => (pending ??= read());
}

function figureOf(m: Omit<MemberFigures, 'ranks'>, figure: RankedFigure): number | null {
  switch (figure) {
    case 'engagements':
      return m.engagements;
    case 'engagementRate':
      return m.engagementRate.total;
    case 'followerGrowthPercent':
      return m.followerGrowth.changePercent;
    case 'postsPerWeek':
      return m.postsPerWeek;
    case 'averageEngagementPerPost':
      return m.averageEngagementPerPost;
  }
}

/** A post's value in a ranking; null when it has none (a rate without a basis). */
export function rankingValue(post: SetPost, by: PostRanking): number | null {
  if ('metric' in by)
    return by.metric === 'engagements' ? post.engagements : post.lifetime[by.metric];
  const denominator = by.rate === 'followers' ? (post.followers ?? 0) : post.lifetime[by.rate];
  return denominator > 0 ? post.engagements / denominator : null;
}

export function createBenchmark(
  deps: { store: MetricsStore; sets: SetReads },
  q: BenchmarkRequest,
) {
  const { store, sets } = deps;
  const accountIds = q.members.map((m) => m.id);
  const buckets = bucketStarts(q.from, q.to, q.granularity, q.timeZone);
  const scope = { orgId: q.orgId, accountIds, from: q.from, to: q.to };
  const basisMetric = BASIS_METRIC[q.basis];
  const read = [...new Set<MetricName>([...q.metrics, 'engagements', 'followers', basisMetric])];

  const series = once(() =>
    store.read({
      ...scope,
      granularity: q.granularity,
      timeZone: q.timeZone,
      metrics: read,
      groupBy: 'account',
      platforms: new Map(q.members.map((m) => [m.id, m.platform])),
    }),
  );
  const mentions = once(() => sets.mentions(scope, buckets));
  const posts = once(() => sets.posts(scope));

  const members = once(async (): Promise<MemberFigures[]> => {
    const [answer, published] = await Promise.all([series(), posts()]);
    const empty = (metric: MetricName): MetricSeries => ({
      metric,
      total: 0,
      startLevel: 0,
      points: buckets.map((at) => ({ at, value: 0 })),
    });
    const weeks = (q.to - q.from) / WEEK_MS;
    const partial = q.members.map((member) => {
      const list = answer.groups.get(member.id) ?? [];
      const of = (metric: MetricName) => list[read.indexOf(metric)] ?? empty(metric);
      const followers = of('followers');
      const own = published.filter((p) => p.accountId === member.id);
      const engagementsSum = own.reduce((sum, p) => sum + p.engagements, 0);
      return {
        accountId: member.id,
        platform: member.platform,
        series: q.metrics.map((metric) => ({ ...of(metric), percentileRank: null })),
        engagements: of('engagements').total,
        engagementRate: engagementRate(q.basis, of('engagements'), of(basisMetric)),
        followerGrowth: {
          start: followers.startLevel,
          end: followers.startLevel + followers.total,
          change: followers.total,
          changePercent:
            followers.startLevel > 0 ? (100 * followers.total) / followers.startLevel : null,
        },
        posts: own.length,
        postsPerWeek: own.length / weeks,
        averageEngagementPerPost: own.length > 0 ? engagementsSum / own.length : null,
        engagementPoints: of('engagements').points.map((p) => p.value),
      };
    });
    const ranks = RANKED.map((figure) => percentileRanks(partial.map((m) => figureOf(m, figure))));
    const seriesRanks = q.metrics.map((_, i) =>
      percentileRanks(partial.map((m) => m.series[i]!.total)),
    );
    return partial.map((m, j) => ({
      ...m,
      series: m.series.map((s, i) => ({ ...s, percentileRank: seriesRanks[i]![j]! })),
      ranks: Object.fromEntries(RANKED.map((f, i) => [f, ranks[i]![j]!])) as Record<
        RankedFigure,
        number | null
      >,
    }));
  });

  return {
    buckets,
    members,
    async landscape() {
      const all = await members();
      const stat = (figure: RankedFigure) => landscapeStat(all.map((m) => figureOf(m, figure)));
      return {
        series: q.metrics.map((metric, i) => ({
          metric,
          ...landscapeStat(all.map((m) => m.series[i]!.total)),
        })),
        ...Object.fromEntries(RANKED.map((f) => [f, stat(f)])),
      };
    },
    async shareOfVoice() {
      const [all, counted] = await Promise.all([members(), mentions()]);
      const mentionsOf = (id: string) =>
        counted.get(id) ?? new Array<number>(buckets.length).fill(0);
      const sum = (list: number[]) => list.reduce((a, b) => a + b, 0);
      const bucketMentions = buckets.map((_, i) =>
        sum(all.map((m) => mentionsOf(m.accountId)[i]!)),
      );
      const bucketEngagements = buckets.map((_, i) =>
        sum(all.map((m) => m.engagementPoints[i] ?? 0)),
      );
      const totalMentions = sum(bucketMentions);
      const totalEngagements = sum(all.map((m) => m.engagements));
      return {
        mentions: totalMentions,
        engagements: totalEngagements,
        members: all.map((m) => {
          const own = mentionsOf(m.accountId);
          return {
            accountId: m.accountId,
            mentions: sum(own),
            mentionShare: share(sum(own), totalMentions),
            engagements: m.engagements,
            engagementShare: share(m.engagements, totalEngagements),
            points: buckets.map((at, i) => ({
              at,
              mentions: own[i]!,
              mentionShare: share(own[i]!, bucketMentions[i]!),
              engagements: m.engagementPoints[i] ?? 0,
              engagementShare: share(m.engagementPoints[i] ?? 0, bucketEngagements[i]!),
            })),
          };
        }),
      };
    },
    async topPosts(by: PostRanking, first: number) {
      const ranked = (await posts()).flatMap((post) => {
        const value = rankingValue(post, by);
        return value === null ? [] : [{ post, value }];
      });
      ranked.sort((a, b) => b.value - a.value || (a.post.postId < b.post.postId ? -1 : 1));
      return ranked.slice(0, first).map((r, i) => ({ rank: i + 1, ...r }));
    },
    async breakoutPosts(k: number, minComparable: number) {
      const comparable = (await posts()).map((post) => ({
        id: post.postId,
        group: post.platform,
        value: post.engagements,
        post,
      }));
      return breakouts(comparable, k, minComparable).map((b) => ({ ...b, post: b.post.post }));
    },
  };
}

export type Benchmark = ReturnType<typeof createBenchmark>;
