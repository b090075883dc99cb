// Serves the metrics subgraph: queries over HTTP, metricTicks over graphql-ws on the same path.
import type { InternalTokens } from '../../lib/auth/internal-token.ts';
import type { LoupeConfig } from '../../lib/config.ts';
import type { ServedGraphQL } from '../../lib/graphql/serve.ts';
import { serveSubgraph } from '../../lib/graphql/subgraph-server.ts';
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
  return serveSubgraph(config, 'metrics', createMetricsSubgraph(deps), deps.ready, {
    subscriptions: true,
  });
}
