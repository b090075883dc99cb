// Builds the metrics subgraph without side effects, so tests and benchmarks compose it in-process.
import type { IncomingMessage } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { INTERNAL_CALLER_PARAM, type InternalTokens } from '../../lib/auth/internal-token.ts';
import { gatewayCaller, type SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import { createSubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { Logger } from '../../lib/logger.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { MetaQuery } from '../../lib/meta/meta.port.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { metricsResolvers } from './metrics.resolvers.ts';
import { createMetricsStore } from './metrics.store.ts';
import { createSealedReads } from './sealed-reads.ts';

export interface MetricsSubgraph {
  apollo: ApolloServer<SubgraphContext>;
  schema: GraphQLSchema;
  context: (req: IncomingMessage) => Promise<SubgraphContext>;
  /** Context of a graphql-ws connection, from the gateway's token in `connectionParams`. */
  socketContext: (connectionParams: Record<string, unknown>) => Promise<SubgraphContext>;
}

export function createMetricsSubgraph(deps: {
  olap: Olap;
  live: LiveStore;
  meta: MetaQuery;
  /** Verifies the caller the gateway signed. */
  tokens: InternalTokens;
  logger?: Logger;
}): MetricsSubgraph {
  // The sink marks every write in the live store, which is what keeps sealed reads exact.
  const sealed = createSealedReads({ olap: deps.olap, live: deps.live });
  const store = createMetricsStore({ ...deps, sealed });
  const server = createSubgraphServer({
    name: 'metrics',
    resolvers: metricsResolvers({ store, live: deps.live, meta: deps.meta }),
    tokens: deps.tokens,
    logger: deps.logger,
  });
  return {
    ...server,
    async socketContext(connectionParams) {
      const token = connectionParams[INTERNAL_CALLER_PARAM];
      return {
        caller: await gatewayCaller(deps.tokens, typeof token === 'string' ? token : undefined),
      };
    },
  };
}
