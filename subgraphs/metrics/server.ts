// Builds the metrics subgraph without side effects, so tests and benchmarks compose it in-process.
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import type { Authenticator } from '../../lib/auth/caller.ts';
import { unauthenticated } from '../../lib/graphql/errors.ts';
import {
  apiKeyContext,
  maskErrors,
  type SubgraphContext,
} from '../../lib/graphql/subgraph-context.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { metricsResolvers } from './metrics.resolvers.ts';
import { createMetricsStore } from './metrics.store.ts';

const SDL = new URL('../../schema/subgraphs/metrics.graphql', import.meta.url);

export interface MetricsSubgraph {
  apollo: ApolloServer<SubgraphContext>;
  schema: GraphQLSchema;
  context: (req: IncomingMessage) => Promise<SubgraphContext>;
  /** Context of a graphql-ws connection, from `connectionParams.apiKey`. */
  socketContext: (connectionParams: Record<string, unknown>) => Promise<SubgraphContext>;
}

export function createMetricsSubgraph(deps: {
  olap: Olap;
  live: LiveStore;
  authenticate: Authenticator;
}): MetricsSubgraph {
  const store = createMetricsStore({ olap: deps.olap, live: deps.live });
  const resolvers = metricsResolvers({ store, live: deps.live });
  const schema = buildSubgraphSchema([{ typeDefs: parse(readFileSync(SDL, 'utf8')), resolvers }]);
  return {
    apollo: new ApolloServer<SubgraphContext>({ schema, formatError: maskErrors }),
    schema,
    context: apiKeyContext(deps.authenticate),
    async socketContext(connectionParams) {
      const key = connectionParams['apiKey'];
      const caller = typeof key === 'string' ? await deps.authenticate(key) : null;
      if (!caller) throw unauthenticated();
      return { caller };
    },
  };
}
