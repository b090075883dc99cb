// GraphQL over HTTP, for callers that accept only `application/json` (the legacy media type):
// a document that does not parse or validate, or variables that do not coerce, SHOULD be
// answered 200 with the errors, where Apollo answers 400. Callers accepting
// `application/graphql-response+json` keep the 4xx that media type requires.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import Negotiator from 'negotiator';

const JSON_TYPE = 'application/json';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json';
const REQUEST_ERRORS = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
]);

/** The media type Apollo answers in, chosen as it chooses it: JSON unless the caller prefers the other. */
export function answersInLegacyJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return (
    new Negotiator({ headers: { accept } }).mediaType([JSON_TYPE, GRAPHQL_RESPONSE_TYPE]) ===
    JSON_TYPE
  );
}

export function legacyJsonStatus<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ request }) {
      const legacy = answersInLegacyJson(request.http?.headers.get('accept'));
      if (!legacy) return;
      return {
        async willSendResponse({ response }) {
          const { body } = response;
          if (body.kind !== 'single' || body.singleResult.data !== undefined) return;
          const code = body.singleResult.errors?.[0]?.extensions?.['code'];
          if (typeof code === 'string' && REQUEST_ERRORS.has(code)) response.http.status = 200;
        },
      };
    },
  };
}
