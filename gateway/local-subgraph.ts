// How the gateway calls a subgraph served by this same process: straight into its Apollo server,
// with the signed caller as the only header, instead of HTTP and JSON there and back. The
// subgraph still verifies the caller and runs its own plugins (masking, metrics); the gateway's
// admission, deadline and cancellation cover the call, as they cover a fetch.
import type { GraphQLDataSource } from '@apollo/gateway';
import { INTERNAL_CALLER_HEADER } from '../lib/auth/internal-token.ts';
import type { LocalExecutor } from '../lib/graphql/serve.ts';
import { subgraphFetchDuration } from '../lib/observability/metrics.ts';
import { currentRequestId, REQUEST_ID_HEADER } from '../lib/observability/request-id.ts';
import { requestSignal } from '../lib/graphql/request-signal.ts';
import { inSpan, SpanKind } from '../lib/observability/tracing.ts';
import type { GatewayContext } from './subgraph-data-source.ts';

export function createLocalSubgraphSource(
  name: string,
  execute: LocalExecutor,
): GraphQLDataSource<GatewayContext> {
  return {
    async process({ request, context }) {
      requestSignal()?.throwIfAborted();
      const headers: Record<string, string> = {};
      const token: unknown = (context as Partial<GatewayContext>).internalToken;
      if (typeof token === 'string') headers[INTERNAL_CALLER_HEADER] = token;
      const requestId = currentRequestId();
      if (requestId) headers[REQUEST_ID_HEADER] = requestId;
      const stop = subgraphFetchDuration.startTimer({ subgraph: name, status: 'local' });
      try {
        return await inSpan(`subgraph ${name} (local)`, SpanKind.INTERNAL, {}, () =>
          execute(
            {
              query: request.query ?? '',
              ...(request.variables && { variables: request.variables }),
              ...(request.operationName && { operationName: request.operationName }),
            },
            headers,
          ),
        );
      } finally {
        stop();
      }
    },
  };
}
