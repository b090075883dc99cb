// How the gateway calls one subgraph over HTTP: at its configured URL, with the verified caller
// signed in a header (every subgraph checks it and scopes by its organisation), and failures
// named by service.
import { RemoteGraphQLDataSource } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import type { Caller } from '../lib/auth/caller.ts';
import { INTERNAL_CALLER_HEADER } from '../lib/auth/internal-token.ts';
import { subgraphFetchDuration } from '../lib/observability/metrics.ts';
import { currentRequestId, REQUEST_ID_HEADER } from '../lib/observability/request-id.ts';
import { injectTrace, inSpan, SpanKind } from '../lib/observability/tracing.ts';
import { graphqlError } from '../lib/graphql/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { Fetcher } from './subgraph-fetcher.ts';

/** The context of every gateway operation, over HTTP or graphql-ws. */
export interface GatewayContext {
  caller: Caller;
  /** The caller signed for the subgraphs. */
  internalToken: string;
  /** Names the API key in per-key limits: the start of its SHA-256, never the key. */
  keyId: string;
}

export function createSubgraphDataSource(options: {
  name: string;
  url: string;
  fetcher: Fetcher;
  logger?: Logger;
}): RemoteGraphQLDataSource<GatewayContext> {
  const { name, url, fetcher, logger } = options;
  const timed: Fetcher = (input, init) =>
    inSpan(`subgraph ${name}`, SpanKind.CLIENT, { 'loupe.subgraph': name }, async (span) => {
      const stop = subgraphFetchDuration.startTimer({ subgraph: name });
      try {
        const response = await fetcher(input, init);
        stop({ status: String(response.status) });
        span.setAttribute('http.response.status_code', response.status);
        return response;
      } catch (error) {
        stop({ status: 'failed' });
        throw error;
      }
    });
  return new RemoteGraphQLDataSource<GatewayContext>({
    url,
    fetcher: timed,
    willSendRequest({ request, context }) {
      // Apollo also calls this without a caller (health checks); sign only for a real one.
      const token: unknown = (context as Partial<GatewayContext>).internalToken;
      if (typeof token === 'string') request.http?.headers.set(INTERNAL_CALLER_HEADER, token);
      // The subgraph logs under the caller's request id too, and joins its trace.
      const requestId = currentRequestId();
      if (requestId) request.http?.headers.set(REQUEST_ID_HEADER, requestId);
      injectTrace((name, value) => request.http?.headers.set(name, value));
    },
    didEncounterError(error) {
      // HTTP answers with a status already are GraphQL errors; a refused socket is not.
      if (error instanceof GraphQLError) throw error;
      logger?.warn({ err: error, subgraph: name }, 'subgraph request failed');
      throw graphqlError('UNAVAILABLE', `the ${name} service is unavailable; retry later`);
    },
  });
}
