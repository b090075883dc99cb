// Counts and times every GraphQL request an Apollo server answers, by operation name and outcome,
// and the gateway's use of its APQ store.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { cacheLookups, graphqlDuration, graphqlRequests, operationLabel } from './metrics.ts';

export function graphqlMetrics<TContext extends BaseContext>(
  server: string,
): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ request }) {
      const stop = graphqlDuration.startTimer({ server });
      const persisted = request.extensions?.['persistedQuery'] !== undefined;
      return {
        async willSendResponse({ response, operationName, metrics }) {
          const operation = operationLabel(operationName);
          stop({ operation });
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : [];
          const code = errors?.[0]?.extensions?.['code'];
          graphqlRequests.inc({ server, operation, code: typeof code === 'string' ? code : 'OK' });
          if (persisted) {
            cacheLookups.inc({ cache: 'apq', result: metrics.persistedQueryHit ? 'hit' : 'miss' });
          }
        },
      };
    },
  };
}
