// Resolvers of the audience subgraph: the organisation's tracked accounts, their profile (latest,
// as of an instant, or as versions) and demographics (as of an instant, or the change between
// two). Every lookup is batched per request and scoped by the caller's org.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import DataLoader from 'dataloader';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput, forbidden } from '../../lib/graphql/errors.ts';
import { perRequest } from '../../lib/graphql/request-scope.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import {
  isRefusedValue,
  listTrackedAccounts,
  rememberTrackedAccounts,
  untrackAccounts,
  upsertTrackedAccounts,
  type TrackedAccount,
} from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { PLATFORMS, type Platform } from '../../schema/event-envelope.ts';
import { bucketChanges, toBuckets, type AudienceBucket } from './audience-buckets.ts';
import {
  DIMENSIONS,
  type AudienceSnapshot,
  type AudienceStore,
  type Dimension,
} from './audience.store.ts';
import {
  toVersions,
  versionsOverlapping,
  type ProfileSnapshot,
  type ProfileVersion,
} from './profile-history.ts';

export const MAX_PAGE = 100;

interface Range {
  from: number;
  to: number;
}

/** Loaders keyed by the instant asked (null: the latest). */
interface Loaders {
  account: DataLoader<string, TrackedAccount | null>;
  profile: Map<number | null, DataLoader<string, ProfileSnapshot | null>>;
  versions: DataLoader<string, ProfileVersion[]>;
  audience: Map<number | null, DataLoader<string, AudienceSnapshot | null>>;
}

/** An audience as the API shows it: every dimension's buckets, small ones suppressed. */
export type AudienceView = Record<Dimension, AudienceBucket[]> & { observedAt: number };

