// What an operation asks for, measured before any subgraph is called: its depth, aliases, root
// fields and directives, and its cost under Loupe's cost model (README "Limits and budgets"):
//   - every field that returns an object costs 1, times the number of parents it is asked for;
//   - a list holds its `first` (or `top`) argument's items; a list inside a connection that has
//     `first` (its `nodes`) holds the connection's; any other list is assumed DEFAULT_LIST_SIZE;
//   - a series field (one with `range` and a granularity) adds one point per 100 values it
//     returns: buckets in the range × metrics asked (all of them when none are named) × 2 with a
//     comparison, and × the accounts of `Query.metrics`.
// Fragments are counted where they are spread; a fragment cycle (refused by validation anyway)
// is walked once.
import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  getOperationAST,
  isObjectType,
  isInterfaceType,
  isEnumType,
  visit,
  type GraphQLCompositeType,
} from 'graphql';
import { getArgumentValues } from 'graphql/execution/values.js';

/** Items a list without a `first` or `top` argument is assumed to hold. */
export const DEFAULT_LIST_SIZE = 10;
/** Series values one cost point pays for. */
export const VALUES_PER_POINT = 100;
/** Accounts `Query.metrics` is assumed to cover when it names platforms or none. */
const ALL_ACCOUNTS = 200;

const BUCKET_MS: Record<string, number> = {
  HOUR: 3_600_000,
  DAY: 86_400_000,
  WEEK: 7 * 86_400_000,
  MONTH: 28 * 86_400_000, // the shortest month: never under-counts
};

export interface OperationShape {
  depth: number;
  aliases: number;
  rootFields: number;
  directives: number;
  cost: number;
}

export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): OperationShape | null {
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  let directives = 0;
  visit(document, { Directive: () => void directives++ });
  const root = rootType(schema, operation);
  const walker = new Walker(schema, fragments, variables);
  const cost = root ? walker.cost(operation.selectionSet, root, 1, 1, new Set()) : 0;
  return {
    depth: walker.depth,
    aliases: walker.aliases,
    rootFields: root ? walker.fieldsOf(operation.selectionSet, new Set()).length : 0,
    directives,
    cost: Math.ceil(cost),
  };
}

function rootType(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
): GraphQLObjectType | null | undefined {
  return schema.getRootType(operation.operation);
}

class Walker {
  depth = 0;
  aliases = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
  ) {}

  /** The fields of a selection set, fragments spread in place (each fragment once per path). */
  fieldsOf(set: SelectionSetNode, spread: ReadonlySet<string>): FieldNode[] {
    const fields: FieldNode[] = [];
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        fields.push(...this.fieldsOf(selection.selectionSet, spread));
      } else {
        const name = selection.name.value;
        const fragment = this.fragments.get(name);
        if (!fragment || spread.has(name)) continue;
        fields.push(...this.fieldsOf(fragment.selectionSet, new Set([...spread, name])));
      }
    }
    return fields;
  }

  cost(
    set: SelectionSetNode,
    parent: GraphQLCompositeType,
    times: number,
    level: number,
    spread: ReadonlySet<string>,
    pageSize?: number,
  ): number {
    this.depth = Math.max(this.depth, level);
    let total = 0;
    for (const node of this.fieldsOf(set, spread)) {
      if (node.alias) this.aliases++;
      const field = fieldOf(parent, node.name.value);
      if (!field) continue; // __typename, or a field validation refuses
      const args = safeArguments(field, node, this.variables);
      total += seriesPoints(field, args, this.schema) * times;
      const type = getNamedType(field.type);
      if (!node.selectionSet || !isCompositeType(type)) continue;
      total += times;
      const asked = listSize(args);
      const isList = isListType(getNullableType(field.type));
      const items = isList ? (asked ?? pageSize ?? DEFAULT_LIST_SIZE) : 1;
      // A connection's `first` sizes the lists it holds.
      const page = isList ? undefined : asked;
      total += this.cost(node.selectionSet, type, times * items, level + 1, spread, page);
    }
    return total;
  }
}

function fieldOf(
  parent: GraphQLCompositeType,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  if (isObjectType(parent) || isInterfaceType(parent)) return parent.getFields()[name];
  return undefined; // a union: its fields are asked through fragments on its members
}

function safeArguments(
  field: GraphQLField<unknown, unknown>,
  node: FieldNode,
  variables: Record<string, unknown>,
): Record<string, unknown> {
  // Most fields take no arguments; coercing nothing costs as much as coercing a few.
  if (field.args.length === 0) return {};
  try {
    return getArgumentValues(field, node, variables);
  } catch {
    return {}; // bad arguments fail validation or execution with their own message
  }
}

function listSize(args: Record<string, unknown>): number | undefined {
  for (const name of ['first', 'top']) {
    const value = args[name];
    if (typeof value === 'number' && Number.isFinite(value)) return Math.max(0, value);
  }
  return undefined;
}

/** Cost points of the values a series field returns; 0 for any other field. */
function seriesPoints(
  field: GraphQLField<unknown, unknown>,
  args: Record<string, unknown>,
  schema: GraphQLSchema,
): number {
  const range = args['range'] as { from?: unknown; to?: unknown } | undefined;
  const granularity = args['granularity'];
  if (!range || typeof granularity !== 'string') return 0;
  const span = instant(range.to) - instant(range.from);
  if (!Number.isFinite(span) || span <= 0) return 0;
  const buckets = Math.ceil(span / (BUCKET_MS[granularity] ?? BUCKET_MS['HOUR']!)) + 1;
  const metrics = Array.isArray(args['metrics'])
    ? args['metrics'].length
    : field.args.some((arg) => arg.name === 'metrics')
      ? allMetrics(schema)
      : 1;
  const compared = args['compare'] ? 2 : 1;
  const accounts = field === schema.getQueryType()?.getFields()['metrics'] ? accountsOf(args) : 1;
  return (buckets * metrics * compared * accounts) / VALUES_PER_POINT;
}

function allMetrics(schema: GraphQLSchema): number {
  const type = schema.getType('Metric');
  return isEnumType(type) ? type.getValues().length : 1;
}

function accountsOf(args: Record<string, unknown>): number {
  const selection = args['accounts'] as { ids?: unknown } | undefined;
  return Array.isArray(selection?.ids) ? selection.ids.length : ALL_ACCOUNTS;
}

function instant(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return Date.parse(value);
  return Number.NaN;
}
