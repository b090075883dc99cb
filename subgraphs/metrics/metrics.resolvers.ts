// Resolvers of the metrics subgraph: Account.metrics, Post.metrics and Subscription.metricTicks.
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import type { Tick } from '../../lib/live/live-keys.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import { METRICS, type MetricName } from '../../schema/event-envelope.ts';
import { EVENT_TIME_WINDOW } from '../../lib/config.ts';
import {
  bucketStarts,
  isTimeZone,
  localIso,
  yearBefore,
  type Granularity,
} from '../../lib/time/zoned-buckets.ts';
import {
  getTrackedAccounts,
  listTrackedAccounts,
  rememberTrackedAccounts,
  type TrackedAccount,
} from '../../lib/meta/accounts.repo.ts';
import type { MetaQuery } from '../../lib/meta/meta.port.ts';
import type { Platform } from '../../schema/event-envelope.ts';
import type { MetricSeries, MetricsAnswer, MetricsRequest, MetricsStore } from './metrics.store.ts';
import type { GroupBy } from './series.sql.ts';
import {
  BASIS_METRIC,
  engagementRate,
  growthRate,
  type EngagementRate,
  type RateBasis,
} from './engagement-rate.ts';
import { subscribeTicks } from './tick-stream.ts';

interface MetricsArgs {
  range: { from: number; to: number };
  /** HOUR, DAY, WEEK or MONTH. */
  granularity: string;
  metrics?: MetricName[] | null;
  timeZone?: string | null;
  compare?: 'PREVIOUS_PERIOD' | 'PREVIOUS_YEAR' | null;
}

interface PostReference {
  id: string;
  account?: { id: string };
}

/** One subscription may follow this many accounts. */
const MAX_TICK_ACCOUNTS = 100;
/** One brand-wide query may cover this many accounts. */
const MAX_ACCOUNTS = 200;
/** Groups of a query grouped by post: the posts that did most. */
const MAX_POST_GROUPS = 100;

interface AccountSelection {
  ids?: string[] | null;
  platforms?: string[] | null;
}

/** Widest range answered per grain, so one query cannot ask for millions of points. */
const MAX_BUCKETS: Record<Granularity, number> = {
  hour: 24 * 93,
  day: 1830,
  week: 530,
  month: 600,
};

const LATE_DAYS = Math.floor(EVENT_TIME_WINDOW.maxAgeMs / 86_400_000);

