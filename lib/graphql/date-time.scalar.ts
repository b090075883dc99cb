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

export const DateTimeScalar = new GraphQLScalarType<number, string>({
  name: 'DateTime',
  serialize(value) {
    const ms =
      value instanceof Date ? value.getTime() : typeof value === 'number' ? value : parse(value);
    return new Date(ms).toISOString();
  },
  parseValue: parse,
  parseLiteral(ast) {
    return parse(ast.kind === Kind.STRING ? ast.value : undefined);
  },
});
