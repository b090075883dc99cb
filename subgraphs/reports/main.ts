// Serves the reports subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import { serveGraphQL, type ServedGraphQL } from '../../lib/graphql/serve.ts';
import { createReportsSubgraph, type ReportsDeps } from './server.ts';

export async function startReportsSubgraph(
  config: LoupeConfig,
  deps: ReportsDeps,
): Promise<ServedGraphQL> {
  const subgraph = createReportsSubgraph(deps);
  return serveGraphQL({
    apollo: subgraph.apollo,
    host: config.host,
    port: config.ports.reports,
    context: subgraph.context,
  });
}
