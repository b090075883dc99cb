// Serves the benchmarking subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import type { ServedGraphQL } from '../../lib/graphql/serve.ts';
import { serveSubgraph } from '../../lib/graphql/subgraph-server.ts';
import { createBenchmarkingSubgraph, type BenchmarkingDeps } from './server.ts';

export function startBenchmarkingSubgraph(
  config: LoupeConfig,
  deps: BenchmarkingDeps,
): Promise<ServedGraphQL> {
  return serveSubgraph(config, 'benchmarking', createBenchmarkingSubgraph(deps));
}
