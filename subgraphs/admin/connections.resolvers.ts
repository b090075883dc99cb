// Connected accounts through the API: connect (tokens in, sealed at once), disconnect, poll now,
// and each connection's state. Tokens are taken in and never answered; every statement is scoped
// by the caller's organisation.
import DataLoader from 'dataloader';
import { badInput, forbidden, graphqlError } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import {
  ConnectionError,
  connectAccount,
  disconnectAccount,
  listConnections,
  requestPoll,
  type ConnectedPlatform,
  type ConnectionView,
  type PollTier,
} from '../../lib/meta/connections.repo.ts';
import { isRefusedValue } from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import type { TokenCipher } from '../../lib/secrets/token-cipher.ts';

export interface ConnectionResolverDeps {
  meta: MetaStore;
  /** Unset: this deployment cannot keep tokens, and connecting is refused with the reason. */
  cipher?: TokenCipher;
  pollSeconds: { realtime: number; standard: number };
  now?: () => number;
}

interface ConnectAccountInput {
  accountId: string;
  platform: string;
  platformAccountId: string;
  accessToken: string;
  refreshToken?: string | null;
  /** Epoch ms, as the DateTime scalar parses it. */
  expiresAt?: number | null;
  refreshExpiresAt?: number | null;
  tier: string;
  handle?: string | null;
}

const MAX_ID = 128;
const MAX_TOKEN = 4096;
const STATES: Record<ConnectionView['state'], string> = {
  healthy: 'HEALTHY',
  rate_limited: 'RATE_LIMITED',
  needs_reauth: 'NEEDS_REAUTHORISATION',
  failing: 'FAILING',
};

function adminOf(ctx: SubgraphContext, what: string): string {
  if (ctx.caller.role !== 'admin') {
    throw forbidden(`a ${ctx.caller.role} key cannot ${what}; use an admin key`);
  }
  return ctx.caller.orgId;
}

function readerOf(ctx: SubgraphContext): string {
  if (ctx.caller.role !== 'admin' && ctx.caller.role !== 'member') {
    throw forbidden(`a ${ctx.caller.role} key cannot read connections`);
  }
  return ctx.caller.orgId;
}

/** A field of 1 to `max` characters, with no control characters; the message never holds the value. */
function checked(field: string, value: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  if (value.length === 0 || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    throw badInput(`${field} must have 1 to ${max} characters, none of them control characters`);
  }
  return value;
}

// One lookup per request for every Account.connection in it.
const loaders = new WeakMap<SubgraphContext, DataLoader<string, ConnectionView | null>>();

export function connectionResolvers(deps: ConnectionResolverDeps) {
  const { meta } = deps;
  const now = deps.now ?? Date.now;
  const loaderOf = (ctx: SubgraphContext) => {
    let loader = loaders.get(ctx);
    if (!loader) {
      const orgId = readerOf(ctx);
      loader = new DataLoader(async (ids: readonly string[]) => {
        const found = new Map(
          (await listConnections(meta, orgId, new Date(now()), ids)).map((c) => [c.accountId, c]),
        );
        return ids.map((id) => found.get(id) ?? null);
      });
      loaders.set(ctx, loader);
    }
    return loader;
  };
  return {
    Account: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      connection: (account: { id: string }, _: unknown, ctx: SubgraphContext) =>
        loaderOf(ctx).load(account.id),
    },
    Connection: {
      account: (c: ConnectionView) => ({ id: c.accountId }),
      platform: (c: ConnectionView) => c.platform.toUpperCase(),
      tier: (c: ConnectionView) => c.tier.toUpperCase(),
      state: (c: ConnectionView) => STATES[c.state],
      lastPollAt: (c: ConnectionView) => c.lastPollStartedAt,
      headroom: (c: ConnectionView) =>
        (c.headroom as Record<string, number | string | null>[]).map((h) => ({
          ...h,
          resetAt: typeof h.resetAt === 'number' ? new Date(h.resetAt) : null,
          blockedUntil: typeof h.blockedUntil === 'number' ? new Date(h.blockedUntil) : null,
        })),
    },
    Query: {
      connections: (_: unknown, __: unknown, ctx: SubgraphContext) =>
        listConnections(meta, readerOf(ctx), new Date(now())),
    },
    Mutation: {
      async connectAccount(_: unknown, args: { input: ConnectAccountInput }, ctx: SubgraphContext) {
        const orgId = adminOf(ctx, 'connect accounts');
        const { input } = args;
        if (!deps.cipher) {
          throw graphqlError(
            'UNAVAILABLE',
            'this deployment has no key to encrypt tokens with: set LOUPE_TOKEN_KEYS',
          );
        }
        const accountId = checked('input.accountId', input.accountId, MAX_ID);
        const platformAccountId = checked(
          'input.platformAccountId',
          input.platformAccountId,
          MAX_ID,
        );
        const accessToken = checked('input.accessToken', input.accessToken, MAX_TOKEN);
        const refreshToken =
          input.refreshToken == null
            ? undefined
            : checked('input.refreshToken', input.refreshToken, MAX_TOKEN);
        const at = now();
        if (input.expiresAt != null && input.expiresAt <= at && refreshToken === undefined) {
          throw badInput(
            'input.expiresAt has passed and there is no refresh token: authorise the account again',
          );
        }
        if (input.refreshExpiresAt != null && input.refreshExpiresAt <= at) {
          throw badInput('input.refreshExpiresAt has passed: authorise the account again');
        }
        const tier = input.tier.toLowerCase() as PollTier;
        try {
          return await connectAccount(meta, deps.cipher, {
            orgId,
            accountId,
            platform: input.platform.toLowerCase() as ConnectedPlatform,
            platformAccountId,
            tier,
            pollIntervalSeconds: deps.pollSeconds[tier],
            credentials: {
              accessToken,
              ...(refreshToken !== undefined && { refreshToken }),
              ...(input.expiresAt != null && { expiresAt: input.expiresAt }),
              ...(input.refreshExpiresAt != null && { refreshExpiresAt: input.refreshExpiresAt }),
            },
            ...(input.handle != null && { handle: checked('input.handle', input.handle, 256) }),
            now: new Date(at),
          });
        } catch (error) {
          if (error instanceof ConnectionError) throw badInput(error.message);
          if (isRefusedValue(error)) throw badInput('the store refused a value of this input');
          throw error;
        }
      },
      disconnectAccount: (_: unknown, args: { accountId: string }, ctx: SubgraphContext) =>
        disconnectAccount(meta, adminOf(ctx, 'disconnect accounts'), args.accountId),
      async pollNow(_: unknown, args: { accountId: string }, ctx: SubgraphContext) {
        const orgId = adminOf(ctx, 'ask for polls');
        try {
          const view = await requestPoll(meta, orgId, args.accountId, new Date(now()));
          if (!view) throw graphqlError('NOT_FOUND', `account ${args.accountId} is not connected`);
          return view;
        } catch (error) {
          if (error instanceof ConnectionError) throw badInput(error.message);
          throw error;
        }
      },
    },
  };
}
