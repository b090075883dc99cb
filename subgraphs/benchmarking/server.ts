// Builds the benchmarking subgraph without side effects, so tests and benchmarks compose it in-process.
import type { InternalTokens } from '../../lib/auth/internal-token.ts';
import { createSubgraphServer, type SubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { createMetricsStore } from '../metrics/metrics.store.ts';
import { createSealedReads } from '../metrics/sealed-reads.ts';
import { benchmarkingResolvers } from './benchmarking.resolvers.ts';
import { createSetReads } from './set-reads.ts';

export type BenchmarkingSubgraph = SubgraphServer;

export interface BenchmarkingDeps {
  meta: MetaStore;
  /** The stored events, rollups and posts benchmarks read. */
  olap: Olap;
  /** The live tail of counters, and the write marks that keep sealed reads exact. */
  live: LiveStore;
  /** Verifies the caller the gateway signed. */
  tokens: InternalTokens;
  /** Where masked internal errors are reported; stderr when absent. */
  logger?: Logger;
}

export function createBenchmarkingSubgraph(deps: BenchmarkingDeps): BenchmarkingSubgraph {
  // The same series reads as the metrics subgraph's, so a member's figures match Account.metrics.
  const sealed = createSealedReads({ olap: deps.olap, live: deps.live });
  const store = createMetricsStore({ ...deps, sealed });
  return createSubgraphServer({
    name: 'benchmarking',
    resolvers: benchmarkingResolvers({
      meta: deps.meta,
      store,
      sets: createSetReads({ olap: deps.olap, live: deps.live }),
    }),
    tokens: deps.tokens,
    logger: deps.logger,
  });
}
