// Resolvers of the metrics subgraph: Account.metrics, Post.metrics and Subscription.metricTicks.
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import type { Tick } from '../../lib/live/live-keys.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import { METRICS, type MetricName } from '../../schema/event-envelope.ts';
import { MAX_BUCKETS, bucketStarts, ceilBucket, floorBucket, type Granularity } from './buckets.ts';
import type { MetricsAnswer, MetricsStore } from './metrics.store.ts';
import { subscribeTicks } from './tick-stream.ts';

interface MetricsArgs {
  range: { from: number; to: number };
  /** HOUR, DAY or MONTH. */
  granularity: string;
  metrics?: MetricName[] | null;
}

interface PostReference {
  id: string;
  account?: { id: string };
}

/** One subscription may follow this many accounts. */
const MAX_TICK_ACCOUNTS = 100;

export function metricsResolvers(deps: { store: MetricsStore; live: LiveStore }) {
  const { store, live } = deps;

  function read(
    ctx: SubgraphContext,
    accountId: string,
    postId: string | undefined,
    args: MetricsArgs,
  ): Promise<MetricsAnswer> {
    const { range } = args;
    // Enum names, not mapped values: an SDL default (DAY) reaches resolvers unmapped.
    const granularity = args.granularity.toLowerCase() as Granularity;
    if (!(range.to > range.from)) throw badInput('range.to must be after range.from');
    const from = floorBucket(range.from, granularity);
    const buckets = bucketStarts(from, ceilBucket(range.to, granularity), granularity).length;
    if (buckets > MAX_BUCKETS[granularity]) {
      throw badInput(
        `range spans ${buckets} ${granularity} buckets; at most ${MAX_BUCKETS[granularity]} — use a coarser granularity`,
      );
    }
    const metrics = args.metrics?.length ? [...new Set(args.metrics)] : [...METRICS];
    return store.read({
      orgId: ctx.caller.orgId,
      accountId,
      postId,
      from: range.from,
      to: range.to,
      granularity,
      metrics,
    });
  }

  return {
    DateTime: DateTimeScalar,
    Metric: Object.fromEntries(METRICS.map((m) => [m.toUpperCase(), m])),
    Account: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      metrics: async (account: { id: string }, args: MetricsArgs, ctx: SubgraphContext) => ({
        granularity: args.granularity,
        ...(await read(ctx, account.id, undefined, args)),
      }),
    },
    Post: {
      __resolveReference: (ref: PostReference) => ref,
      metrics: async (post: PostReference, args: MetricsArgs, ctx: SubgraphContext) => {
        // `account { id }` is @required from the posts subgraph; without it the post is unknown.
        if (!post.account) throw badInput(`post ${post.id} is not known`);
        return {
          granularity: args.granularity,
          ...(await read(ctx, post.account.id, post.id, args)),
        };
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
