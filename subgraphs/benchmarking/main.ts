// Serves the benchmarking subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import { serveGraphQL, type ServedGraphQL } from '../../lib/graphql/serve.ts';
import { createBenchmarkingSubgraph, type BenchmarkingDeps } from './server.ts';

export async function startBenchmarkingSubgraph(
  config: LoupeConfig,
  deps: BenchmarkingDeps,
): Promise<ServedGraphQL> {
  const subgraph = createBenchmarkingSubgraph(deps);
  return serveGraphQL({
    apollo: subgraph.apollo,
    host: config.host,
    port: config.ports.benchmarking,
    context: subgraph.context,
  });
}
