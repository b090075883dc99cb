// Builds the posts subgraph without side effects, so tests and benchmarks compose it in-process.
import type { Authenticator } from '../../lib/auth/caller.ts';
import { createSubgraphServer, type SubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import type { SearchIndex } from '../../lib/search/search.port.ts';
import { postsResolvers } from './posts.resolvers.ts';
import { createPostsStore } from './posts.store.ts';
import { createSentimentStore } from './sentiment.store.ts';

export interface PostsDeps {
  olap: Olap;
  /** Query.search answers UNAVAILABLE without one. */
  search?: SearchIndex;
  authenticate: Authenticator;
  /** Where masked internal errors are reported; stderr when absent. */
  logger?: Logger;
}

export function createPostsSubgraph(deps: PostsDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'posts',
    resolvers: postsResolvers({
      store: createPostsStore(deps.olap),
      sentiment: createSentimentStore(deps.olap),
      ...(deps.search && { search: deps.search }),
      ...(deps.logger && { logger: deps.logger }),
    }),
    authenticate: deps.authenticate,
    logger: deps.logger,
  });
}
