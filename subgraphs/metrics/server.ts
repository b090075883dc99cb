// Builds the metrics subgraph without side effects, so tests and benchmarks compose it in-process.
import type { InternalTokens } from '../../lib/auth/internal-token.ts';
import { createSubgraphServer, type SubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { Logger } from '../../lib/logger.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { MetaQuery } from '../../lib/meta/meta.port.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { metricsResolvers } from './metrics.resolvers.ts';
import { createMetricsStore } from './metrics.store.ts';
import { createSealedReads } from './sealed-reads.ts';

export type MetricsSubgraph = SubgraphServer;

export function createMetricsSubgraph(deps: {
  olap: Olap;
  live: LiveStore;
  meta: MetaQuery;
  /** Verifies the caller the gateway signed. */
  tokens: InternalTokens;
  logger?: Logger;
}): MetricsSubgraph {
  // The sink marks every write in the live store, which is what keeps sealed reads exact.
  const sealed = createSealedReads({ olap: deps.olap, live: deps.live });
  const store = createMetricsStore({ ...deps, sealed });
  return createSubgraphServer({
    name: 'metrics',
    resolvers: metricsResolvers({ store, live: deps.live, meta: deps.meta }),
    tokens: deps.tokens,
    logger: deps.logger,
  });
}
