// Embedded OLAP: the ClickHouse engine in-process through chDB, on a local data directory.
// Queries and inserts run off the event loop (chDB's async API). A session runs one statement
// at a time, so on machines with cores to spare a few sessions share the data directory (chDB
// lets sessions on one path coexist) and each statement goes to the one with the shortest queue.
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Session } from 'chdb';
import type { Olap, OlapParams } from './olap.port.ts';
import { INSERT_SETTINGS } from './insert-settings.ts';
import { assertTableName } from './olap-table.ts';

export interface ChdbOlapOptions {
  /** Directory holding the tables; created when missing. chDB allows one per process. */
  dataDir: string;
  /**
   * Sessions statements are spread over. Default: one per core but one, 1 to 4: each runs on a
   * core of its own, and the JavaScript thread that serves the answers needs one too.
   */
  sessions?: number;
}

interface Lane {
  session: Session;
  /** Statements queued or running on this session. */
  waiting: number;
  tail: Promise<unknown>;
}

export function createChdbOlap({ dataDir, sessions }: ChdbOlapOptions): Olap {
  const size = sessions ?? Math.min(4, Math.max(1, availableParallelism() - 1));
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`chDB sessions must be a positive integer, got ${size}`);
  }
  mkdirSync(dataDir, { recursive: true });
  const lanes: Lane[] = Array.from({ length: size }, () => ({
    session: new Session(dataDir),
    waiting: 0,
    tail: Promise.resolve(),
  }));
  let closed = false;

  // Each session runs its statements in order; a new one joins the shortest queue.
  const run = <T>(work: (session: Session) => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('the chDB store is closed'));
    const lane = lanes.reduce((best, l) => (l.waiting < best.waiting ? l : best));
    lane.waiting++;
    const go = () => work(lane.session);
    const next = lane.tail.then(go, go).finally(() => lane.waiting--);
    lane.tail = next.catch(() => undefined);
    return next;
  };

  return {
    async query<T>(sql: string, params: OlapParams = {}): Promise<T[]> {
      const result = await run((s) => s.queryBindAsync(sql, params, { format: 'JSONEachRow' }));
      const text = result.text();
      if (text.length === 0) return [];
      return text
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as T);
    },

    async command(sql: string, params: OlapParams = {}): Promise<void> {
      await run((s) => s.queryBindAsync(sql, params, { format: 'Null' }));
    },

    async insert(table: string, rows: readonly object[]): Promise<void> {
      assertTableName(table);
      if (rows.length === 0) return;
      let payload = '';
      for (const row of rows) payload += JSON.stringify(row) + '\n';
      await run((s) =>
        s.insert({
          table,
          values: Buffer.from(payload),
          format: 'JSONEachRow',
          settings: INSERT_SETTINGS,
        }),
      );
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all(lanes.map((l) => l.tail));
      for (const lane of lanes) lane.session.close();
    },
  };
}
