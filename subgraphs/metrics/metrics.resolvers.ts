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
import type { MetricSeries, MetricsStore } from './metrics.store.ts';
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

/** Widest range answered per grain, so one query cannot ask for millions of points. */
const MAX_BUCKETS: Record<Granularity, number> = {
  hour: 24 * 93,
  day: 3660,
  week: 530,
  month: 600,
};

const LATE_DAYS = Math.floor(EVENT_TIME_WINDOW.maxAgeMs / 86_400_000);

export function metricsResolvers(deps: {
  store: MetricsStore;
  live: LiveStore;
  now?: () => number;
}) {
  const { store, live, now = Date.now } = deps;

  async function read(
    ctx: SubgraphContext,
    accountId: string,
    postId: string | undefined,
    args: MetricsArgs,
  ) {
    const { range } = args;
    // Enum names, not mapped values: an SDL default (DAY) reaches resolvers unmapped.
    const granularity = args.granularity.toLowerCase() as Granularity;
    if (!(range.to > range.from)) throw badInput('range.to must be after range.from');
    const timeZone = args.timeZone ?? ctx.caller.timeZone ?? 'UTC';
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
    const request = {
      orgId: ctx.caller.orgId,
      accountIds: [accountId],
      postId,
      granularity,
      timeZone,
      metrics,
      groupBy: 'none' as const,
    };
    const compared = args.compare ? comparedPeriod(range, args.compare, timeZone) : undefined;
    const computedAt = now();
    const [answer, previous] = await Promise.all([
      store.read({ ...request, from: range.from, to: range.to }),
      compared ? store.read({ ...request, ...compared }) : undefined,
    ]);
    const series = (answer.groups.get('') ?? []).map((s, i) => {
      const before = previous?.groups.get('')?.[i];
      return {
        ...withLocal(s, timeZone),
        previous: before && {
          ...withLocal(before, timeZone),
          change: s.total - before.total,
          changePercent:
            before.total === 0 ? null : ((s.total - before.total) / before.total) * 100,
        },
      };
    });
    return {
      granularity: args.granularity,
      timeZone,
      range: { from: range.from, to: range.to },
      comparedTo: compared ?? null,
      series,
      live: answer.live,
      freshness: {
        newestEventAt: answer.newestEventAt,
        computedAt,
        lateEventsAcceptedForDays: LATE_DAYS,
      },
    };
  }

  return {
    DateTime: DateTimeScalar,
    Metric: Object.fromEntries(METRICS.map((m) => [m.toUpperCase(), m])),
    Account: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      metrics: (account: { id: string }, args: MetricsArgs, ctx: SubgraphContext) =>
        read(ctx, account.id, undefined, args),
    },
    Post: {
      __resolveReference: (ref: PostReference) => ref,
      metrics: async (post: PostReference, args: MetricsArgs, ctx: SubgraphContext) => {
        // `account { id }` is @required from the posts subgraph; without it the post is unknown.
        if (!post.account) throw badInput(`post ${post.id} is not known`);
        return read(ctx, post.account.id, post.id, args);
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

function withLocal(series: MetricSeries, timeZone: string) {
  return {
    ...series,
    points: series.points.map((p) => ({ ...p, localStart: localIso(p.at, timeZone) })),
  };
}
