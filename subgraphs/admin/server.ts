// Builds the admin subgraph without side effects, so tests compose it in-process.
import type { InternalTokens } from '../../lib/auth/internal-token.ts';
import { createSubgraphServer, type SubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { Logger } from '../../lib/logger.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import type { GraphQLSchema } from 'graphql';
import { adminResolvers, type AdminResolverDeps } from './admin.resolvers.ts';

export interface AdminDeps {
  meta: MetaStore;
  apiSchema: GraphQLSchema;
  forgetKeys?: AdminResolverDeps['forgetKeys'];
  forgetClient?: AdminResolverDeps['forgetClient'];
  connections: AdminResolverDeps['connections'];
  /** Verifies the caller the gateway signed. */
  tokens: InternalTokens;
  /** Where masked internal errors are reported; stderr when absent. */
  logger?: Logger;
}

export function createAdminSubgraph(deps: AdminDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'admin',
    resolvers: adminResolvers({
      meta: deps.meta,
      apiSchema: deps.apiSchema,
      connections: deps.connections,
      ...(deps.forgetKeys && { forgetKeys: deps.forgetKeys }),
      ...(deps.forgetClient && { forgetClient: deps.forgetClient }),
    }),
    tokens: deps.tokens,
    logger: deps.logger,
  });
}
