// Builds a subgraph's Apollo server from its SDL in schema/subgraphs and its resolvers, the same
// way for every domain: the caller the gateway signed in the context, masked internal errors, no tracing.
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, type GraphQLSchema } from 'graphql';
import { INTERNAL_CALLER_PARAM, type InternalTokens } from '../auth/internal-token.ts';
import type { LoupeConfig, SubgraphName } from '../config.ts';
import type { Logger } from '../logger.ts';
import { serveGraphQL, type ServedGraphQL } from './serve.ts';
import { graphqlMetrics } from '../observability/graphql-metrics.ts';
import type { Readiness } from '../observability/ops-routes.ts';
import { createErrorMasker } from './error-mask.ts';
import { gatewayCaller, gatewayCallerContext, type SubgraphContext } from './subgraph-context.ts';

export interface SubgraphServer {
  apollo: ApolloServer<SubgraphContext>;
  schema: GraphQLSchema;
  context: (req: IncomingMessage) => Promise<SubgraphContext>;
  /** Context of a graphql-ws connection, from the gateway's token in `connectionParams`. */
  socketContext: (connectionParams: Record<string, unknown>) => Promise<SubgraphContext>;
}

export function readSubgraphSdl(name: SubgraphName): string {
  return readFileSync(new URL(`../../schema/subgraphs/${name}.graphql`, import.meta.url), 'utf8');
}

export function createSubgraphServer(options: {
  name: SubgraphName;
  resolvers: object;
  tokens: InternalTokens;
  logger?: Logger;
}): SubgraphServer {
  const { name, logger } = options;
  const schema = buildSubgraphSchema({
    typeDefs: parse(readSubgraphSdl(name)),
    // Apollo types a resolver map's context as unknown; ours is the verified SubgraphContext.
    resolvers: options.resolvers as GraphQLResolverMap<unknown>,
  });
  const apollo = new ApolloServer<SubgraphContext>({
    schema,
    // Whatever NODE_ENV says: only the gateway reaches a subgraph, with a signed caller.
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // Traces for Apollo's hosted reporting and cache hints (no SDL sets any), which we do not use:
    // either wraps every field's resolver, which costs time per field of every request.
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      executionErrorsAnswer200,
      graphqlMetrics<SubgraphContext>(name),
    ],
    // The process stops its servers in order on SIGTERM; Apollo's own handler would race it.
    stopOnTerminationSignals: false,
    formatError: createErrorMasker((error) =>
      logger
        ? logger.error({ err: error, subgraph: name }, 'internal error')
        : console.error(`${name} subgraph: internal error`, error),
    ),
  });
  return {
    apollo,
    schema,
    context: gatewayCallerContext(options.tokens),
    async socketContext(connectionParams) {
      const token = connectionParams[INTERNAL_CALLER_PARAM];
      return {
        caller: await gatewayCaller(options.tokens, typeof token === 'string' ? token : undefined),
      };
    },
  };
}

/**
 * An error raised while executing is a field error, answered 200 as GraphQL over HTTP has it, even
 * when its extensions name a status: the gateway then passes on its code and message beside the
 * other fields' data, where a 4xx would fail the whole fetch with a generic error. Errors before
 * execution (no caller, a document that does not validate) keep their 4xx.
 */
const executionErrorsAnswer200: ApolloServerPlugin<SubgraphContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        const { body } = response;
        if (body.kind === 'single' && body.singleResult.data !== undefined) {
          response.http.status = 200;
        }
      },
    };
  },
};

/**
 * Listens for a subgraph on its configured port: queries over HTTP and, for a subgraph with
 * subscriptions, graphql-ws on the same path for the gateway to forward them to.
 */
export function serveSubgraph(
  config: LoupeConfig,
  name: SubgraphName,
  subgraph: SubgraphServer,
  ready?: Readiness,
  options: { subscriptions?: boolean } = {},
): Promise<ServedGraphQL> {
  return serveGraphQL({
    apollo: subgraph.apollo,
    host: config.host,
    port: config.ports[name],
    context: subgraph.context,
    limits: config.serving.limits.subgraph,
    ready,
    ...(options.subscriptions && {
      subscriptions: {
        schema: subgraph.schema,
        // Refused at connect, so a bad token never reaches the per-operation context.
        onConnect: async (params: Record<string, unknown>) =>
          subgraph.socketContext(params).then(
            () => true,
            () => false,
          ),
        context: (params: Record<string, unknown>) => subgraph.socketContext(params),
      },
    }),
  });
}
