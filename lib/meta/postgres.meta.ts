// The server meta store: a PostgreSQL server through a pool of pg connections.
import pg from 'pg';
import type { MetaStore, MetaTransaction } from './meta.port.ts';

export interface PostgresMetaOptions {
  /** Connection URL, e.g. `postgres://user@host:5432/db`; `?options=-c search_path=x` is honoured. */
  url: string;
  /** Most connections the pool opens at once; each open transaction holds one. */
  max?: number;
}

/** Connects (and checks the server answers) before it resolves, so a bad URL fails at start. */
export async function createPostgresMeta(options: PostgresMetaOptions): Promise<MetaStore> {
  const { url, max = 10 } = options;
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle connection the server drops emits 'error' on the pool; unhandled, it would crash us.
  pool.on('error', () => {});
  let ended = false;

  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw error;
  }

  function handle(client: pg.PoolClient, isOpen: () => boolean): MetaTransaction {
    function ensureOpen(what: string): void {
      if (!isOpen()) throw new Error(`tx.${what}() called after its meta.transaction() ended`);
    }
    return {
      async query<T>(sql: string, params: readonly unknown[] = []) {
        ensureOpen('query');
        return (await client.query(sql, [...params])).rows as T[];
      },
      async exec(sql: string) {
        ensureOpen('exec');
        // No values: pg sends a simple query, which may hold several statements.
        await client.query(sql);
      },
    };
  }

  return {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(sql, [...params])).rows as T[];
    },
    async transaction<T>(fn: (tx: MetaTransaction) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
      } catch (error) {
        client.release(asError(error));
        throw error;
      }
      let open = true;
      // A connection that could not roll back is in an unknown state: the pool must drop it.
      let broken: Error | undefined;
      try {
        const result = await fn(handle(client, () => open));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = asError(rollbackError);
        });
        throw error;
      } finally {
        open = false;
        client.release(broken);
      }
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async close() {
      if (ended) return;
      ended = true;
      await pool.end();
    },
  };
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
