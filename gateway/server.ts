// The federated gateway, built without side effects: Apollo Gateway over the checked-in
// supergraph for queries and mutations, our own forwarder for subscriptions. It verifies the API
// key up front and hands every subgraph the verified caller, signed (lib/auth/internal-token.ts);
// each subgraph checks the signature and the role again and scopes by the organisation.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { Supergraph } from '@apollo/federation-internals';
import { ApolloServer, type ApolloServerPlugin, type PersistedQueryOptions } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, OperationTypeNode } from 'graphql';
import { API_KEY_HEADER, type Authenticator } from '../lib/auth/caller.ts';
import type { InternalTokens } from '../lib/auth/internal-token.ts';
import {
  defaultDemandLimits,
  defaultLimits,
  type DemandLimits,
  type ServerLimits,
  type SubgraphName,
} from '../lib/config.ts';
import type { LiveStore } from '../lib/live/live.port.ts';
import { createMemoryLiveStore } from '../lib/live/memory.live.ts';
import { hashApiKey } from '../lib/meta/accounts.repo.ts';
import { graphqlMetrics } from '../lib/observability/graphql-metrics.ts';
import type { Readiness } from '../lib/observability/ops-routes.ts';
import { createDemandControl } from './demand-control.ts';
import { createExplorer } from './explorer.ts';
import { createLocalSubgraphSource } from './local-subgraph.ts';
import { legacyJsonStatus } from './legacy-json-status.ts';
import { serveGraphQL, type LocalExecutor, type ServedGraphQL } from '../lib/graphql/serve.ts';
import type { JwtVerdict } from '../lib/auth/jwt.auth.ts';
import { forbidden, graphqlError } from '../lib/graphql/errors.ts';
import { queryingCaller, readApiKey } from '../lib/graphql/subgraph-context.ts';
import type { Logger } from '../lib/logger.ts';
import { createGatewayErrorFormatter } from './gateway-errors.ts';
import { createSubgraphDataSource, type GatewayContext } from './subgraph-data-source.ts';
import { createSubgraphFetcher, type SubgraphFetcherOptions } from './subgraph-fetcher.ts';
import { createSubscriptionForwarder, type Subgraph } from './subscription-forwarder.ts';
import { createUpstreamPool } from './upstream-pool.ts';
import type { TrustedDocuments } from './trusted-documents.ts';

export type { GatewayContext } from './subgraph-data-source.ts';

export interface GatewayDeps {
  /** The composed supergraph (schema/supergraph.graphql); its subgraph URLs are overridden. */
  supergraphSdl: string;
  /** Where each subgraph answers HTTP (and graphql-ws on the same URL). */
  subgraphUrls: Record<SubgraphName, string>;
  /** Resolves an API key to its organisation, or null. */
  authenticate: Authenticator;
  /** Signs the verified caller for the subgraphs. */
  tokens: InternalTokens;
  logger?: Logger;
  /** Pool of keep-alive sockets to the subgraphs. */
  http?: SubgraphFetcherOptions;
  /** Work in flight, queue, deadline and drain of the gateway's door; the defaults when omitted. */
  limits?: ServerLimits;
  /**
   * Where Automatic Persisted Queries are kept (documents by SHA-256), shared by every gateway
   * when it is on Redis; Apollo's in-memory default when omitted.
   */
  persistedQueries?: PersistedQueryOptions['cache'];
  /** What partner keys may run; without it every partner request is refused. */
  trustedDocuments?: TrustedDocuments;
  /** Verifies front-end JWTs; without it a bearer token is refused. */
  verifyJwt?: (token: string) => Promise<JwtVerdict>;
  /** Subgraphs served by this process, called without HTTP; the others are fetched. */
  localSubgraphs?: Partial<Record<SubgraphName, LocalExecutor>>;
  /** The README whose queries the explorer at /explorer opens with; no explorer when absent. */
  explorerReadme?: string;
  /** Report files for download (`GET /v1/reports/runs/:id/file`); true when it answers. */
  reportFiles?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** Limits on documents, costs and rates; the defaults, kept in this process, when omitted. */
  demand?: { limits: DemandLimits; live: LiveStore };
}

