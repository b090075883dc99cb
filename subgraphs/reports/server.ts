// Builds the reports subgraph without side effects, so tests and benchmarks compose it in-process.
import type { InternalTokens } from '../../lib/auth/internal-token.ts';
import { createSubgraphServer, type SubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { Logger } from '../../lib/logger.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { reportsResolvers } from './reports.resolvers.ts';

export type ReportsSubgraph = SubgraphServer;

export interface ReportsDeps {
  meta: MetaStore;
  /** Verifies the caller the gateway signed. */
  tokens: InternalTokens;
  /** Where masked internal errors are reported; stderr when absent. */
  logger?: Logger;
}

export function createReportsSubgraph(deps: ReportsDeps): ReportsSubgraph {
  return createSubgraphServer({
    name: 'reports',
    resolvers: reportsResolvers({ meta: deps.meta }),
    tokens: deps.tokens,
    logger: deps.logger,
  });
}
