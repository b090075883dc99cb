// Resolvers of the benchmarking subgraph: competitor sets of the caller's organisation, and each
// set compared over a range (benchmark.ts).
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import { getTrackedAccounts } from '../../lib/meta/accounts.repo.ts';
import {
  createCompetitorSet,
  deleteCompetitorSet,
  getCompetitorSet,
  listCompetitorSets,
  renameCompetitorSet,
  setCompetitorSetMembers,
  type ChangeCompetitorSetResult,
  type CompetitorSet,
} from '../../lib/meta/competitor-sets.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import {
  bucketStarts,
  isTimeZone,
  localIso,
  type Granularity,
} from '../../lib/time/zoned-buckets.ts';
import {
  ENGAGEMENT_METRICS,
  METRICS,
  PLATFORMS,
  type MetricName,
} from '../../schema/event-envelope.ts';
import type { RateBasis } from '../metrics/engagement-rate.ts';
import type { MetricsStore } from '../metrics/metrics.store.ts';
import { createBenchmark, type Benchmark, type PostRanking } from './benchmark.ts';
import type { PostCounter, SetPost } from './set-reads.sql.ts';
import type { SetReads } from './set-reads.ts';

export const MAX_SET_NAME_LENGTH = 100;
export const MAX_SET_ACCOUNTS = 100;
/** Top posts answered at most per query. */
const MAX_TOP_POSTS = 100;

/** Widest range answered per grain, as the metrics subgraph allows. */
const MAX_BUCKETS: Record<Granularity, number> = {
  hour: 24 * 93,
  day: 1830,
  week: 530,
  month: 600,
};

/** What a member reports when no metrics are named: the social counters and followers. */
const DEFAULT_METRICS: readonly MetricName[] = [...ENGAGEMENT_METRICS, 'engagements', 'followers'];

interface CreateArgs {
  name: string;
  accountIds: string[];
}

interface BenchmarkArgs {
  range: { from: number; to: number };
  granularity: string;
  timeZone?: string | null;
  metrics?: MetricName[] | null;
  rateBasis: string;
}

interface BenchmarkValue {
  from: number;
  to: number;
  timeZone: string;
  granularity: string;
  rateBasis: string;
  bench: Benchmark;
}

function checkedName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0) throw badInput('name must not be empty');
  if (name.length > MAX_SET_NAME_LENGTH) {
    throw badInput(`name must be at most ${MAX_SET_NAME_LENGTH} characters`);
  }
  return name;
}

/** Why a member list is refused, or null: the one rule every membership change checks. */
function membersRefusal(ids: readonly string[]): string | null {
  if (ids.length === 0) return 'a competitor set must hold at least one account';
  if (ids.length > MAX_SET_ACCOUNTS) {
    return `a competitor set holds at most ${MAX_SET_ACCOUNTS} accounts (this change would make it ${ids.length})`;
  }
  return null;
}

function changed(
  result: ChangeCompetitorSetResult | { ok: false; reason: 'refused'; message: string },
  name?: string,
): CompetitorSet {
  if (result.ok) return result.set;
  switch (result.reason) {
    case 'not-found':
      throw badInput('no competitor set with that id in this organisation');
    case 'duplicate-name':
      throw badInput(`a competitor set named ${JSON.stringify(name)} already exists`);
    case 'unknown-accounts':
      throw badInput(`accounts not tracked by this organisation: ${listIds(result.accountIds)}`);
    case 'refused':
      throw badInput(result.message);
  }
}

function toRanking(by: { metric?: string | null; engagementRate?: string | null }): PostRanking {
  const metric = by.metric ?? undefined;
  const rate = by.engagementRate ?? undefined;
  if ((metric === undefined) === (rate === undefined)) {
    throw badInput('by must name exactly one of metric or engagementRate');
  }
  return metric !== undefined
    ? { metric: metric.toLowerCase() as PostCounter | 'engagements' }
    : { rate: rate!.toLowerCase() as RateBasis };
}

