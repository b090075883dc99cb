// Builds the audience subgraph without side effects, so tests and benchmarks compose it in-process.
import type { InternalTokens } from '../../lib/auth/internal-token.ts';
import { createSubgraphServer, type SubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { Logger } from '../../lib/logger.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { audienceResolvers } from './audience.resolvers.ts';
import { createAudienceStore } from './audience.store.ts';

export interface AudienceDeps {
  olap: Olap;
  meta: MetaStore;
  /** Verifies the caller the gateway signed. */
  tokens: InternalTokens;
  logger?: Logger;
}

export interface AudienceOptions {
  /** Audience buckets standing for fewer people are suppressed (LOUPE_AUDIENCE_MIN_BUCKET). */
  minBucket: number;
}

export function createAudienceSubgraph(
  deps: AudienceDeps,
  options: AudienceOptions,
): SubgraphServer {
  return createSubgraphServer({
    name: 'audience',
    resolvers: audienceResolvers({
      meta: deps.meta,
      store: createAudienceStore(deps.olap),
      minBucket: options.minBucket,
    }),
    tokens: deps.tokens,
    logger: deps.logger,
  });
}
