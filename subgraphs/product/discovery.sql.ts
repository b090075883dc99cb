// What an app sends, for a front end's menus: its event names, the property paths and types seen
// (event_properties, schema/clickhouse/032), person properties, and one person's. Scoped by the
// caller's organisation and the app.
import type { Olap } from '../../lib/olap/olap.port.ts';
import { eventGroupText, SqlParams } from './property-sql.ts';

export type PropertyType = 'STRING' | 'NUMBER' | 'BOOLEAN' | 'LIST';

export interface PropertyDefinition {
  path: string;
  types: PropertyType[];
  examples: string[];
  lastSeen: number;
}

interface App {
  orgId: string;
  appId: string;
}

const EXAMPLES = 5;
/** Examples come from the events of the day before a property was last seen, at most this many. */
const EXAMPLE_ROWS = 10_000;

/** A stored type (ClickHouse's JSON types, or JSONType's for person values) as the API's. */
function typeOf(stored: string): PropertyType | null {
  if (stored === 'String') return 'STRING';
  if (stored === 'Bool') return 'BOOLEAN';
  if (['Int64', 'UInt64', 'Float64', 'Double'].includes(stored)) return 'NUMBER';
  if (stored.startsWith('Array')) return 'LIST';
  return null;
}

const typesOf = (stored: readonly string[]) => [
  ...new Set(stored.map(typeOf).filter((t): t is PropertyType => t !== null)),
];

export async function readEventNames(olap: Olap, app: App, first: number) {
  const rows = await olap.query<{ name: string; events: number; last: number }>(
    `SELECT event AS name, toFloat64(count()) AS events,
            toInt64(toUnixTimestamp64Milli(max(timestamp))) AS last
     FROM product_events WHERE org_id = {org:String} AND app_id = {app:String}
     GROUP BY event ORDER BY last DESC, name LIMIT {first:UInt32}`,
    { org: app.orgId, app: app.appId, first },
  );
  return rows.map((r) => ({ name: r.name, events: Number(r.events), lastSeen: Number(r.last) }));
}

export async function readEventProperties(
  olap: Olap,
  app: App,
  event: string | null,
  first: number,
): Promise<PropertyDefinition[]> {
  const scope = { org: app.orgId, app: app.appId, event: event ?? '', first };
  const eventSql = event === null ? '' : 'AND event = {event:String}';
  const paths = await olap.query<{ path: string; types: string[]; last: number }>(
    `SELECT path, groupUniqArray(type) AS types, toInt64(toUnixTimestamp64Milli(max(last_seen))) AS last
     FROM event_properties WHERE org_id = {org:String} AND app_id = {app:String} ${eventSql}
     GROUP BY path ORDER BY last DESC, path LIMIT {first:UInt32}`,
    scope,
  );
  if (paths.length === 0) return [];
  const params = new SqlParams(scope, new Map(paths.map((p) => [p.path, p.types])));
  const newest = Math.max(...paths.map((p) => Number(p.last)));
  const columns = paths.map(
    (p, i) => `groupUniqArrayIf(${EXAMPLES})(t${i}, t${i} IS NOT NULL) AS e${i}`,
  );
  const texts = paths.map((p, i) => `${eventGroupText(p.path, params)} AS t${i}`);
  const [examples] = await olap.query<Record<string, string[]>>(
    `SELECT ${columns.join(', ')}
     FROM (SELECT ${texts.join(', ')} FROM product_events
           WHERE org_id = {org:String} AND app_id = {app:String} ${eventSql}
             AND timestamp >= fromUnixTimestamp64Milli(${params.bind(newest - 86_400_000, 'Int64')}, 'UTC')
           LIMIT ${EXAMPLE_ROWS})`,
    params.values,
  );
  return paths.map((p, i) => ({
    path: p.path,
    types: typesOf(p.types),
    examples: (examples?.[`e${i}`] ?? []).slice().sort(),
    lastSeen: Number(p.last),
  }));
}

/** Each person property name's current values over the app's users. */
function currentSql(oneUser: boolean): string {
  return `SELECT name, user_id,
            if(sum(set_count) > 0, argMaxMerge(set_value), argMinMerge(once_value)) AS raw,
            toInt64(toUnixTimestamp64Milli(max(updated_at))) AS at
     FROM person_properties WHERE org_id = {org:String} AND app_id = {app:String}
     ${oneUser ? 'AND user_id = {user:String}' : ''}
     GROUP BY name, user_id`;
}

const TEXT_OF_RAW = `if(JSONType(raw) = 'String', JSONExtractString(raw), raw)`;

export async function readPersonProperties(
  olap: Olap,
  app: App,
  first: number,
): Promise<PropertyDefinition[]> {
  const params = { org: app.orgId, app: app.appId, first };
  const rows = await olap.query<{
    path: string;
    types: string[];
    examples: string[];
    last: number;
  }>(
    `SELECT name AS path, groupUniqArray(JSONType(raw)) AS types,
            groupUniqArrayIf(${EXAMPLES})(${TEXT_OF_RAW}, JSONType(raw) != 'Null') AS examples,
            max(at) AS last
     FROM (${currentSql(false)})
     GROUP BY name ORDER BY last DESC, name LIMIT {first:UInt32}`,
    params,
  );
  return rows.map((r) => ({
    path: r.path,
    types: typesOf(r.types),
    examples: r.examples.slice().sort(),
    lastSeen: Number(r.last),
  }));
}

export async function readPerson(olap: Olap, app: App, userId: string) {
  const rows = await olap.query<{ name: string; raw: string }>(
    `SELECT name, raw FROM (${currentSql(true)}) ORDER BY name`,
    { org: app.orgId, app: app.appId, user: userId },
  );
  if (rows.length === 0) return null;
  return {
    userId,
    properties: rows.map((r) => {
      const value = JSON.parse(r.raw) as string | number | boolean | null;
      return {
        name: r.name,
        value: value === null ? null : String(value),
        type:
          value === null
            ? null
            : typeOf(
                typeof value === 'string'
                  ? 'String'
                  : typeof value === 'boolean'
                    ? 'Bool'
                    : 'Float64',
              ),
      };
    }),
  };
}