function postFields(post: SetPost) {
  return {
    post: { __typename: 'Post' as const, id: post.postId },
    account: accountReference(post.accountId),
    platform: post.platform,
    publishedAt: post.publishedMs,
    engagements: post.engagements,
  };
}

interface MembersArgs {
  id: string;
  accountIds: string[];
}

export function benchmarkingResolvers(deps: {
  meta: MetaStore;
  store: MetricsStore;
  sets: SetReads;
}) {
  const { meta } = deps;

  /** Every membership change: one rule checked, in one transaction, of the caller's set only. */
  const changeMembers = async (
    ctx: SubgraphContext,
    id: string,
    change: Parameters<typeof setCompetitorSetMembers>[3],
  ) => changed(await setCompetitorSetMembers(meta, ctx.caller.orgId, id, change, membersRefusal));

  async function benchmark(
    set: CompetitorSet & { orgId?: string },
    args: BenchmarkArgs,
    ctx: SubgraphContext,
  ): Promise<BenchmarkValue> {
    const { range } = args;
    if (!(range.to > range.from)) throw badInput('range.to must be after range.from');
    // Enum names, not mapped values: an SDL default reaches resolvers unmapped.
    const granularity = args.granularity.toLowerCase() as Granularity;
    const basis = args.rateBasis.toLowerCase() as RateBasis;
    const timeZone = args.timeZone ?? ctx.caller.timeZone;
    if (!isTimeZone(timeZone)) {
      throw badInput(`timeZone ${JSON.stringify(timeZone)} is not an IANA time zone`);
    }
    const buckets = bucketStarts(range.from, range.to, granularity, timeZone).length;
    if (buckets > MAX_BUCKETS[granularity]) {
      throw badInput(
        `range spans ${buckets} ${granularity} buckets; at most ${MAX_BUCKETS[granularity]} — use a coarser granularity`,
      );
    }
    const metrics = args.metrics?.length ? [...new Set(args.metrics)] : [...DEFAULT_METRICS];
    // A member no longer tracked drops out: its platform (what engages) is unknown.
    const tracked = await getTrackedAccounts(meta, ctx.caller.orgId, set.accountIds);
    const members = tracked.flatMap((a) => (a ? [{ id: a.id, platform: a.platform }] : []));
    return {
      from: range.from,
      to: range.to,
      timeZone,
      granularity: args.granularity.toUpperCase(),
      rateBasis: basis.toUpperCase(),
      bench: createBenchmark(deps, {
        orgId: ctx.caller.orgId,
        members,
        from: range.from,
        to: range.to,
        granularity,
        timeZone,
        metrics,
        basis,
      }),
    };
  }

  return {
    DateTime: DateTimeScalar,
    Metric: Object.fromEntries(METRICS.map((m) => [m.toUpperCase(), m])),
    PostMetric: Object.fromEntries(
      [...ENGAGEMENT_METRICS, 'engagements'].map((m) => [m.toUpperCase(), m]),
    ),
    Platform: Object.fromEntries(PLATFORMS.map((p) => [p.toUpperCase(), p])),
    Query: {
      competitorSets: (_: unknown, __: unknown, ctx: SubgraphContext) =>
        listCompetitorSets(meta, ctx.caller.orgId),
      competitorSet: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        getCompetitorSet(meta, ctx.caller.orgId, args.id),
    },
    Mutation: {
      async createCompetitorSet(_: unknown, args: CreateArgs, ctx: SubgraphContext) {
        const name = checkedName(args.name);
        const accountIds = [...new Set(args.accountIds)];
        if (accountIds.length === 0) throw badInput('accountIds must name at least one account');
        if (accountIds.length > MAX_SET_ACCOUNTS) {
          throw badInput(`a competitor set holds at most ${MAX_SET_ACCOUNTS} accounts`);
        }
        const result = await createCompetitorSet(meta, ctx.caller.orgId, name, accountIds);
        if (result.ok) return result.set;
        if (result.reason === 'duplicate-name') {
          throw badInput(`a competitor set named ${JSON.stringify(name)} already exists`);
        }
        throw badInput(`accounts not tracked by this organisation: ${listIds(result.accountIds)}`);
      },
      async renameCompetitorSet(
        _: unknown,
        args: { id: string; name: string },
        ctx: SubgraphContext,
      ) {
        const name = checkedName(args.name);
        return changed(await renameCompetitorSet(meta, ctx.caller.orgId, args.id, name), name);
      },
      setCompetitorSetMembers: (_: unknown, args: MembersArgs, ctx: SubgraphContext) =>
        changeMembers(ctx, args.id, args.accountIds),
      addCompetitorSetMembers: (_: unknown, args: MembersArgs, ctx: SubgraphContext) =>
        changeMembers(ctx, args.id, (current) => [...current, ...args.accountIds]),
      removeCompetitorSetMembers(_: unknown, args: MembersArgs, ctx: SubgraphContext) {
        const removed = new Set(args.accountIds);
        return changeMembers(ctx, args.id, (current) => current.filter((a) => !removed.has(a)));
      },
      deleteCompetitorSet: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        deleteCompetitorSet(meta, ctx.caller.orgId, args.id),
    },
    CompetitorSet: {
      accounts: (set: CompetitorSet) => set.accountIds.map(accountReference),
      benchmark,
    },
    Benchmark: {
      buckets: (b: BenchmarkValue) =>
        b.bench.buckets.map((at) => ({ at, localStart: localIso(at, b.timeZone) })),
      async members(b: BenchmarkValue) {
        return (await b.bench.members()).map((m) => ({
          ...m,
          account: accountReference(m.accountId),
          series: m.series.map((s) => ({ ...s, metric: s.metric })),
        }));
      },
      landscape: (b: BenchmarkValue) => b.bench.landscape(),
      async shareOfVoice(b: BenchmarkValue) {
        const voice = await b.bench.shareOfVoice();
        return {
          ...voice,
          members: voice.members.map((m) => ({ ...m, account: accountReference(m.accountId) })),
        };
      },
      async topPosts(
        b: BenchmarkValue,
        args: { by: { metric?: string | null; engagementRate?: string | null }; first: number },
      ) {
        if (args.first < 1 || args.first > MAX_TOP_POSTS) {
          throw badInput(`first must be between 1 and ${MAX_TOP_POSTS}`);
        }
        const ranked = await b.bench.topPosts(toRanking(args.by), args.first);
        return ranked.map((r) => ({ rank: r.rank, value: r.value, ...postFields(r.post) }));
      },
      async breakoutPosts(b: BenchmarkValue, args: { k: number; minComparablePosts: number }) {
        if (!(args.k >= 0)) throw badInput('k must be 0 or more');
        if (args.minComparablePosts < 1) throw badInput('minComparablePosts must be at least 1');
        const found = await b.bench.breakoutPosts(args.k, args.minComparablePosts);
        return found.map(({ post, ...evidence }) => ({ ...evidence, ...postFields(post) }));
      },
    },
    BenchmarkSeries: { values: pointValues },
    BenchmarkRate: { values: pointValues },
  } satisfies GraphQLResolverMap<SubgraphContext>;
}

function pointValues<V>(series: { points: readonly { value: V }[] }): V[] {
  return series.points.map((p) => p.value);
}

/** Accounts belong to other subgraphs; this one only names them. */
export function accountReference(id: string): { __typename: 'Account'; id: string } {
  return { __typename: 'Account', id };
}

/** A readable list of ids for an error message, cut after the first ten. */
export function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, 10).map((id) => JSON.stringify(id));
  return ids.length > 10 ? `${shown.join(', ')} and ${ids.length - 10} more` : shown.join(', ');
}
