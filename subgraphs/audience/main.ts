// Serves the audience subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import type { ServedGraphQL } from '../../lib/graphql/serve.ts';
import type { Readiness } from '../../lib/observability/ops-routes.ts';
import { serveSubgraph } from '../../lib/graphql/subgraph-server.ts';
import { createAudienceSubgraph, type AudienceDeps } from './server.ts';

export function startAudienceSubgraph(
  config: LoupeConfig,
  deps: AudienceDeps & { ready?: Readiness },
): Promise<ServedGraphQL> {
  return serveSubgraph(
    config,
    'audience',
    createAudienceSubgraph(deps, config.audience),
    deps.ready,
  );
}
