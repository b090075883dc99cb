// Builds the reports subgraph without side effects, so tests and benchmarks compose it in-process.
import type { Authenticator } from '../../lib/auth/caller.ts';
import { createSubgraphServer, type SubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { Logger } from '../../lib/logger.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { reportsResolvers } from './reports.resolvers.ts';

export type ReportsSubgraph = SubgraphServer;

export interface ReportsDeps {
  meta: MetaStore;
  authenticate: Authenticator;
  /** Where masked internal errors are reported; stderr when absent. */
  logger?: Logger;
}

export function createReportsSubgraph(deps: ReportsDeps): ReportsSubgraph {
  return createSubgraphServer({
    name: 'reports',
    resolvers: reportsResolvers({ meta: deps.meta }),
    authenticate: deps.authenticate,
    logger: deps.logger,
  });
}
