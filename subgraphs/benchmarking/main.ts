// Serves the benchmarking subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import type { ServedGraphQL } from '../../lib/graphql/serve.ts';
import type { Readiness } from '../../lib/observability/ops-routes.ts';
import { serveSubgraph } from '../../lib/graphql/subgraph-server.ts';
import { createBenchmarkingSubgraph, type BenchmarkingDeps } from './server.ts';

export function startBenchmarkingSubgraph(
  config: LoupeConfig,
  deps: BenchmarkingDeps & { ready?: Readiness },
): Promise<ServedGraphQL> {
  return serveSubgraph(config, 'benchmarking', createBenchmarkingSubgraph(deps), deps.ready);
}
