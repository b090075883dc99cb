// The product subgraph: an app's custom events as product analytics. `product(appId)` answers
// only for an app the caller's organisation tracks, and every read below is scoped by both.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import { getTrackedAccounts } from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
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
    breakdown?: { property: string; person?: boolean | null }[] | null;
    breakdownLimit: number;
    compare: boolean;
    formulas?: string[] | null;
  };
}

const MAX_LISTED = 1_000;

function checkedFirst(first: number): number {
  if (!(first >= 1 && first <= MAX_LISTED)) throw badInput(`first must be 1 to ${MAX_LISTED}`);
  return first;
}

export function productResolvers(deps: { meta: MetaStore; olap: Olap }) {
  const { meta, olap } = deps;
  return {
    DateTime: DateTimeScalar,
    FilterValue: FilterValueScalar,
    Query: {
      async product(_: unknown, args: { appId: string }, ctx: SubgraphContext) {
        const [app] = await getTrackedAccounts(meta, ctx.caller.orgId, [args.appId]);
        if (!app || app.platform !== 'app') return null;
        return { orgId: ctx.caller.orgId, appId: app.id, timeZone: ctx.caller.timeZone };
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
        const timeZone = query.timeZone ?? p.timeZone;
        if (!isTimeZone(timeZone)) {
          throw badInput(`timeZone ${JSON.stringify(timeZone)} is not an IANA time zone`);
        }
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
          breakdown: (query.breakdown ?? []).map((b) => ({
            path: checkedPath(b.property, b.person ? 'person property' : 'property'),
            person: b.person === true,
          })),
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
    },
  } satisfies GraphQLResolverMap<SubgraphContext>;
}
