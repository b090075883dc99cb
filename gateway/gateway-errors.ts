// What callers see of an error at the gateway: its message and code when it carries one, never
// which subgraph answered, its URL, or a stack; anything without a code becomes 'internal error'.
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';

const INTERNAL = 'INTERNAL_SERVER_ERROR';

/** Extensions Apollo's gateway and server add for their own use: subgraph names, URLs, stacks. */
const PRIVATE_EXTENSIONS = ['stacktrace', 'serviceName', 'response', 'exception', 'http'];

export type InternalErrorSink = (error: unknown) => void;

/** Masks one formatted error; `original` is what `onInternal` receives when it is masked. */
export function maskFormattedError(
  formatted: GraphQLFormattedError,
  original: unknown,
  onInternal: InternalErrorSink,
): GraphQLFormattedError {
  const extensions = { ...formatted.extensions };
  for (const key of PRIVATE_EXTENSIONS) delete extensions[key];
  const code = extensions['code'];
  if (typeof code === 'string' && code !== INTERNAL) {
    return { ...formatted, extensions: { ...extensions, code } };
  }
  onInternal(original);
  return {
    message: 'internal error',
    ...(formatted.locations && { locations: formatted.locations }),
    ...(formatted.path && { path: formatted.path }),
    extensions: { code: INTERNAL },
  };
}

/** Apollo Server's `formatError` for the gateway. */
export function createGatewayErrorFormatter(
  onInternal: InternalErrorSink,
): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => maskFormattedError(formatted, error, onInternal);
}

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
