// What callers see of an error at the gateway, over HTTP and in subscription events: the policy of
// lib/graphql/error-mask.ts, which the subgraphs apply too.
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import {
  createErrorMasker,
  maskFormattedError,
  type InternalErrorSink,
} from '../lib/graphql/error-mask.ts';

export type { InternalErrorSink } from '../lib/graphql/error-mask.ts';

/** Apollo Server's `formatError` for the gateway: the policy every server shares. */
export const createGatewayErrorFormatter = createErrorMasker;

/** Masks errors a subscription sends, which bypass Apollo Server and its `formatError`. */
export function maskResult(
  result: ExecutionResult,
  onInternal: InternalErrorSink,
): ExecutionResult {
  if (!result.errors?.length) return result;
  return {
    ...result,
    errors: result.errors.map((error) => toGraphQLError(error.toJSON(), error, onInternal)),
  };
}

/** An error relayed from a subgraph as JSON, masked, as the GraphQLError graphql-ws sends on. */
export function toGraphQLError(
  formatted: GraphQLFormattedError,
  original: unknown,
  onInternal: InternalErrorSink,
): GraphQLError {
  const masked = maskFormattedError(formatted, original, onInternal);
  // Locations point into the subgraph's operation text, which the caller never saw.
  return new GraphQLError(masked.message, {
    ...(masked.path && { path: masked.path }),
    ...(masked.extensions && { extensions: masked.extensions }),
  });
}

export function errorResult(code: string, message: string): ExecutionResult {
  return { errors: [new GraphQLError(message, { extensions: { code } })] };
}