function checkFirst(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE}, got ${first}`);
  }
  return first;
}

function checkRange(range: Range | null | undefined): Range | undefined {
  if (!range) return undefined;
  if (range.from > range.to) throw badInput('range.from must not be after range.to');
  return range;
}

/** Cursors are opaque to callers: base64url of the last version's validFrom. */
export function encodeCursor(version: ProfileVersion): string {
  return Buffer.from(JSON.stringify([version.validFrom])).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 1 && Number.isSafeInteger(value[0])) {
      return value[0] as number;
    }
  } catch {
    // Not JSON: reported below like any other foreign string.
  }
  throw badInput('after is not a cursor returned by this API');
}

function loaderFor<V>(
  all: Map<number | null, DataLoader<string, V>>,
  asOf: number | null,
  load: (ids: readonly string[], asOf: number | null) => Promise<V[]>,
): DataLoader<string, V> {
  let loader = all.get(asOf);
  if (!loader) {
    loader = new DataLoader((ids) => load(ids, asOf));
    all.set(asOf, loader);
  }
  return loader;
}

interface TrackAccountInput {
  id: string;
  platform: Platform;
  handle?: string | null;
  displayName?: string | null;
}

const MAX_TEXT = 256;

/** The caller's organisation, when its key may change what the organisation tracks. */
function adminOf(ctx: SubgraphContext): string {
  if (ctx.caller.role !== 'admin') {
    throw forbidden(`a ${ctx.caller.role} key cannot change tracked accounts; use an admin key`);
  }
  return ctx.caller.orgId;
}

function checkTrackInput(input: TrackAccountInput): TrackAccountInput {
  const id = input.id.trim();
  if (id.length === 0 || id.length > MAX_TEXT) {
    throw badInput(`input.id must have 1 to ${MAX_TEXT} characters`);
  }
  for (const field of ['handle', 'displayName'] as const) {
    const value = input[field];
    if (value != null && value.length > MAX_TEXT) {
      throw badInput(`input.${field} must have at most ${MAX_TEXT} characters`);
    }
  }
  return { ...input, id };
}

export function audienceResolvers(deps: {
  meta: MetaStore;
  store: AudienceStore;
  /** Buckets standing for fewer people are suppressed (config `audience.minBucket`). */
  minBucket: number;
}) {
  const { meta, store, minBucket } = deps;
  const trackedAccounts = rememberTrackedAccounts(meta);
  // One set of loaders per request.
  const loaders = perRequest((ctx): Loaders => {
    const org = ctx.caller.orgId;
    return {
      account: new DataLoader((ids) => trackedAccounts(org, ids)),
      profile: new Map(),
      versions: new DataLoader(async (ids) =>
        (await store.profileSnapshots(org, ids)).map(toVersions),
      ),
      audience: new Map(),
    };
  });
  const profileAt = (ctx: SubgraphContext, id: string, asOf: number | null) =>
    loaderFor(loaders(ctx).profile, asOf, (ids, at) =>
      store.profiles(ctx.caller.orgId, ids, at),
    ).load(id);
  const audienceAt = async (
    ctx: SubgraphContext,
    id: string,
    asOf: number | null,
  ): Promise<AudienceView | null> => {
    const snapshot = await loaderFor(loaders(ctx).audience, asOf, (ids, at) =>
      store.audiences(ctx.caller.orgId, ids, at),
    ).load(id);
    return snapshot && view(snapshot);
  };
  const view = (snapshot: AudienceSnapshot): AudienceView => {
    const dims = Object.fromEntries(
      DIMENSIONS.map((d) => {
        const dim = snapshot.dimensions[d];
        return [d, dim ? toBuckets(dim.buckets, dim.followers, minBucket) : []];
      }),
    ) as Record<Dimension, AudienceBucket[]>;
    return { ...dims, observedAt: snapshot.observedAt };
  };

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
    Mutation: {
      async trackAccount(_: unknown, args: { input: TrackAccountInput }, ctx: SubgraphContext) {
        const org = adminOf(ctx);
        const { id, platform, handle, displayName } = checkTrackInput(args.input);
        try {
          await upsertTrackedAccounts(meta, org, [
            {
              id,
              platform,
              ...(handle != null && { handle }),
              ...(displayName != null && { displayName }),
            },
          ]);
        } catch (error) {
          // Not the meta store's words: the caller learns what to change, nothing of the store.
          if (isRefusedValue(error)) {
            throw badInput('input.id, handle and displayName must be text without NUL characters');
          }
          throw error;
        }
        trackedAccounts.forget(org, [id]);
        const [account] = await trackedAccounts(org, [id]);
        return account;
      },
      async untrackAccount(_: unknown, args: { id: string }, ctx: SubgraphContext) {
        const org = adminOf(ctx);
        const id = args.id.trim();
        const removed = await untrackAccounts(meta, org, [id]);
        trackedAccounts.forget(org, [id]);
        return removed.length > 0;
      },
    },
    Account: {
      // An account the caller's organisation does not track resolves to null.
      __resolveReference: (ref: { id: string }, ctx: SubgraphContext) =>
        loaders(ctx).account.load(ref.id),
      profile: (account: TrackedAccount, args: { asOf?: number | null }, ctx: SubgraphContext) =>
        profileAt(ctx, account.id, args.asOf ?? null),
      profileHistory: async (
        account: TrackedAccount,
        args: { range?: Range | null; first: number; after?: string | null },
        ctx: SubgraphContext,
      ) => {
        const first = checkFirst(args.first);
        const range = checkRange(args.range);
        const after = args.after ? decodeCursor(args.after) : null;
        const all = versionsOverlapping(await loaders(ctx).versions.load(account.id), range);
        const rest = after === null ? all : all.filter((v) => v.validFrom > after);
        const nodes = rest.slice(0, first);
        const last = nodes[nodes.length - 1];
        return {
          nodes,
          totalCount: all.length,
          endCursor: rest.length > first && last ? encodeCursor(last) : null,
        };
      },
      audience: (account: TrackedAccount, args: { asOf?: number | null }, ctx: SubgraphContext) =>
        audienceAt(ctx, account.id, args.asOf ?? null),
      audienceChange: async (
        account: TrackedAccount,
        args: { from: number; to: number },
        ctx: SubgraphContext,
      ) => {
        const [before, after] = await Promise.all([
          audienceAt(ctx, account.id, args.from),
          audienceAt(ctx, account.id, args.to),
        ]);
        const changes = Object.fromEntries(
          DIMENSIONS.map((d) => [d, bucketChanges(before?.[d] ?? [], after?.[d] ?? [])]),
        );
        return { from: args.from, to: args.to, before, after, ...changes };
      },
    },
  } satisfies GraphQLResolverMap<SubgraphContext>;
}
