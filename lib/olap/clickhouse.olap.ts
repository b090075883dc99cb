// Server OLAP: a ClickHouse server through its HTTP interface (@clickhouse/client), with the SQL,
// `{name:Type}` parameters and JSONEachRow rows of the embedded `chdb.olap.ts`. The only file
// that imports @clickhouse/client.
import {
  ClickHouseError,
  ClickHouseLogLevel,
  createClient,
  type ClickHouseSettings,
} from '@clickhouse/client';
import { StoreUnavailableError } from '../store-errors.ts';
import type { Olap, OlapParams } from './olap.port.ts';
import { splitStatements } from './olap-schema.ts';
import { INSERT_SETTINGS } from './insert-settings.ts';
import { assertTableName } from './olap-table.ts';

export interface ClickHouseOlapOptions {
  /** HTTP interface of the server, e.g. `http://127.0.0.1:8123`. */
  url: string;
  /** Database holding the tables. Default: `default`. */
  database?: string;
  /** Default: `default`. */
  username?: string;
  password?: string;
  /** How long one request may take, connecting included. Default: 30 000 ms. */
  requestTimeoutMs?: number;
}

// chDB's own defaults (read from its system.settings), pinned wherever a server's default differs
// or has changed between versions, so that both adapters return the same rows.
const CHDB_SETTINGS: ClickHouseSettings = {
  // chDB writes (U)Int64 as JSON numbers; servers before 25.8 quote them as strings by default.
  output_format_json_quote_64bit_integers: 0,
  // chDB parses ISO 8601 date-times in inserted rows; a server's default 'basic' rejects them.
  date_time_input_format: 'best_effort',
  // chDB's ALTER … UPDATE/DELETE have finished when command() returns; a server's run on after.
  mutations_sync: '1',
};

/**
 * Server errors that a later try may not get: TIMEOUT_EXCEEDED, TOO_MANY_SIMULTANEOUS_QUERIES,
 * SOCKET_TIMEOUT, NETWORK_ERROR, TOO_MANY_PARTS (inserts outpacing merges), MEMORY_LIMIT_EXCEEDED,
 * TABLE_IS_READ_ONLY, ALL_CONNECTION_TRIES_FAILED, UNKNOWN_STATUS_OF_INSERT, KEEPER_EXCEPTION.
 */
const TRANSIENT_CODES = new Set([159, 202, 209, 210, 252, 241, 242, 279, 319, 999]);

export function createClickHouseOlap(options: ClickHouseOlapOptions): Olap {
  const { url, database, username, password, requestTimeoutMs = 30_000 } = options;
  const where = withoutCredentials(url);
  const client = createClient({
    url,
    database,
    username,
    password,
    request_timeout: requestTimeoutMs,
    clickhouse_settings: CHDB_SETTINGS,
    // Failures reach the caller as rejections; the client's console log would only repeat them.
    log: { level: ClickHouseLogLevel.OFF },
  });
  let closed = false;

  // A server's own answer (bad SQL, unknown table) keeps its message and class, unless it says
  // "not now" (overload, a replica away); that, and anything else (refused connection, timeout,
  // a proxy's error page), means the server could not be reached, named after it.
  const run = async <T>(request: () => Promise<T>): Promise<T> => {
    if (closed) throw new Error(`ClickHouse olap for ${where} is closed`);
    try {
      return await request();
    } catch (error) {
      if (error instanceof ClickHouseError && !TRANSIENT_CODES.has(Number(error.code))) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new StoreUnavailableError('ClickHouse', `ClickHouse at ${where}: ${reason}`, {
        cause: error,
      });
    }
  };

  return {
    async query<T>(sql: string, params: OlapParams = {}): Promise<T[]> {
      return run(async () => {
        const result = await client.query({
          query: sql,
          query_params: params,
          format: 'JSONEachRow',
        });
        return result.json<T>();
      });
    },

    // The HTTP interface takes one statement per request; chDB takes several, so split them.
    async command(sql: string, params: OlapParams = {}): Promise<void> {
      for (const statement of splitStatements(sql)) {
        await run(() => client.command({ query: statement, query_params: params }));
      }
    },

    async insert(table: string, rows: readonly object[]): Promise<void> {
      assertTableName(table);
      if (rows.length === 0) return;
      await run(() =>
        client.insert({
          table,
          values: rows,
          format: 'JSONEachRow',
          clickhouse_settings: INSERT_SETTINGS,
        }),
      );
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

/** The URL for messages: a password in it must not end up in logs. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
