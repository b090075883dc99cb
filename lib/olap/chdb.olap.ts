// Embedded OLAP: the ClickHouse engine in-process through chDB, on a local data directory.
// Queries and inserts run off the event loop (chDB's async API); one session per process.
import { mkdirSync } from 'node:fs';
import { Session } from 'chdb';
import type { Olap, OlapParams } from './olap.port.ts';
import { assertTableName } from './olap-table.ts';

export interface ChdbOlapOptions {
  /** Directory holding the tables; created when missing. chDB allows one per process. */
  dataDir: string;
}

export function createChdbOlap({ dataDir }: ChdbOlapOptions): Olap {
  mkdirSync(dataDir, { recursive: true });
  const session = new Session(dataDir);
  let closed = false;
  // chDB runs one statement at a time per session; a queue keeps callers from contending for it.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(run: () => Promise<T>): Promise<T> => {
    const next = tail.then(run, run);
    tail = next.catch(() => undefined);
    return next;
  };

  return {
    async query<T>(sql: string, params: OlapParams = {}): Promise<T[]> {
      const result = await serial(() =>
        session.queryBindAsync(sql, params, { format: 'JSONEachRow' }),
      );
      const text = result.text();
      if (text.length === 0) return [];
      return text
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as T);
    },

    async command(sql: string, params: OlapParams = {}): Promise<void> {
      await serial(() => session.queryBindAsync(sql, params, { format: 'Null' }));
    },

    async insert(table: string, rows: readonly object[]): Promise<void> {
      assertTableName(table);
      if (rows.length === 0) return;
      let payload = '';
      for (const row of rows) payload += JSON.stringify(row) + '\n';
      await serial(() =>
        session.insert({
          table,
          values: Buffer.from(payload),
          format: 'JSONEachRow',
          // Replacing/aggregating engines fold rows at merge time and our reads never rely on it
          // happening at insert; skipping it roughly halves the cost of a large insert.
          settings: { optimize_on_insert: 0 },
        }),
      );
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await tail;
      session.close();
    },
  };
}
