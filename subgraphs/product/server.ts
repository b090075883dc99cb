// Builds the product subgraph without side effects, so tests and benchmarks compose it in-process.
import type { InternalTokens } from '../../lib/auth/internal-token.ts';
import { createSubgraphServer, type SubgraphServer } from '../../lib/graphql/subgraph-server.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { productResolvers } from './product.resolvers.ts';

export interface ProductDeps {
  /** The organisation's tracked apps. */
  meta: MetaStore;
  /** product_events, person_properties and event_properties. */
  olap: Olap;
  /** The speed layer's live sketches and ticks, for live tiles. */
  live: LiveStore;
  /** Verifies the caller the gateway signed. */
  tokens: InternalTokens;
  /** Where masked internal errors are reported; stderr when absent. */
  logger?: Logger;
}

export function createProductSubgraph(deps: ProductDeps): SubgraphServer {
  return createSubgraphServer({
    name: 'product',
    resolvers: productResolvers({ meta: deps.meta, olap: deps.olap, live: deps.live }),
    tokens: deps.tokens,
    logger: deps.logger,
  });
}
