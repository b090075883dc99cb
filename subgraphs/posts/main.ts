// Serves the posts subgraph over HTTP on its configured port.
import type { LoupeConfig } from '../../lib/config.ts';
import { serveGraphQL, type ServedGraphQL } from '../../lib/graphql/serve.ts';
import { createPostsSubgraph, type PostsDeps } from './server.ts';

export async function startPostsSubgraph(
  config: LoupeConfig,
  deps: PostsDeps,
): Promise<ServedGraphQL> {
  const subgraph = createPostsSubgraph(deps);
  return serveGraphQL({
    apollo: subgraph.apollo,
    host: config.host,
    port: config.ports.posts,
    context: subgraph.context,
  });
}
