// Serves the gateway on the configured host and port: queries over HTTP and subscriptions over
// graphql-ws on the same path.
import { readFile } from 'node:fs/promises';
import type { PersistedQueryOptions } from '@apollo/server';
import type { Authenticator } from '../lib/auth/caller.ts';
import type { InternalTokens } from '../lib/auth/internal-token.ts';
import type { JwtVerdict } from '../lib/auth/jwt.auth.ts';
import type { LoupeConfig, SubgraphName } from '../lib/config.ts';
import type { LocalExecutor, ServedGraphQL } from '../lib/graphql/serve.ts';
import type { LiveStore } from '../lib/live/live.port.ts';
import type { Logger } from '../lib/logger.ts';
import type { Readiness } from '../lib/observability/ops-routes.ts';
import { SUPERGRAPH_PATH } from '../schema/compose.ts';
import { createGateway, type GatewayDeps } from './server.ts';

const README_PATH = new URL('../README.md', import.meta.url);
import type { TrustedDocuments } from './trusted-documents.ts';

export async function startGateway(
  config: LoupeConfig,
  deps: {
    subgraphUrls: Record<SubgraphName, string>;
    verifyJwt?: (token: string) => Promise<JwtVerdict>;
    /** Subgraphs this process serves, called without HTTP. */
    localSubgraphs?: Partial<Record<SubgraphName, LocalExecutor>>;
    authenticate: Authenticator;
    tokens: InternalTokens;
    persistedQueries?: PersistedQueryOptions['cache'];
    trustedDocuments?: TrustedDocuments;
    /** Where rates and budgets are counted: shared by every replica on Redis. */
    live: LiveStore;
    /** What GET /ready checks besides the supergraph. */
    ready?: Readiness;
    /** Report downloads (`GET /v1/reports/runs/:id/file`). */
    reportFiles?: GatewayDeps['reportFiles'];
    logger?: Logger;
  },
): Promise<ServedGraphQL> {
  const supergraphSdl = await readFile(SUPERGRAPH_PATH, 'utf8');
  // The explorer opens with the README's queries; a deployment without the README has none.
  const readme = await readFile(README_PATH, 'utf8').catch(() => '');
  const gateway = createGateway({
    ...deps,
    explorerReadme: readme,
    supergraphSdl,
    limits: config.serving.limits.gateway,
    demand: { limits: config.demand, live: deps.live },
  });
  return gateway.listen({ host: config.host, port: config.ports.gateway, ready: deps.ready });
}
