// The embedded meta store: PostgreSQL in-process (PGlite), on disk or in memory.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { MetaStore, MetaTransaction } from './meta.port.ts';

export interface PgliteMetaOptions {
  /** Directory of the database files; undefined keeps the database in memory. */
  dataDir?: string;
}

/**
 * PGlite is one connection: it queues every query and transaction behind the open transaction.
 * So a call on the store from inside `transaction()` would wait for itself forever; it throws.
 */
export async function createPgliteMeta(options: PgliteMetaOptions = {}): Promise<MetaStore> {
  const { dataDir } = options;
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
  const inTransaction = new AsyncLocalStorage<true>();

  function outsideTransaction(what: string): void {
    if (inTransaction.getStore()) {
      throw new Error(
        `meta.${what}() called inside meta.transaction(): use the transaction's handle, ` +
          'the store waits for the open transaction',
      );
    }
  }

  function handle(tx: Transaction): MetaTransaction {
    return {
      async query<T>(sql: string, params: readonly unknown[] = []) {
        return (await tx.query<T>(sql, [...params])).rows;
      },
      async exec(sql: string) {
        await tx.exec(sql);
      },
    };
  }

  return {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      outsideTransaction('query');
      return (await db.query<T>(sql, [...params])).rows;
    },
    async transaction<T>(fn: (tx: MetaTransaction) => Promise<T>) {
      outsideTransaction('transaction');
      return db.transaction((tx) => inTransaction.run(true, () => fn(handle(tx))));
    },
    async exec(sql: string) {
      outsideTransaction('exec');
      await db.exec(sql);
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}
