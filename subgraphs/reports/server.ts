// Builds the reports subgraph without side effects, so tests and benchmarks compose it in-process.
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, type GraphQLSchema } from 'graphql';
import type { Authenticator } from '../../lib/auth/caller.ts';
import {
  apiKeyContext,
  createErrorMasker,
  type SubgraphContext,
} from '../../lib/graphql/subgraph-context.ts';
import type { Logger } from '../../lib/logger.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { reportsResolvers } from './reports.resolvers.ts';

const SDL = new URL('../../schema/subgraphs/reports.graphql', import.meta.url);

export interface ReportsSubgraph {
  apollo: ApolloServer<SubgraphContext>;
  schema: GraphQLSchema;
  context: (req: IncomingMessage) => Promise<SubgraphContext>;
}

export interface ReportsDeps {
  meta: MetaStore;
  authenticate: Authenticator;
  /** Where masked internal errors are reported; stderr when absent. */
  logger?: Logger;
}

export function createReportsSubgraph(deps: ReportsDeps): ReportsSubgraph {
  const schema = buildSubgraphSchema({
    typeDefs: parse(readFileSync(SDL, 'utf8')),
    // Apollo types the context of a resolver map as unknown; ours is the verified SubgraphContext.
    resolvers: reportsResolvers({ meta: deps.meta }) as GraphQLResolverMap<unknown>,
  });
  const { logger } = deps;
  const apollo = new ApolloServer<SubgraphContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    // Traces for Apollo's hosted reporting, which we do not use; they cost time per request.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
    formatError: createErrorMasker((error) =>
      logger
        ? logger.error({ err: error, subgraph: 'reports' }, 'internal error')
        : console.error('reports subgraph: internal error', error),
    ),
  });
  return { apollo, schema, context: apiKeyContext(deps.authenticate) };
}
