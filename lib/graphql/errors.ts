// GraphQL errors callers can act on: a stable `extensions.code`, an HTTP status, no internals.
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'UNAVAILABLE'
  | 'OVERLOADED'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'INTERNAL_SERVER_ERROR';

const STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  UNAVAILABLE: 503,
  OVERLOADED: 503,
  DEADLINE_EXCEEDED: 504,
  // nginx's "client closed request": no one reads it, but logs and traces can tell it apart.
  CANCELLED: 499,
  INTERNAL_SERVER_ERROR: 500,
};

export function graphqlError(code: ErrorCode, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: STATUS[code] } } });
}

export function unauthenticated(): GraphQLError {
  return graphqlError(
    'UNAUTHENTICATED',
    'a valid API key is required in the x-api-key header (or connectionParams.apiKey over WebSocket)',
  );
}

/** A verified caller whose key's role does not allow this. */
export function forbidden(message: string): GraphQLError {
  return graphqlError('FORBIDDEN', message);
}

export function badInput(message: string): GraphQLError {
  return graphqlError('BAD_USER_INPUT', message);
}

/** The status of an error code, for answers written before GraphQL runs. */
export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}
