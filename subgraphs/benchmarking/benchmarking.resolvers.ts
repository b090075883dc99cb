// Resolvers of the benchmarking subgraph: competitor sets of the caller's organisation.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import {
  createCompetitorSet,
  deleteCompetitorSet,
  getCompetitorSet,
  listCompetitorSets,
  type CompetitorSet,
} from '../../lib/meta/competitor-sets.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';

export const MAX_SET_NAME_LENGTH = 100;
export const MAX_SET_ACCOUNTS = 100;

interface CreateArgs {
  name: string;
  accountIds: string[];
}

export function benchmarkingResolvers(deps: { meta: MetaStore }) {
  const { meta } = deps;
  return {
    DateTime: DateTimeScalar,
    Query: {
      competitorSets: (_: unknown, __: unknown, ctx: SubgraphContext) =>
        listCompetitorSets(meta, ctx.caller.orgId),
      competitorSet: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        getCompetitorSet(meta, ctx.caller.orgId, args.id),
    },
    Mutation: {
      async createCompetitorSet(_: unknown, args: CreateArgs, ctx: SubgraphContext) {
        const name = args.name.trim();
        if (name.length === 0) throw badInput('name must not be empty');
        if (name.length > MAX_SET_NAME_LENGTH) {
          throw badInput(`name must be at most ${MAX_SET_NAME_LENGTH} characters`);
        }
        const accountIds = [...new Set(args.accountIds)];
        if (accountIds.length === 0) throw badInput('accountIds must name at least one account');
        if (accountIds.length > MAX_SET_ACCOUNTS) {
          throw badInput(`a competitor set holds at most ${MAX_SET_ACCOUNTS} accounts`);
        }
        const result = await createCompetitorSet(meta, ctx.caller.orgId, name, accountIds);
        if (result.ok) return result.set;
        if (result.reason === 'duplicate-name') {
          throw badInput(`a competitor set named ${JSON.stringify(name)} already exists`);
        }
        throw badInput(`accounts not tracked by this organisation: ${listIds(result.accountIds)}`);
      },
      deleteCompetitorSet: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        deleteCompetitorSet(meta, ctx.caller.orgId, args.id),
    },
    CompetitorSet: {
      accounts: (set: CompetitorSet) => set.accountIds.map(accountReference),
    },
  } satisfies GraphQLResolverMap<SubgraphContext>;
}

/** Accounts belong to other subgraphs; this one only names them. */
export function accountReference(id: string): { __typename: 'Account'; id: string } {
  return { __typename: 'Account', id };
}

/** A readable list of ids for an error message, cut after the first ten. */
export function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, 10).map((id) => JSON.stringify(id));
  return ids.length > 10 ? `${shown.join(', ')} and ${ids.length - 10} more` : shown.join(', ');
}
