// Serves the posts subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import type { ServedGraphQL } from '../../lib/graphql/serve.ts';
import type { Readiness } from '../../lib/observability/ops-routes.ts';
import { serveSubgraph } from '../../lib/graphql/subgraph-server.ts';
import { createPostsSubgraph, type PostsDeps } from './server.ts';

export function startPostsSubgraph(
  config: LoupeConfig,
  deps: PostsDeps & { ready?: Readiness },
): Promise<ServedGraphQL> {
  return serveSubgraph(config, 'posts', createPostsSubgraph(deps), deps.ready);
}