/** How long a registered document is kept; a client that finds it gone registers it again. */
const APQ_TTL_SECONDS = 7 * 24 * 3600;

export interface Gateway {
  /**
   * Serves HTTP queries and graphql-ws subscriptions on `/graphql`, and /health, /ready (the
   * stores `ready` checks, once the supergraph is loaded) and /metrics.
   */
  listen(options: { host: string; port: number; ready?: Readiness }): Promise<ServedGraphQL>;
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { supergraphSdl, subgraphUrls, authenticate, tokens, logger } = deps;
  const supergraph = Supergraph.build(supergraphSdl);
  const fetcher = createSubgraphFetcher(deps.http);
  const subgraphs = new Map<string, Subgraph>();
  for (const { name, url: composedUrl } of supergraph.subgraphsMetadata()) {
    const url = Object.hasOwn(subgraphUrls, name)
      ? subgraphUrls[name as SubgraphName]
      : composedUrl;
    const local = deps.localSubgraphs?.[name as SubgraphName];
    subgraphs.set(name, {
      url,
      dataSource: local
        ? createLocalSubgraphSource(name, local)
        : createSubgraphDataSource({ name, url, fetcher: fetcher.fetcher, logger }),
    });
  }
  const upstream = createUpstreamPool();
  const demand = deps.demand ?? { limits: defaultDemandLimits(), live: createMemoryLiveStore() };
  const forwarder = createSubscriptionForwarder({ supergraph, subgraphs, upstream, logger });
  const demandControl = createDemandControl({ ...demand, ...(logger && { logger }) });

  const verify = async (key: string | undefined, bearer?: string): Promise<GatewayContext> => {
    if (bearer !== undefined && key === undefined) {
      if (!deps.verifyJwt) {
        throw graphqlError(
          'UNAUTHENTICATED',
          'this API takes no bearer tokens; send an API key in x-api-key',
        );
      }
      const verdict = await deps.verifyJwt(bearer);
      if ('refusal' in verdict) throw graphqlError('UNAUTHENTICATED', verdict.refusal);
      return {
        caller: verdict.caller,
        internalToken: await tokens.sign(verdict.caller),
        // Rates are counted per token subject, as they are per key.
        keyId: `jwt:${hashApiKey(`${verdict.caller.orgId}\n${verdict.subject}`).slice(0, 32)}`,
      };
    }
    const caller = await queryingCaller(authenticate, key);
    return {
      caller,
      internalToken: await tokens.sign(caller),
      keyId: hashApiKey(key!).slice(0, 32),
    };
  };
  // Verified once per socket at connect; its subscriptions reuse the answer.
  const sockets = new WeakMap<IncomingMessage, GatewayContext>();
  const verifySocket = async (params: Record<string, unknown>, request: IncomingMessage) => {
    const fromParams = params['apiKey'];
    const bearer = bearerOf(params['authorization']) ?? readBearer(request);
    const context = await verify(
      typeof fromParams === 'string' ? fromParams : readApiKey(request),
      bearer,
    );
    if (context.caller.role === 'partner') {
      throw forbidden(
        'a partner key runs its published queries and mutations over HTTP; it cannot subscribe',
      );
    }
    sockets.set(request, context);
    return context;
  };

