// DateTime travels as an ISO-8601 string and lives in resolvers as epoch milliseconds.
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

function parse(value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new GraphQLError(`DateTime must be an ISO-8601 string, got ${JSON.stringify(value)}`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return ms;
}

/**
 * ISO strings of recent instants: series repeat the same bucket starts in every answer, and
 * formatting one costs about ten times a lookup. Emptied when full, so it stays small.
 */
const isoOf = new Map<number, string>();
const ISO_KEPT = 10_000;

function toIso(ms: number): string {
  let iso = isoOf.get(ms);
  if (iso === undefined) {
    iso = new Date(ms).toISOString();
    if (isoOf.size >= ISO_KEPT) isoOf.clear();
    isoOf.set(ms, iso);
  }
  return iso;
}

export const DateTimeScalar = new GraphQLScalarType<number, string>({
  name: 'DateTime',
  serialize(value) {
    const ms =
      value instanceof Date ? value.getTime() : typeof value === 'number' ? value : parse(value);
    return toIso(ms);
  },
  parseValue: parse,
  parseLiteral(ast) {
    return parse(ast.kind === Kind.STRING ? ast.value : undefined);
  },
});
