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
import {
  listPartnerClients,
  listUnknownOperations,
  publishManifest,
  registerPartnerClient,
  restoreManifest,
  setPartnerClientMode,
  type ClientMode,
  type PartnerClient,
} from '../../lib/meta/partner-clients.repo.ts';
import { readManifest } from '../../lib/graphql/trusted-manifest.ts';
import type { GraphQLSchema } from 'graphql';
import { isTimeZone } from '../../lib/time/zoned-buckets.ts';
import { connectionResolvers, type ConnectionResolverDeps } from './connections.resolvers.ts';

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

function noSuchClient(name: string) {
  return graphqlError('NOT_FOUND', `no partner client ${JSON.stringify(name)}`);
}

/** The stored mode of a GraphQL ClientMode value (the schema admits only ENFORCE and AUDIT). */
function modeOf(value: string): ClientMode {
  return value.toLowerCase() as ClientMode;
}

async function organisation(meta: MetaStore, orgId: string) {
  const org = await getOrganisation(meta, orgId);
  // A key outlives nothing: its organisation is there unless it was deleted under it.
  if (!org) throw graphqlError('NOT_FOUND', 'the organisation of this key no longer exists');
  return org;
}

export interface AdminResolverDeps {
  meta: MetaStore;
  /** Connected accounts (connections.resolvers.ts). */
  connections: Omit<ConnectionResolverDeps, 'meta'>;
  /** The API schema partner manifests are validated against. */
  apiSchema: GraphQLSchema;
  /** Drops what the gateway in this process remembers of a client's manifest and mode. */
  forgetClient?: (orgId: string, client: string) => void;
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
  const clientOf = async (orgId: string, name: string): Promise<PartnerClient> => {
    const [client] = await listPartnerClients(meta, orgId, [name]);
    if (!client) throw noSuchClient(name);
    return client;
  };
  const connections = connectionResolvers({ meta, ...deps.connections });
  const changed = (orgId: string, name: string) => {
    deps.forgetClient?.(orgId, name);
    return clientOf(orgId, name);
  };
  return {
    DateTime: DateTimeScalar,
    // GraphQL's names for the roles the meta store keeps in lower case.
    KeyRole: { ADMIN: 'admin', MEMBER: 'member', PARTNER: 'partner', INGEST: 'ingest' },
    PartnerClient: {
      // Not an enum map: an argument's default (ENFORCE) would reach resolvers unmapped.
      mode: (client: PartnerClient) => client.mode.toUpperCase(),
      unknownOperations: (client: PartnerClient, _: unknown, ctx: SubgraphContext) =>
        listUnknownOperations(meta, ctx.caller.orgId, client.name),
    },
    Account: connections.Account,
    Connection: connections.Connection,
    Query: {
      ...connections.Query,
      organisation: (_: unknown, __: unknown, ctx: SubgraphContext) =>
        organisation(meta, ctx.caller.orgId),
      async apiKeys(_: unknown, args: { includeRevoked: boolean }, ctx: SubgraphContext) {
        const keys = await listApiKeys(meta, adminOf(ctx, 'list keys'));
        return args.includeRevoked ? keys : keys.filter((k) => k.revokedAt === null);
      },
      partnerClients: (_: unknown, __: unknown, ctx: SubgraphContext) =>
        listPartnerClients(meta, adminOf(ctx, 'list partner clients')),
    },
    Mutation: {
      ...connections.Mutation,
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
        if (client !== undefined && (await listPartnerClients(meta, org, [client])).length === 0) {
          throw badInput(
            `no partner client ${JSON.stringify(client)}; register it first (registerPartnerClient)`,
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
      async registerPartnerClient(
        _: unknown,
        args: { name: string; mode: string },
        ctx: SubgraphContext,
      ) {
        const org = adminOf(ctx, 'register partner clients');
        const name = nameOf('name', args.name);
        if (!(await registerPartnerClient(meta, org, name, modeOf(args.mode)))) {
          throw badInput(`partner client ${JSON.stringify(name)} is already registered`);
        }
        return changed(org, name);
      },
      async setPartnerClientMode(
        _: unknown,
        args: { name: string; mode: string },
        ctx: SubgraphContext,
      ) {
        const org = adminOf(ctx, 'change partner clients');
        if (!(await setPartnerClientMode(meta, org, args.name, modeOf(args.mode)))) {
          throw noSuchClient(args.name);
        }
        return changed(org, args.name);
      },
      async publishManifest(
        _: unknown,
        args: { client: string; manifest: string },
        ctx: SubgraphContext,
      ) {
        const org = adminOf(ctx, 'publish manifests');
        const read = readManifest(args.manifest, deps.apiSchema);
        if (!read.ok) {
          const shown = read.errors.slice(0, 10).join('; ');
          const more = read.errors.length > 10 ? ` (and ${read.errors.length - 10} more)` : '';
          throw badInput(`the manifest was not published: ${shown}${more}`);
        }
        if ((await publishManifest(meta, org, args.client, read.operations)) === null) {
          throw noSuchClient(args.client);
        }
        return changed(org, args.client);
      },
      async restoreManifest(
        _: unknown,
        args: { client: string; version: number },
        ctx: SubgraphContext,
      ) {
        const org = adminOf(ctx, 'restore manifests');
        if (!(await restoreManifest(meta, org, args.client, args.version))) {
          throw graphqlError(
            'NOT_FOUND',
            `partner client ${JSON.stringify(args.client)} has no manifest version ${args.version}`,
          );
        }
        return changed(org, args.client);
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
