// The organisation's own administration through the API: its keys and its time zone, for ADMIN
// keys only, always of the caller's organisation (never one named in arguments).
import type { KeyRole } from '../../lib/auth/caller.ts';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput, forbidden, graphqlError } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import {
  apiKeyHashes,
  getOrganisation,
  isRefusedValue,
  issueApiKey,
  listApiKeys,
  revokeApiKey,
  setOrganisationTimeZone,
} from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { isTimeZone } from '../../lib/time/zoned-buckets.ts';

const MAX_NAME = 200;

interface CreateApiKeyInput {
  name: string;
  role: KeyRole;
  client?: string | null;
}

function adminOf(ctx: SubgraphContext, what: string): string {
  if (ctx.caller.role !== 'admin') {
    throw forbidden(`a ${ctx.caller.role} key cannot ${what}; use an admin key`);
  }
  return ctx.caller.orgId;
}

/** A trimmed name of 1 to MAX_NAME characters, or BAD_USER_INPUT naming the field. */
function nameOf(field: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME || trimmed.includes('\0')) {
    throw badInput(`${field} must have 1 to ${MAX_NAME} characters, and no NUL`);
  }
  return trimmed;
}

async function organisation(meta: MetaStore, orgId: string) {
  const org = await getOrganisation(meta, orgId);
  // A key outlives nothing: its organisation is there unless it was deleted under it.
  if (!org) throw graphqlError('NOT_FOUND', 'the organisation of this key no longer exists');
  return org;
}

export interface AdminResolverDeps {
  meta: MetaStore;
  /**
   * Drops what key caches remember of these keys (by SHA-256), so a revoked key or a new time
   * zone takes effect at once rather than when the cached answer expires.
   */
  forgetKeys?: (keyHashes: readonly string[]) => Promise<void>;
}

export function adminResolvers(deps: AdminResolverDeps) {
  const { meta } = deps;
  const forget = async (orgId: string, ids?: readonly string[]) => {
    if (deps.forgetKeys) await deps.forgetKeys(await apiKeyHashes(meta, orgId, ids));
  };
  return {
    DateTime: DateTimeScalar,
    // GraphQL's names for the roles the meta store keeps in lower case.
    KeyRole: { ADMIN: 'admin', MEMBER: 'member', PARTNER: 'partner', INGEST: 'ingest' },
    Query: {
      organisation: (_: unknown, __: unknown, ctx: SubgraphContext) =>
        organisation(meta, ctx.caller.orgId),
      async apiKeys(_: unknown, args: { includeRevoked: boolean }, ctx: SubgraphContext) {
        const keys = await listApiKeys(meta, adminOf(ctx, 'list keys'));
        return args.includeRevoked ? keys : keys.filter((k) => k.revokedAt === null);
      },
    },
    Mutation: {
      async createApiKey(_: unknown, args: { input: CreateApiKeyInput }, ctx: SubgraphContext) {
        const org = adminOf(ctx, 'create keys');
        const { role } = args.input;
        const name = nameOf('input.name', args.input.name);
        const client =
          args.input.client == null ? undefined : nameOf('input.client', args.input.client);
        if (role === 'partner' && client === undefined) {
          throw badInput('a PARTNER key needs input.client, the partner client it runs for');
        }
        if (role !== 'partner' && client !== undefined) {
          throw badInput(
            `input.client is for PARTNER keys only; this one is ${role.toUpperCase()}`,
          );
        }
        try {
          const { key, info } = await issueApiKey(meta, org, name, {
            role,
            ...(client !== undefined && { client }),
          });
          return { key, apiKey: info };
        } catch (error) {
          if (isRefusedValue(error)) throw badInput('the store refused this name or client');
          throw error;
        }
      },
      async revokeApiKey(_: unknown, args: { id: string }, ctx: SubgraphContext) {
        const org = adminOf(ctx, 'revoke keys');
        const revoked = await revokeApiKey(meta, org, args.id);
        if (revoked) await forget(org, [args.id]);
        return revoked;
      },
      async setTimeZone(_: unknown, args: { timeZone: string }, ctx: SubgraphContext) {
        const org = adminOf(ctx, 'change the time zone');
        if (!isTimeZone(args.timeZone)) {
          throw badInput(`${JSON.stringify(args.timeZone)} is not an IANA time zone`);
        }
        await setOrganisationTimeZone(meta, org, args.timeZone);
        // Verified callers carry the zone; the organisation's keys are verified again.
        await forget(org);
        return organisation(meta, org);
      },
    },
  };
}
