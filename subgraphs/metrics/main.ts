// Serves the metrics subgraph: queries over HTTP, metricTicks over graphql-ws on the same path.
import type { InternalTokens } from '../../lib/auth/internal-token.ts';
import type { LoupeConfig } from '../../lib/config.ts';
import { serveGraphQL, type ServedGraphQL } from '../../lib/graphql/serve.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Readiness } from '../../lib/observability/ops-routes.ts';
import type { MetaQuery } from '../../lib/meta/meta.port.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { createMetricsSubgraph } from './server.ts';

export async function startMetricsSubgraph(
  config: LoupeConfig,
  deps: {
    olap: Olap;
    live: LiveStore;
    meta: MetaQuery;
    /** Verifies the caller the gateway signed. */
    tokens: InternalTokens;
    logger?: Logger;
    ready?: Readiness;
  },
): Promise<ServedGraphQL> {
  const subgraph = createMetricsSubgraph(deps);
  return serveGraphQL({
    apollo: subgraph.apollo,
    host: config.host,
    port: config.ports.metrics,
    context: subgraph.context,
    limits: config.serving.limits.subgraph,
    ready: deps.ready,
    subscriptions: {
      schema: subgraph.schema,
      // Refused at connect, so a bad key never reaches the per-operation context.
      onConnect: async (params) =>
        subgraph.socketContext(params).then(
          () => true,
          () => false,
        ),
      context: (params) => subgraph.socketContext(params),
    },
  });
}