export function metricsResolvers(deps: {
  store: MetricsStore;
  live: LiveStore;
  meta: MetaQuery;
  now?: () => number;
}) {
  const { store, live, now = Date.now } = deps;

  const trackedAccounts = rememberTrackedAccounts(deps.meta);

  /**
   * Engagement rates per group. Posts have no followers of their own: a post's rate by followers
   * divides by its account's.
   */
  async function engagementRates(
    request: MetricsRequest,
    basis: RateBasis,
    /** The answer already read for the request, used when it holds both series. */
    current: MetricsAnswer,
  ): Promise<Map<string, EngagementRate>> {
    const basisMetric = BASIS_METRIC[basis];
    const apart =
      basis === 'followers' && (request.postId !== undefined || request.groupBy === 'post');
    // Posts of several accounts have no one follower count to share.
    if (apart && request.accountIds.length > 1) return new Map();
    const known = request.accountIds.every((id) => request.platforms?.has(id));
    const [e, b] = [request.metrics.indexOf('engagements'), request.metrics.indexOf(basisMetric)];
    if (!apart && known && e >= 0 && b >= 0) {
      const rates = new Map<string, EngagementRate>();
      for (const [key, list] of current.groups) {
        rates.set(key, engagementRate(basis, list[e]!, list[b]!));
      }
      return rates;
    }
    if (!known) {
      const found = await getTrackedAccounts(deps.meta, request.orgId, request.accountIds);
      request = {
        ...request,
        platforms: new Map(found.flatMap((a) => (a ? [[a.id, a.platform] as const] : []))),
      };
    }
    const [both, accounts] = await Promise.all([
      store.read({
        ...request,
        metrics: apart ? ['engagements'] : ['engagements', basisMetric],
      }),
      apart
        ? store.read({ ...request, postId: undefined, groupBy: 'none', metrics: [basisMetric] })
        : undefined,
    ]);
    const rates = new Map<string, EngagementRate>();
    for (const [key, [engagements, own]] of both.groups) {
      const denominator = accounts ? accounts.groups.get('')?.[0] : own;
      if (!engagements || !denominator) continue;
      rates.set(key, engagementRate(basis, engagements, denominator));
    }
    return rates;
  }

  /** The answer for a set of accounts (or one post), grouped as asked. */
  async function answer(
    ctx: SubgraphContext,
    scope: Pick<MetricsRequest, 'accountIds' | 'postId' | 'groupBy' | 'platforms'>,
    args: MetricsArgs,
  ) {
    const { range } = args;
    // Enum names, not mapped values: an SDL default (DAY) reaches resolvers unmapped.
    const granularity = args.granularity.toLowerCase() as Granularity;
    if (!(range.to > range.from)) throw badInput('range.to must be after range.from');
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
    const metrics = args.metrics?.length ? [...new Set(args.metrics)] : [...METRICS];
    const request = { ...scope, orgId: ctx.caller.orgId, granularity, timeZone, metrics };
    const compared = args.compare ? comparedPeriod(range, args.compare, timeZone) : undefined;
    const computedAt = now();
    const empty: MetricsAnswer = {
      groups: new Map(),
      live: false,
      newestEventAt: null,
      buckets: [],
    };
    const [current, previous] =
      scope.accountIds.length === 0
        ? [empty, undefined]
        : await Promise.all([
            store.read({ ...request, from: range.from, to: range.to }),
            compared ? store.read({ ...request, ...compared }) : undefined,
          ]);
    // Asked for per basis at most once, however many fields want it.
    const rates = new Map<RateBasis, Promise<Map<string, EngagementRate>>>();
    const rateOf = (basis: RateBasis) => {
      let pending = rates.get(basis);
      if (!pending) {
        pending = engagementRates({ ...request, from: range.from, to: range.to }, basis, current);
        rates.set(basis, pending);
      }
      return pending;
    };
    const groups = new Map<string, ReturnType<typeof withLocal>[]>();
    for (const [key, list] of current.groups) {
      groups.set(
        key,
        list.map((s, i) => withPrevious(s, previous?.groups.get(key)?.[i], timeZone)),
      );
    }
    return {
      granularity: args.granularity,
      timeZone,
      range: { from: range.from, to: range.to },
      comparedTo: compared ?? null,
      groups,
      rateOf,
      live: current.live,
      freshness: {
        newestEventAt: current.newestEventAt,
        computedAt,
        lateEventsAcceptedForDays: LATE_DAYS,
      },
    };
  }

  async function single(
    ctx: SubgraphContext,
    accountId: string,
    postId: string | undefined,
    args: MetricsArgs,
  ) {
    // Engagements count what engages on the account's platform.
    const wantsPlatform = !args.metrics?.length || args.metrics.includes('engagements');
    const [tracked] = wantsPlatform ? await trackedAccounts(ctx.caller.orgId, [accountId]) : [null];
    const platforms = new Map(tracked ? [[accountId, tracked.platform]] : []);
    const { groups, ...rest } = await answer(
      ctx,
      { accountIds: [accountId], postId, groupBy: 'none', platforms },
      args,
    );
    return {
      ...rest,
      series: groups.get('') ?? [],
      engagementRate: async ({ basis }: { basis: string }) =>
        rateField(await rest.rateOf(toBasis(basis)), '', basis),
    };
  }

  /** The accounts a brand-wide query covers: the ids given, the platforms given, or all. */
  async function selectAccounts(ctx: SubgraphContext, selection: AccountSelection | null) {
    const { orgId } = ctx.caller;
    // An empty list selects as an omitted one does: everything.
    const platforms = selection?.platforms?.length
      ? selection.platforms.map((p) => p.toLowerCase() as Platform)
      : undefined;
    let tracked: TrackedAccount[];
    let untrackedIds: string[] = [];
    if (selection?.ids?.length) {
      if (selection.ids.length > MAX_ACCOUNTS) {
        throw badInput(`at most ${MAX_ACCOUNTS} account ids per query`);
      }
      const found = await getTrackedAccounts(deps.meta, orgId, selection.ids);
      tracked = found.filter((a): a is TrackedAccount => a !== null);
      untrackedIds = selection.ids.filter((_, i) => found[i] === null);
    } else {
      tracked = await listTrackedAccounts(deps.meta, orgId);
    }
    if (platforms) tracked = tracked.filter((a) => platforms.includes(a.platform));
    if (tracked.length > MAX_ACCOUNTS) {
      throw badInput(
        `the selection holds ${tracked.length} accounts; at most ${MAX_ACCOUNTS} — pass ids or platforms`,
      );
    }
    return { tracked, untrackedIds: [...new Set(untrackedIds)] };
  }

  return {
    DateTime: DateTimeScalar,
    Metric: Object.fromEntries(METRICS.map((m) => [m.toUpperCase(), m])),
    Account: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      metrics: (account: { id: string }, args: MetricsArgs, ctx: SubgraphContext) =>
        single(ctx, account.id, undefined, args),
    },
    Post: {
      __resolveReference: (ref: PostReference) => ref,
      metrics: async (post: PostReference, args: MetricsArgs, ctx: SubgraphContext) => {
        // `account { id }` is @required from the posts subgraph; without it the post is unknown.
        if (!post.account) throw badInput(`post ${post.id} is not known`);
        return single(ctx, post.account.id, post.id, args);
      },
    },
    Query: {
      metrics: async (
        _: unknown,
        args: MetricsArgs & { accounts?: AccountSelection | null; groupBy: string },
        ctx: SubgraphContext,
      ) => {
        const groupBy = args.groupBy.toLowerCase() as GroupBy;
        const { tracked, untrackedIds } = await selectAccounts(ctx, args.accounts ?? null);
        const platforms = new Map(tracked.map((a) => [a.id, a.platform]));
        const { groups, ...rest } = await answer(
          ctx,
          { accountIds: tracked.map((a) => a.id), groupBy, platforms },
          args,
        );
        let list = [...groups].map(([key, series]) => ({
          engagementRate: async ({ basis }: { basis: string }) =>
            rateField(await rest.rateOf(toBasis(basis)), key, basis),
          account: groupBy === 'account' ? { __typename: 'Account', id: key } : null,
          platform: groupBy === 'platform' ? key.toUpperCase() : null,
          post: groupBy === 'post' && key !== '' ? { __typename: 'Post', id: key } : null,
          series,
        }));
        if (groupBy === 'account') {
          const order = new Map(tracked.map((a, i) => [a.id, i]));
          list.sort((a, b) => order.get(a.account!.id)! - order.get(b.account!.id)!);
        }
        if (groupBy === 'post') {
          // The posts that did most by the first metric asked for, then by id.
          list.sort(
            (a, b) =>
              (b.series[0]?.total ?? 0) - (a.series[0]?.total ?? 0) ||
              (a.post?.id ?? '').localeCompare(b.post?.id ?? ''),
          );
          list = list.slice(0, MAX_POST_GROUPS);
        }
        return { ...rest, accounts: tracked.length, untrackedIds, groups: list };
      },
    },
    Subscription: {
      metricTicks: {
        subscribe: async (_: unknown, args: { accountIds: string[] }, ctx: SubgraphContext) => {
          if (args.accountIds.length === 0) throw badInput('accountIds must not be empty');
          if (args.accountIds.length > MAX_TICK_ACCOUNTS) {
            throw badInput(`at most ${MAX_TICK_ACCOUNTS} accountIds per subscription`);
          }
          return subscribeTicks(live, ctx.caller.orgId, new Set(args.accountIds));
        },
        resolve: (tick: Tick) => ({
          account: { __typename: 'Account', id: tick.accountId },
          metric: tick.metric,
          delta: tick.delta,
          hourValue: tick.hourValue,
          at: tick.at,
        }),
      },
    },
  };
}

