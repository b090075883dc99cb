// The one error-masking policy of every GraphQL server here, gateway and subgraphs alike: an error
// that carries a code keeps its message and code; a request error Apollo raised without one (a
// 4xx, such as an APQ hash that does not match its document) keeps its message as BAD_REQUEST;
// anything else becomes 'internal error' and goes to the logs. No answer shows a stack, a
// subgraph's name or URL, or what a subgraph answered.
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

const INTERNAL = 'INTERNAL_SERVER_ERROR';

/** Extensions Apollo's gateway and server add for their own use: subgraph names, URLs, stacks. */
const PRIVATE_EXTENSIONS = ['stacktrace', 'serviceName', 'response', 'exception', 'http'];

export type InternalErrorSink = (error: unknown) => void;

/**
 * graphql-js echoes a variable it cannot coerce, whole: a connectAccount input with one bad field
 * would come back with its access token. The reason stays; the value is not shown.
 */
const ECHOED_VARIABLE = /^(Variable "\$[^"]+" got invalid value ).*?((?: at "[^"]*")?; )/s;

function withoutEchoedValues(message: string): string {
  return message.replace(ECHOED_VARIABLE, '$1(not shown)$2');
}

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
    return {
      ...formatted,
      message: withoutEchoedValues(formatted.message),
      extensions: { ...extensions, code },
    };
  }
  // Apollo fills a missing code in as INTERNAL_SERVER_ERROR before formatting; the original tells.
  if (isRequestError(original)) {
    return { ...formatted, extensions: { ...extensions, code: 'BAD_REQUEST' } };
  }
  onInternal(unwrapResolverError(original));
  return {
    message: 'internal error',
    ...(formatted.locations && { locations: formatted.locations }),
    ...(formatted.path && { path: formatted.path }),
    extensions: { code: INTERNAL },
  };
}

/** Apollo's `formatError`, reporting masked errors to `onInternal`. */
export function createErrorMasker(
  onInternal: InternalErrorSink = () => {},
): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => maskFormattedError(formatted, error, onInternal);
}

/** An error Apollo raised about the request itself, with a 4xx status and no code. */
function isRequestError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.extensions['code'] !== undefined) return false;
  const http = error.extensions['http'] as { status?: unknown } | undefined;
  const status = http?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
