// The OLAP store: ClickHouse SQL with server-side `{name:Type}` parameters.
// Embedded: chDB (`chdb.olap.ts`). Server: @clickhouse/client (`clickhouse.olap.ts`).

export type OlapParams = Record<
  string,
  string | number | boolean | readonly string[] | readonly number[]
>;

export interface Olap {
  /** Runs a SELECT and returns its rows (JSONEachRow). */
  query<T>(sql: string, params?: OlapParams): Promise<T[]>;
  /** Runs a statement that returns nothing (DDL, mutations). */
  command(sql: string, params?: OlapParams): Promise<void>;
  /** Inserts rows as one block. */
  insert(table: string, rows: readonly object[]): Promise<void>;
  close(): Promise<void>;
}
