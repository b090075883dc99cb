// Resolvers of the audience subgraph: the organisation's tracked accounts, their latest profile
// and audience snapshots. Every lookup is batched per request and scoped by the caller's org.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import DataLoader from 'dataloader';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { perRequest } from '../../lib/graphql/request-scope.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import {
  getTrackedAccounts,
  listTrackedAccounts,
  type TrackedAccount,
} from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { PLATFORMS, type Platform } from '../../schema/event-envelope.ts';
import {
  DIMENSIONS,
  type AudienceSnapshot,
  type AudienceStore,
  type Dimension,
  type Profile,
} from './audience.store.ts';

interface Loaders {
  account: DataLoader<string, TrackedAccount | null>;
  profile: DataLoader<string, Profile | null>;
  audience: DataLoader<string, AudienceSnapshot | null>;
}

export interface AudienceBucket {
  key: string;
  value: number;
  /** Share of the dimension's total, 0 to 1. */
  share: number;
}

/** A dimension's buckets, largest first (ties by key), each with its share of the total. */
export function toBuckets(values: Record<string, number>): AudienceBucket[] {
  const sum = Object.values(values).reduce((a, b) => a + b, 0);
  return Object.entries(values)
    .map(([key, value]) => ({ key, value, share: sum > 0 ? value / sum : 0 }))
    .sort((a, b) => b.value - a.value || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function audienceResolvers(deps: { meta: MetaStore; store: AudienceStore }) {
  const { meta, store } = deps;
  // One set of loaders per request.
  const loaders = perRequest((ctx): Loaders => {
    const org = ctx.caller.orgId;
    return {
      account: new DataLoader((ids) => getTrackedAccounts(meta, org, ids)),
      profile: new DataLoader((ids) => store.profiles(org, ids)),
      audience: new DataLoader((ids) => store.audiences(org, ids)),
    };
  });
  const dimension = (d: Dimension) => (snapshot: AudienceSnapshot) => toBuckets(snapshot[d]);

  return {
    DateTime: DateTimeScalar,
    // GraphQL spells platforms in upper case; the meta store and events in lower case.
    Platform: Object.fromEntries(PLATFORMS.map((p) => [p.toUpperCase(), p])),
    Query: {
      accounts: (_: unknown, args: { platform?: Platform | null }, ctx: SubgraphContext) =>
        listTrackedAccounts(meta, ctx.caller.orgId, args.platform ?? undefined),
      account: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        loaders(ctx).account.load(args.id),
    },
    Account: {
      // An account the caller's organisation does not track resolves to null.
      __resolveReference: (ref: { id: string }, ctx: SubgraphContext) =>
        loaders(ctx).account.load(ref.id),
      profile: (account: TrackedAccount, _: unknown, ctx: SubgraphContext) =>
        loaders(ctx).profile.load(account.id),
      audience: (account: TrackedAccount, _: unknown, ctx: SubgraphContext) =>
        loaders(ctx).audience.load(account.id),
    },
    Audience: Object.fromEntries(DIMENSIONS.map((d) => [d, dimension(d)])),
  } satisfies GraphQLResolverMap<SubgraphContext>;
}
