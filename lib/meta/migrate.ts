// Applies schema/postgres/migrations in order, each once; safe on every start and from many processes.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MetaStore } from './meta.port.ts';

export const MIGRATIONS_DIR = new URL('../../schema/postgres/migrations/', import.meta.url);

/** Every process migrating the same database waits on this one transaction-scoped lock. */
const MIGRATION_LOCK_KEY = 7_420_251_001;
const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/;

export interface Migration {
  /** The file name without `.sql`, e.g. `0001_init`. */
  version: string;
  sql: string;
  /** SHA-256 of the file, so an edited migration is caught instead of silently skipped. */
  checksum: string;
}

export interface MigrateResult {
  /** Versions applied by this call, in order; empty when the schema was already current. */
  applied: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Reads the migration files of `dir`, ordered by their four-digit number. */
export async function readMigrations(dir: URL | string = MIGRATIONS_DIR): Promise<Migration[]> {
  const path = dir instanceof URL ? fileURLToPath(dir) : dir;
  const names = (await readdir(path)).filter((name) => name.endsWith('.sql')).sort();
  const seen = new Set<string>();
  const migrations: Migration[] = [];
  for (const name of names) {
    const number = FILE_NAME.exec(name)?.[1];
    if (number === undefined) {
      throw new MigrationError(`migration file ${name} must be named NNNN_snake_case.sql`);
    }
    if (seen.has(number)) throw new MigrationError(`two migration files are numbered ${number}`);
    seen.add(number);
    // Line endings are normalised so a checkout with CRLF does not look like an edit.
    const sql = (await readFile(join(path, name), 'utf8')).replace(/\r\n/g, '\n');
    const checksum = createHash('sha256').update(sql).digest('hex');
    migrations.push({ version: name.slice(0, -'.sql'.length), sql, checksum });
  }
  return migrations;
}

/**
 * Applies every migration not yet recorded in `schema_migrations`, all in one transaction under
 * an advisory lock: a second process waits, then finds nothing left to do.
 */
export async function migrate(
  meta: MetaStore,
  options: { dir?: URL | string } = {},
): Promise<MigrateResult> {
  const migrations = await readMigrations(options.dir);
  return meta.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await tx.query<{ version: string; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations',
    );
    const done = new Map(rows.map((row) => [row.version, row.checksum]));
    const applied: string[] = [];
    for (const migration of migrations) {
      const checksum = done.get(migration.version);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new MigrationError(
            `migration ${migration.version} changed after it was applied; add a new migration instead`,
          );
        }
        continue;
      }
      try {
        await tx.exec(migration.sql);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new MigrationError(`migration ${migration.version} failed: ${reason}`, {
          cause: error,
        });
      }
      await tx.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [
        migration.version,
        migration.checksum,
      ]);
      applied.push(migration.version);
    }
    return { applied };
  });
}
