// Serves the product subgraph: queries over HTTP, productLive over graphql-ws on the same path.
import type { LoupeConfig } from '../../lib/config.ts';
import type { ServedGraphQL } from '../../lib/graphql/serve.ts';
import type { Readiness } from '../../lib/observability/ops-routes.ts';
import { serveSubgraph } from '../../lib/graphql/subgraph-server.ts';
import { createProductSubgraph, type ProductDeps } from './server.ts';

export function startProductSubgraph(
  config: LoupeConfig,
  deps: ProductDeps & { ready?: Readiness },
): Promise<ServedGraphQL> {
  return serveSubgraph(config, 'product', createProductSubgraph(deps), deps.ready, {
    subscriptions: true,
  });
}
