// The federated gateway: Apollo Gateway over the checked-in supergraph. It verifies the API key,
// forwards it to every subgraph (each re-verifies it: tenancy is enforced in every subgraph),
// and carries subscriptions to the subgraph that owns them.
import type { IncomingMessage } from 'node:http';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { API_KEY_HEADER, type Authenticator, type Caller } from '../lib/auth/caller.ts';
import type { SubgraphName } from '../lib/config.ts';
import { unauthenticated } from '../lib/graphql/errors.ts';
import type { ServeOptions } from '../lib/graphql/serve.ts';
import { createErrorMasker, readApiKey } from '../lib/graphql/subgraph-context.ts';
import type { Logger } from '../lib/logger.ts';
import { createSubscriptionForwarder } from './subscription-forwarder.ts';

export interface GatewayContext {
  caller: Caller;
  apiKey: string;
}

export interface GatewayDeps {
  supergraphSdl: string;
  subgraphUrls: Record<SubgraphName, string>;
  authenticate: Authenticator;
  logger?: Logger;
}

/** Everything `serveGraphQL` needs to serve the gateway, built without side effects. */
export function createGateway(
  deps: GatewayDeps,
): Omit<ServeOptions<GatewayContext>, 'host' | 'port'> {
  const { supergraphSdl, subgraphUrls, authenticate, logger } = deps;
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url: subgraphUrls[name as SubgraphName] ?? url,
        willSendRequest({ request, context }) {
          // Apollo also calls this without a request context (schema loading); forward only a key.
          const key: unknown = context.apiKey;
          if (typeof key === 'string') request.http?.headers.set(API_KEY_HEADER, key);
        },
      }),
  });
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate((update) => {
    apiSchema = update.apiSchema;
  });

  const verify = async (key: string | undefined): Promise<GatewayContext> => {
    const caller = key === undefined ? null : await authenticate(key);
    if (!caller || key === undefined) throw unauthenticated();
    return { caller, apiKey: key };
  };
  const keyOfSocket = (params: Record<string, unknown>, request: IncomingMessage) => {
    const fromParams = params['apiKey'];
    return typeof fromParams === 'string' ? fromParams : readApiKey(request);
  };

  return {
    apollo: new ApolloServer<GatewayContext>({
      gateway,
      formatError: createErrorMasker((error) => logger?.error({ err: error }, 'gateway error')),
      includeStacktraceInErrorResponses: false,
    }),
    context: (req) => verify(readApiKey(req)),
    subscriptions: {
      schema: () => {
        if (!apiSchema) throw new Error('the gateway has not loaded its schema yet');
        return apiSchema;
      },
      onConnect: async (params, request) => {
        const key = keyOfSocket(params, request);
        return key !== undefined && (await authenticate(key)) !== null;
      },
      context: (params, request) => verify(keyOfSocket(params, request)),
      subscribe: createSubscriptionForwarder({ supergraphSdl, subgraphUrls, logger }),
    },
  };
}
