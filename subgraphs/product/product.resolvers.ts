// The product subgraph: an app's custom events as product analytics. `product(appId)` answers
// only for an app the caller's organisation tracks, and every read below is scoped by both.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import { getTrackedAccounts } from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { isTimeZone } from '../../lib/time/zoned-buckets.ts';
import {
  readEventNames,
  readEventProperties,
  readPerson,
  readPersonProperties,
} from './discovery.sql.ts';
import { FilterValueScalar } from './filter-value.scalar.ts';
import { checkedPath, type FilterInput } from './property-sql.ts';
import type { TrendInterval } from './trend-buckets.ts';
import { runTrends, type SeriesInput } from './trends.ts';
import { liveTiles, type LiveFunnel } from './live-tiles.ts';
import type { FunnelOrder } from './funnel-ways.ts';
import { runFunnel, type StepInput } from './funnels.ts';
import { runRetention, type RetentionCriterion, type RetentionRequest } from './retention.ts';

interface ProductValue {
  orgId: string;
  appId: string;
  timeZone: string;
}

interface TrendsArgs {
  query: {
    range: { from: number; to: number };
    interval: string;
    timeZone?: string | null;
    series: SeriesInput[];
    where?: FilterInput | null;
    breakdown?: BreakdownArg[] | null;
    breakdownLimit: number;
    compare: boolean;
    formulas?: string[] | null;
  };
}

interface BreakdownArg {
  property: string;
  person?: boolean | null;
}

interface FunnelArgs {
  query: {
    range: { from: number; to: number };
    steps: StepInput[];
    order: FunnelOrder;
    window?: { value: number; unit: keyof typeof UNIT_SECONDS } | null;
    where?: FilterInput | null;
    exclusions?: (StepInput & { fromStep: number; toStep?: number | null })[] | null;
    breakdown?: BreakdownArg | null;
    breakdownLimit: number;
  };
}

interface RetentionArgs {
  query: {
    range: { from: number; to: number };
    period: string;
    timeZone?: string | null;
    startEvent: StepInput;
    returnEvent: StepInput;
    criterion: RetentionCriterion;
    periods: number;
  };
}

const MAX_LISTED = 1_000;
/** A DAY is 24 hours, a WEEK 7 days, a MONTH 30 days (the SDL's Duration). */
const UNIT_SECONDS = {
  SECOND: 1,
  MINUTE: 60,
  HOUR: 3600,
  DAY: 86_400,
  WEEK: 604_800,
  MONTH: 2_592_000,
};
const DEFAULT_WINDOW_SECONDS = 14 * 86_400;

function zoneOf(given: string | null | undefined, p: ProductValue): string {
  const zone = given ?? p.timeZone;
  if (!isTimeZone(zone))
    throw badInput(`timeZone ${JSON.stringify(zone)} is not an IANA time zone`);
  return zone;
}

const propertyOf = (b: BreakdownArg) => ({
  path: checkedPath(b.property, b.person ? 'person property' : 'property'),
  person: b.person === true,
});

function checkedFirst(first: number): number {
  if (!(first >= 1 && first <= MAX_LISTED)) throw badInput(`first must be 1 to ${MAX_LISTED}`);
  return first;
}

export function productResolvers(deps: { meta: MetaStore; olap: Olap; live: LiveStore }) {
  const { meta, olap, live } = deps;
  const trackedApp = async (orgId: string, appId: string) => {
    const [app] = await getTrackedAccounts(meta, orgId, [appId]);
    return app && app.platform === 'app' ? app : null;
  };
  return {
    DateTime: DateTimeScalar,
    FilterValue: FilterValueScalar,
    Query: {
      async product(_: unknown, args: { appId: string }, ctx: SubgraphContext) {
        const app = await trackedApp(ctx.caller.orgId, args.appId);
        if (!app) return null;
        return { orgId: ctx.caller.orgId, appId: app.id, timeZone: ctx.caller.timeZone };
      },
    },
    Subscription: {
      productLive: {
        async subscribe(
          _: unknown,
          args: { appId: string; funnel?: LiveFunnel | null },
          ctx: SubgraphContext,
        ) {
          if (!(await trackedApp(ctx.caller.orgId, args.appId))) {
            throw badInput(`no app ${JSON.stringify(args.appId)} is tracked by this organisation`);
          }
          return liveTiles(live, ctx.caller.orgId, args.appId, args.funnel ?? null);
        },
        resolve: (tile: unknown) => tile,
      },
    },
    ProductAnalytics: {
      eventNames: (p: ProductValue, args: { first: number }) =>
        readEventNames(olap, p, checkedFirst(args.first)),
      eventProperties: (p: ProductValue, args: { event?: string | null; first: number }) =>
        readEventProperties(olap, p, args.event ?? null, checkedFirst(args.first)),
      personProperties: (p: ProductValue, args: { first: number }) =>
        readPersonProperties(olap, p, checkedFirst(args.first)),
      person: (p: ProductValue, args: { userId: string }) => readPerson(olap, p, args.userId),
      async trends(p: ProductValue, { query }: TrendsArgs) {
        const timeZone = zoneOf(query.timeZone, p);
        // Enum names, not mapped values: an SDL default reaches resolvers unmapped.
        const interval = query.interval.toLowerCase() as TrendInterval;
        const answer = await runTrends(olap, {
          orgId: p.orgId,
          appId: p.appId,
          from: query.range.from,
          to: query.range.to,
          interval,
          timeZone,
          series: query.series,
          where: query.where ?? null,
          breakdown: (query.breakdown ?? []).map(propertyOf),
          breakdownLimit: query.breakdownLimit,
          compare: query.compare,
          formulas: query.formulas ?? [],
        });
        return {
          from: query.range.from,
          to: query.range.to,
          timeZone,
          interval: query.interval,
          ...answer,
        };
      },
      async funnel(p: ProductValue, { query }: FunnelArgs) {
        const windowSeconds = query.window
          ? query.window.value * UNIT_SECONDS[query.window.unit]
          : DEFAULT_WINDOW_SECONDS;
        const answer = await runFunnel(olap, {
          orgId: p.orgId,
          appId: p.appId,
          from: query.range.from,
          to: query.range.to,
          steps: query.steps,
          order: query.order,
          windowMs: windowSeconds * 1000,
          where: query.where ?? null,
          exclusions: query.exclusions ?? [],
          breakdown: query.breakdown ? propertyOf(query.breakdown) : null,
          breakdownLimit: query.breakdownLimit,
        });
        return {
          from: query.range.from,
          to: query.range.to,
          order: query.order,
          windowSeconds,
          ...answer,
        };
      },
      async retention(p: ProductValue, { query }: RetentionArgs) {
        const timeZone = zoneOf(query.timeZone, p);
        const cohorts = await runRetention(olap, {
          orgId: p.orgId,
          appId: p.appId,
          from: query.range.from,
          to: query.range.to,
          period: query.period.toLowerCase() as RetentionRequest['period'],
          timeZone,
          startEvent: query.startEvent,
          returnEvent: query.returnEvent,
          criterion: query.criterion,
          periods: query.periods,
        });
        return {
          from: query.range.from,
          to: query.range.to,
          timeZone,
          period: query.period,
          cohorts,
        };
      },
    },
  } satisfies GraphQLResolverMap<SubgraphContext>;
}
