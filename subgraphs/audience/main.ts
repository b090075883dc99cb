// Serves the audience subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import { serveGraphQL, type ServedGraphQL } from '../../lib/graphql/serve.ts';
import { createAudienceSubgraph, type AudienceDeps } from './server.ts';

export async function startAudienceSubgraph(
  config: LoupeConfig,
  deps: AudienceDeps,
): Promise<ServedGraphQL> {
  const subgraph = createAudienceSubgraph(deps);
  return serveGraphQL({
    apollo: subgraph.apollo,
    host: config.host,
    port: config.ports.audience,
    context: subgraph.context,
  });
}
