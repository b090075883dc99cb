// Properties and filters as ClickHouse SQL over `product_events` (schema/clickhouse/030): an event
// property is a path of its JSON column, a person property the latest value in person_properties
// (031). Every value a caller sends travels as a bound parameter. A path is SQL text, quoted name
// by name, so that ClickHouse reads that subcolumn alone; and it is read as the types the app's
// events have carried at that path (event_properties, 032), each type's own subcolumn.
import type { Olap, OlapParams } from '../../lib/olap/olap.port.ts';
import { PROPERTY_LIMITS } from '../../schema/event-envelope.ts';
import { badInput } from '../../lib/graphql/errors.ts';

/** The types each event property path has been stored as, for one app. */
export type PathTypes = ReadonlyMap<string, readonly string[]>;

/** Collects a statement's bound parameters, naming them in order, and knows its paths' types. */
export class SqlParams {
  readonly values: OlapParams = {};
  #next = 0;
  readonly #types: PathTypes;
  constructor(initial: OlapParams = {}, types: PathTypes = new Map()) {
    Object.assign(this.values, initial);
    this.#types = types;
  }
  /** The types `path` has been stored as; none for a path no event has carried. */
  typesOf(path: string): readonly string[] {
    return this.#types.get(path) ?? [];
  }
  /** `{pN:Type}` bound to `value`. */
  bind(value: OlapParams[string], type: string): string {
    const name = `p${this.#next++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

export type FilterOp =
  | 'EQ'
  | 'NEQ'
  | 'IN'
  | 'NOT_IN'
  | 'CONTAINS'
  | 'REGEX'
  | 'GT'
  | 'GTE'
  | 'LT'
  | 'LTE'
  | 'IS_SET'
  | 'IS_NOT_SET';

export interface FilterInput {
  and?: FilterInput[] | null;
  or?: FilterInput[] | null;
  property?: string | null;
  person?: boolean | null;
  op?: FilterOp | null;
  value?: unknown;
}

/** A property a query names: a path of the event's properties, or a person property's name. */
export interface PropertyRef {
  path: string;
  person: boolean;
}

const MAX_FILTER_DEPTH = 5;
const SCALAR_TYPES = "('String', 'Int64', 'UInt64', 'Float64', 'Bool')";
const NUMBER_TYPES = "('Int64', 'UInt64', 'Float64')";
/** Stands for "not set" in group keys: no property text can hold NUL. */
export const NOT_SET = '\u0000';

/** A property path as given, checked: dotted names, each a name an event could carry. */
export function checkedPath(path: string, what = 'property'): string {
  const names = path.split('.');
  if (path.length === 0 || names.some((n) => n.length === 0 || n.length > 128)) {
    throw badInput(`${what} ${JSON.stringify(path)} is not a path of names joined by "."`);
  }
  if (names.length > PROPERTY_LIMITS.depth) {
    throw badInput(
      `${what} ${JSON.stringify(path)} is ${names.length} names deep; properties nest at most ${PROPERTY_LIMITS.depth}`,
    );
  }
  return path;
}

/** A name as a ClickHouse identifier: backquoted; backslashes, backquotes and controls escaped. */
const quoted = (name: string) =>
  // eslint-disable-next-line no-control-regex -- control characters are what it escapes
  `\`${name.replace(/[\\`\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}\``;

/** The event property at `path`, as ClickHouse's Dynamic value (NULL when not set). */
function eventValue(path: string): string {
  return `properties.${checkedPath(path).split('.').map(quoted).join('.')}`;
}

/** Types in the order their text is tried; a value has exactly one of them. */
const TEXT_TYPES = ['String', 'Int64', 'UInt64', 'Float64', 'Bool'] as const;
const NUMBER_TYPE_LIST = ['Int64', 'UInt64', 'Float64'] as const;

/**
 * The path's scalar types when it has only those (each read as its own subcolumn, which costs a
 * fraction of reading the Dynamic value and testing its type); undefined when it has others.
 */
function scalarTypes(path: string, params: SqlParams): string[] | undefined {
  const types = params.typesOf(checkedPath(path));
  const scalar = new Set<string>(TEXT_TYPES);
  return types.every((t) => scalar.has(t))
    ? TEXT_TYPES.filter((t) => types.includes(t))
    : undefined;
}

const firstOf = (parts: string[], type: string) =>
  parts.length === 0
    ? `CAST(NULL, 'Nullable(${type})')`
    : parts.length === 1
      ? parts[0]!
      : `coalesce(${parts.join(', ')})`;

/** The text of an event property's scalar value (a string as itself, 42, true); else NULL. */
export function eventText(path: string, params: SqlParams): string {
  const v = eventValue(path);
  const types = scalarTypes(path, params);
  if (!types) return `if(dynamicType(${v}) IN ${SCALAR_TYPES}, toString(${v}), NULL)`;
  const sub = (t: string) => `${v}.:${quoted(t)}`;
  return firstOf(
    types.map((t) => (t === 'String' ? sub(t) : `toString(${sub(t)})`)),
    'String',
  );
}

/** As eventText, and a list as its JSON text: what a breakdown groups by. */
export function eventGroupText(path: string, params: SqlParams): string {
  if (scalarTypes(path, params)) return eventText(path, params);
  const v = eventValue(path);
  return `multiIf(dynamicType(${v}) IN ${SCALAR_TYPES}, toString(${v}), startsWith(dynamicType(${v}), 'Array'), toJSONString(${v}), NULL)`;
}

/** An event property's value when it is a JSON number; else NULL. */
export function eventNumber(path: string, params: SqlParams): string {
  const v = eventValue(path);
  const types = scalarTypes(path, params);
  if (!types) {
    return `if(dynamicType(${v}) IN ${NUMBER_TYPES}, toFloat64OrNull(toString(${v})), NULL)`;
  }
  const numeric = NUMBER_TYPE_LIST.filter((t) => types.includes(t));
  return firstOf(
    numeric.map((t) => `toFloat64(${v}.:${quoted(t)})`),
    'Float64',
  );
}

/** Whether an event property is set (to anything but null). */
function eventSet(path: string, params: SqlParams): string {
  if (scalarTypes(path, params)) return `isNotNull(${eventText(path, params)})`;
  return `dynamicType(${eventValue(path)}) != 'None'`;
}

/** Every event property path a filter names, for loading their types before SQL is built. */
export function eventPathsOf(filter: FilterInput | null | undefined): string[] {
  if (!filter) return [];
  const own = filter.property && !filter.person ? [filter.property] : [];
  return [...own, ...[...(filter.and ?? []), ...(filter.or ?? [])].flatMap(eventPathsOf)];
}

/** The types the app's events have carried at each of `paths` (checked first). */
export async function loadPathTypes(
  olap: Olap,
  orgId: string,
  appId: string,
  paths: readonly string[],
): Promise<PathTypes> {
  const wanted = [...new Set(paths)].map((p) => checkedPath(p));
  if (wanted.length === 0) return new Map();
  const rows = await olap.query<{ path: string; types: string[] }>(
    `SELECT path, groupUniqArray(type) AS types FROM event_properties
     WHERE org_id = {org:String} AND app_id = {app:String} AND path IN {paths:Array(String)}
     GROUP BY path`,
    { org: orgId, app: appId, paths: wanted },
  );
  return new Map(rows.map((r) => [r.path, r.types]));
}

/** `raw` (a raw JSON scalar of person_properties) as text, NULL for null. */
const personText = (raw: string) =>
  `multiIf(JSONType(${raw}) = 'String', JSONExtractString(${raw}), JSONType(${raw}) = 'Int64', toString(JSONExtractInt(${raw})), JSONType(${raw}) = 'UInt64', toString(JSONExtractUInt(${raw})), JSONType(${raw}) = 'Double', toString(JSONExtractFloat(${raw})), JSONType(${raw}) = 'Bool', ${raw}, NULL)`;
const personNumber = (raw: string) =>
  `if(JSONType(${raw}) IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat(${raw}), NULL)`;

/** Every user of the app with their current value of one person property, raw JSON. */
export function personValuesSql(name: string, params: SqlParams): string {
  return `SELECT user_id, if(sum(set_count) > 0, argMaxMerge(set_value), argMinMerge(once_value)) AS raw
    FROM person_properties
    WHERE org_id = {org:String} AND app_id = {app:String} AND name = ${params.bind(checkedPath(name, 'person property'), 'String')}
    GROUP BY user_id`;
}

/** `(user_id, text)` of one person property for every user that has it set: a breakdown's join. */
export function personGroupSql(name: string, params: SqlParams): string {
  return `SELECT user_id, ${personText('raw')} AS text FROM (${personValuesSql(name, params)})`;
}

interface Operand {
  text: string;
  number: string;
  set: string;
}

/** A condition on values that are there; `negated` ops hold wherever their positive one does not. */
function condition(
  op: FilterOp,
  value: unknown,
  on: Operand,
  params: SqlParams,
  what: string,
): string {
  const text = (v: unknown) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v === 'boolean') return String(v);
    throw badInput(
      `${what}: ${op} compares with a string, a number or a boolean, not ${JSON.stringify(v)}`,
    );
  };
  const number = (v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw badInput(`${what}: ${op} compares with a number, not ${JSON.stringify(v)}`);
    }
    return params.bind(v, 'Float64');
  };
  const list = (v: unknown) => {
    if (!Array.isArray(v) || v.length === 0 || v.length > 1000) {
      throw badInput(`${what}: ${op} takes a list of 1 to 1,000 values`);
    }
    return params.bind(v.map(text), 'Array(String)');
  };
  switch (op) {
    case 'EQ':
    case 'NEQ':
      return `ifNull(${on.text} = ${params.bind(text(value), 'String')}, false)`;
    case 'IN':
    case 'NOT_IN':
      return `ifNull(${on.text} IN ${list(value)}, false)`;
    case 'CONTAINS':
      return `ifNull(positionCaseInsensitiveUTF8(${on.text}, ${params.bind(text(value), 'String')}) > 0, false)`;
    case 'REGEX':
      if (typeof value !== 'string')
        throw badInput(`${what}: REGEX takes an RE2 expression as a string`);
      return `ifNull(match(${on.text}, ${params.bind(value, 'String')}), false)`;
    case 'GT':
      return `ifNull(${on.number} > ${number(value)}, false)`;
    case 'GTE':
      return `ifNull(${on.number} >= ${number(value)}, false)`;
    case 'LT':
      return `ifNull(${on.number} < ${number(value)}, false)`;
    case 'LTE':
      return `ifNull(${on.number} <= ${number(value)}, false)`;
    case 'IS_SET':
    case 'IS_NOT_SET':
      if (value !== undefined && value !== null) throw badInput(`${what}: ${op} takes no value`);
      return on.set;
  }
}

