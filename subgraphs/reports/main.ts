// Serves the reports subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import type { ServedGraphQL } from '../../lib/graphql/serve.ts';
import type { Readiness } from '../../lib/observability/ops-routes.ts';
import { serveSubgraph } from '../../lib/graphql/subgraph-server.ts';
import { createReportsSubgraph, type ReportsDeps } from './server.ts';

export function startReportsSubgraph(
  config: LoupeConfig,
  deps: ReportsDeps & { ready?: Readiness },
): Promise<ServedGraphQL> {
  return serveSubgraph(config, 'reports', createReportsSubgraph(deps), deps.ready);
}
