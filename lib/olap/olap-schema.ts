// Applies schema/clickhouse/*.sql in file order; every statement is idempotent (IF NOT EXISTS).
// A rollup added to a store that already holds events is filled from them first: its
// materialized view only sees inserts made after it exists.
import { readdir, readFile } from 'node:fs/promises';
import type { Olap } from './olap.port.ts';

const DDL_DIR = new URL('../../schema/clickhouse/', import.meta.url);

/** `CREATE MATERIALIZED VIEW IF NOT EXISTS <view> TO <table> AS <select>` */
const VIEW = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS\s+([\s\S]+)$/;

export async function applyOlapSchema(
  olap: Olap,
  log: (line: string) => void = () => {},
): Promise<void> {
  const files = (await readdir(DDL_DIR)).filter((f) => f.endsWith('.sql')).sort();
  const existing = new Set(
    (
      await olap.query<{ name: string }>(
        'SELECT name FROM system.tables WHERE database = currentDatabase()',
      )
    ).map((t) => t.name),
  );
  for (const file of files) {
    const text = await readFile(new URL(file, DDL_DIR), 'utf8');
    for (const statement of splitStatements(text)) {
      const view = VIEW.exec(statement);
      // Filled before the view exists, so no event reaches the table both ways.
      if (view && !existing.has(view[1]!) && !existing.has(view[2]!) && existing.has('events')) {
        log(`olap: filling new rollup ${view[2]} from the stored events`);
        await olap.command(`INSERT INTO ${view[2]} ${view[3]}`);
      }
      await olap.command(statement);
    }
  }
}

/** Splits on semicolons that end a line; our DDL never has one inside a string. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}
