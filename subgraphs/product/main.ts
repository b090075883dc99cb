// Serves the product subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import type { ServedGraphQL } from '../../lib/graphql/serve.ts';
import type { Readiness } from '../../lib/observability/ops-routes.ts';
import { serveSubgraph } from '../../lib/graphql/subgraph-server.ts';
import { createProductSubgraph, type ProductDeps } from './server.ts';

export function startProductSubgraph(
  config: LoupeConfig,
  deps: ProductDeps & { ready?: Readiness },
): Promise<ServedGraphQL> {
  return serveSubgraph(config, 'product', createProductSubgraph(deps), deps.ready);
}