/** The ops that hold wherever their positive one does not. */
const POSITIVE_OF: Partial<Record<FilterOp, FilterOp>> = {
  NEQ: 'EQ',
  NOT_IN: 'IN',
  IS_NOT_SET: 'IS_SET',
};

/** The regular expressions a filter uses, for checking that they compile before it runs. */
export function regexesOf(filter: FilterInput | null | undefined): string[] {
  if (!filter) return [];
  const own = filter.op === 'REGEX' && typeof filter.value === 'string' ? [filter.value] : [];
  return [...own, ...[...(filter.and ?? []), ...(filter.or ?? [])].flatMap(regexesOf)];
}

/** Every regular expression the filters use, compiled by the engine that will run them. */
export async function checkRegexes(olap: Olap, regexes: readonly string[]): Promise<void> {
  for (const re of new Set(regexes)) {
    try {
      await olap.query("SELECT match('', {re:String}) AS m", { re });
    } catch (error) {
      const reason = /cannot compile re2: (.*?)(?:\. Look at|$)/s.exec(String(error))?.[1];
      throw badInput(`REGEX ${JSON.stringify(re)} does not compile${reason ? `: ${reason}` : ''}`);
    }
  }
}

/** A filter as a boolean SQL expression over a product_events row (its `user_id` for persons). */
export function filterSql(filter: FilterInput, params: SqlParams, depth = 1): string {
  if (depth > MAX_FILTER_DEPTH) throw badInput(`filters nest at most ${MAX_FILTER_DEPTH} deep`);
  const hasCondition =
    filter.property !== undefined && filter.property !== null
      ? true
      : filter.op !== undefined && filter.op !== null;
  const kinds =
    [filter.and, filter.or].filter((k) => k !== undefined && k !== null).length +
    (hasCondition ? 1 : 0);
  if (kinds !== 1) {
    throw badInput('a filter is exactly one of: `and`, `or`, or a condition (`property` and `op`)');
  }
  const group = filter.and ?? filter.or;
  if (group) {
    if (group.length === 0) throw badInput('`and` and `or` take at least one filter');
    const parts = group.map((f) => `(${filterSql(f, params, depth + 1)})`);
    return parts.join(filter.and ? ' AND ' : ' OR ');
  }
  const { property, op } = filter;
  if (!property || !op) throw badInput('a condition needs both `property` and `op`');
  const what = `${filter.person ? 'person property' : 'property'} ${JSON.stringify(property)}`;
  const positive = POSITIVE_OF[op] ?? op;
  const negated = positive !== op;
  if (!filter.person) {
    const on: Operand = {
      text: eventText(property, params),
      number: eventNumber(property, params),
      set: eventSet(property, params),
    };
    const holds = condition(positive, filter.value, on, params, what);
    return negated ? `NOT (${holds})` : holds;
  }
  const on: Operand = {
    text: personText('raw'),
    number: personNumber('raw'),
    set: `JSONType(raw) != 'Null'`,
  };
  const holds = condition(positive, filter.value, on, params, what);
  const users = `SELECT user_id FROM (${personValuesSql(property, params)}) WHERE ${holds}`;
  return `user_id ${negated ? 'NOT IN' : 'IN'} (${users})`;
}
