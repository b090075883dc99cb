// Serves the admin subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import type { ServedGraphQL } from '../../lib/graphql/serve.ts';
import type { Readiness } from '../../lib/observability/ops-routes.ts';
import { serveSubgraph } from '../../lib/graphql/subgraph-server.ts';
import { createAdminSubgraph, type AdminDeps } from './server.ts';

export function startAdminSubgraph(
  config: LoupeConfig,
  deps: AdminDeps & { ready?: Readiness },
): Promise<ServedGraphQL> {
  return serveSubgraph(config, 'admin', createAdminSubgraph(deps), deps.ready);
}