  return {
    async listen({ host, port, ready }) {
      const gateway = new ApolloGateway({
        supergraphSdl,
        buildService: ({ name }) => {
          const subgraph = subgraphs.get(name);
          if (!subgraph) throw new Error(`the supergraph names an unknown subgraph ${name}`);
          return subgraph.dataSource;
        },
        // Query plans are internals; Apollo would show them to any caller sending a header.
        __exposeQueryPlanExperimental: false,
        ...(logger && { logger: logger.child({ component: 'apollo-gateway' }) }),
      });
      const apollo = new ApolloServer<GatewayContext>({
        gateway,
        formatError: createGatewayErrorFormatter((error) =>
          logger?.error({ err: error }, 'gateway: internal error'),
        ),
        includeStacktraceInErrorResponses: false,
        // Whatever NODE_ENV says: the explorer and front-end tooling read the schema this way.
        introspection: true,
        // Apollo's APQ protocol, over POST and GET: a hash alone, PERSISTED_QUERY_NOT_FOUND, then
        // hash and document, registered once it validates.
        ...(deps.persistedQueries && {
          persistedQueries: { cache: deps.persistedQueries, ttl: APQ_TTL_SECONDS },
        }),
        // No subgraph sets cache hints; the plugin would still wrap every field of every answer.
        // A request carrying the API key header is never a "simple" cross-site request (browsers
        // preflight it), so it needs no other header to pass Apollo's CSRF prevention: a plain
        // GET with only the key works, as GraphQL over HTTP has it.
        csrfPrevention: {
          requestHeaders: [API_KEY_HEADER, 'x-apollo-operation-name', 'apollo-require-preflight'],
        },
        // A document past this many tokens is refused while it is parsed, before anything else.
        parseOptions: { maxTokens: demand.limits.maxTokens },
        plugins: [
          deps.trustedDocuments?.plugin ?? noPartners,
          demandControl.plugin,
          graphqlMetrics<GatewayContext>('gateway'),
          legacyJsonStatus<GatewayContext>(),
          subscriptionsOverWebSocketOnly,
          ApolloServerPluginCacheControlDisabled(),
        ],
        // The process stops its servers in order on SIGTERM; Apollo's own handler would stop this
        // one first, and its stop() never settles for a second caller (so shutdown hung).
        stopOnTerminationSignals: false,
      });
      const served = await serveGraphQL({
        apollo,
        host,
        port,
        limits: deps.limits ?? defaultLimits('gateway'),
        routes: otherRoutes(
          deps.explorerReadme === undefined ? undefined : createExplorer(deps.explorerReadme),
          deps.reportFiles,
        ),
        // Listening means apollo.start() loaded the supergraph; the stores are asked each time.
        ready: async () => ({ supergraph: 'ok', ...(ready ? await ready() : {}) }),
        context: (req) => verify(readApiKey(req), readBearer(req)),
        subscriptions: {
          schema: forwarder.schema,
          onConnect: async (params, request) => {
            await verifySocket(params, request);
            return true;
          },
          context: async (params, request) => sockets.get(request) ?? verifySocket(params, request),
          subscribe: async (args) =>
            (await demandControl.admitSubscription(args)) ?? forwarder.subscribe(args),
        },
      });
      return {
        ...served,
        async close(until) {
          await served.close(until);
          await upstream.close();
          fetcher.close();
        },
      };
    },
  };
}

/** The token of an `Authorization: Bearer …` header. */
function readBearer(req: IncomingMessage): string | undefined {
  return bearerOf(req.headers.authorization);
}

function bearerOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S{1,8192})$/i.exec(value.trim());
  return match?.[1];
}

/** Stands in for trusted documents where the gateway was built without them. */
const noPartners: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart({ contextValue }) {
    if (contextValue.caller.role !== 'partner') return;
    return {
      async didResolveOperation() {
        throw forbidden('this gateway serves no partner manifests, so a partner key runs nothing');
      },
    };
  },
};

/** Apollo's gateway would fail a subscription sent over HTTP with an internal error. */
const subscriptionsOverWebSocketOnly: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) return;
        throw new GraphQLError(
          'subscriptions are served over graphql-ws (WebSocket) on this same URL, not over HTTP',
          { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
        );
      },
    };
  },
};

/** The explorer, and report downloads under /v1/reports/; true when one of them answers. */
function otherRoutes(
  explorer: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined,
  reportFiles: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | undefined,
) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (explorer?.(req, res)) return true;
    if (!reportFiles || !(req.url ?? '').startsWith('/v1/reports/')) return false;
    reportFiles(req, res).then(
      (served) => {
        if (served) return;
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'report files are at GET /v1/reports/runs/<id>/file' }));
      },
      (error: unknown) => {
        console.error('report file route failed', error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'internal error' }));
      },
    );
    return true;
  };
}
