// The meta store: PostgreSQL SQL ($1 parameters). Embedded: PGlite (`pglite.meta.ts`); server:
// PostgreSQL (`postgres.meta.ts`). Both pass `meta.contract.ts`.

export interface MetaStore {
  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: MetaTransaction) => Promise<T>): Promise<T>;
  /** Runs several statements with no parameters (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export type MetaQuery = Pick<MetaStore, 'query'>;

/** Inside a transaction `exec` is there too, so a migration and its record commit together. */
export type MetaTransaction = Pick<MetaStore, 'query' | 'exec'>;
