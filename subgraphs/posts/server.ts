// Builds the posts subgraph without side effects, so tests and benchmarks compose it in-process.
import type { InternalTokens } from '../../lib/auth/internal-token.ts';
import { createSubgraphServer, type SubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import type { SearchIndex } from '../../lib/search/search.port.ts';
import { postAnalyticsResolvers } from './post-analytics.resolvers.ts';
import { createPostAnalyticsStore } from './post-analytics.store.ts';
import { postsResolvers } from './posts.resolvers.ts';
import { createPostsStore } from './posts.store.ts';
import { createSentimentStore } from './sentiment.store.ts';

export interface PostsDeps {
  olap: Olap;
  /** Query.search answers UNAVAILABLE without one. */
  search?: SearchIndex;
  /** Verifies the caller the gateway signed. */
  tokens: InternalTokens;
  /** Where masked internal errors are reported; stderr when absent. */
  logger?: Logger;
}

export function createPostsSubgraph(deps: PostsDeps): SubgraphServer {
  const store = createPostsStore(deps.olap);
  const sentiment = createSentimentStore(deps.olap);
  const posts = postsResolvers({
    store,
    sentiment,
    ...(deps.search && { search: deps.search }),
    ...(deps.logger && { logger: deps.logger }),
  });
  const analytics = postAnalyticsResolvers({
    store,
    analytics: createPostAnalyticsStore(deps.olap),
    timeZone: (name) => sentiment.timeZone(name),
  });
  return createSubgraphServer({
    name: 'posts',
    resolvers: {
      ...posts,
      ...analytics,
      Query: { ...posts.Query, ...analytics.Query },
      Post: { ...posts.Post, ...analytics.Post },
    },
    tokens: deps.tokens,
    logger: deps.logger,
  });
}
