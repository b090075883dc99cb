// Applies schema/clickhouse/*.sql in file order; every statement is idempotent (IF NOT EXISTS).
import { readdir, readFile } from 'node:fs/promises';
import type { Olap } from './olap.port.ts';

const DDL_DIR = new URL('../../schema/clickhouse/', import.meta.url);

export async function applyOlapSchema(olap: Olap): Promise<void> {
  const files = (await readdir(DDL_DIR)).filter((f) => f.endsWith('.sql')).sort();
  for (const file of files) {
    const text = await readFile(new URL(file, DDL_DIR), 'utf8');
    for (const statement of splitStatements(text)) await olap.command(statement);
  }
}

/** Splits on semicolons that end a line; our DDL never has one inside a string. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}