/** The period a range is compared with: just before it, or a year earlier in local time. */
function comparedPeriod(
  range: { from: number; to: number },
  compare: 'PREVIOUS_PERIOD' | 'PREVIOUS_YEAR',
  timeZone: string,
): { from: number; to: number } {
  if (compare === 'PREVIOUS_PERIOD') {
    return { from: range.from - (range.to - range.from), to: range.from };
  }
  return { from: yearBefore(range.from, timeZone), to: yearBefore(range.to, timeZone) };
}

function withPrevious(series: MetricSeries, before: MetricSeries | undefined, timeZone: string) {
  return {
    ...withLocal(series, timeZone),
    previous: before && {
      ...withLocal(before, timeZone),
      change: series.total - before.total,
      changePercent:
        before.total === 0 ? null : ((series.total - before.total) / before.total) * 100,
    },
  };
}

function withLocal(series: MetricSeries, timeZone: string) {
  return {
    ...series,
    growthRate: () => growthRate(series),
    points: series.points.map((p) => ({ ...p, localStart: localIso(p.at, timeZone) })),
  };
}

function toBasis(basis: string): RateBasis {
  return basis.toLowerCase() as RateBasis;
}

/** The GraphQL shape of a group's rate; no engagements and no basis is a rate of null. */
function rateField(rates: Map<string, EngagementRate>, key: string, basis: string) {
  const rate = rates.get(key);
  return {
    basis,
    total: rate?.total ?? null,
    points: rate?.points ?? [],
  };
}
