// Builds the benchmarking subgraph without side effects, so tests and benchmarks compose it in-process.
import type { InternalTokens } from '../../lib/auth/internal-token.ts';
import { createSubgraphServer, type SubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { Logger } from '../../lib/logger.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { benchmarkingResolvers } from './benchmarking.resolvers.ts';

export type BenchmarkingSubgraph = SubgraphServer;

export interface BenchmarkingDeps {
  meta: MetaStore;
  /** Verifies the caller the gateway signed. */
  tokens: InternalTokens;
  /** Where masked internal errors are reported; stderr when absent. */
  logger?: Logger;
}

export function createBenchmarkingSubgraph(deps: BenchmarkingDeps): BenchmarkingSubgraph {
  return createSubgraphServer({
    name: 'benchmarking',
    resolvers: benchmarkingResolvers({ meta: deps.meta }),
    tokens: deps.tokens,
    logger: deps.logger,
  });
}
