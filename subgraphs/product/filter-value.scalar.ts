// FilterValue: what a property is compared with, a string, number or boolean, or a list of them.
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

type Scalar = string | number | boolean;
export type FilterValue = Scalar | Scalar[];

const refuse = (got: unknown) =>
  new GraphQLError(
    `FilterValue is a string, a number, a boolean or a list of them, got ${JSON.stringify(got)}`,
    { extensions: { code: 'BAD_USER_INPUT' } },
  );

function scalar(value: unknown): Scalar {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw refuse(value);
}

function parse(value: unknown): FilterValue {
  return Array.isArray(value) ? value.map(scalar) : scalar(value);
}

function literal(ast: ValueNode, variables?: Record<string, unknown> | null): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.LIST:
      return ast.values.map((v) => literal(v, variables));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
    default:
      throw refuse(ast.kind);
  }
}

export const FilterValueScalar = new GraphQLScalarType<FilterValue, FilterValue>({
  name: 'FilterValue',
  serialize: (value) => parse(value),
  parseValue: parse,
  parseLiteral: (ast, variables) => parse(literal(ast, variables)),
});
