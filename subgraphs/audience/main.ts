// Serves the audience subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import type { ServedGraphQL } from '../../lib/graphql/serve.ts';
import { serveSubgraph } from '../../lib/graphql/subgraph-server.ts';
import { createAudienceSubgraph, type AudienceDeps } from './server.ts';

export function startAudienceSubgraph(
  config: LoupeConfig,
  deps: AudienceDeps,
): Promise<ServedGraphQL> {
  return serveSubgraph(config, 'audience', createAudienceSubgraph(deps, config.audience));
}
