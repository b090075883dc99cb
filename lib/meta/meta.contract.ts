// One suite for every meta store adapter: PGlite here, PostgreSQL (pg) when a server is configured.
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { MetaStore } from './meta.port.ts';
import { MIGRATIONS_DIR, MigrationError, migrate, readMigrations } from './migrate.ts';

export function metaContract(name: string, create: () => Promise<MetaStore>): void {
  describe(`meta contract: ${name}`, () => {
    let meta: MetaStore;
    // A table of its own, so the suite can share a database with other runs.
    const table = `contract_${randomUUID().replace(/-/g, '')}`;

    beforeAll(async () => {
      meta = await create();
      await meta.exec(`CREATE TABLE ${table} (id text PRIMARY KEY, n integer NOT NULL DEFAULT 0)`);
    });
    afterAll(async () => {
      await meta.exec(`DROP TABLE IF EXISTS ${table}`);
      await meta.close();
    });

    test('migrations apply once, even when two callers race', async () => {
      const versions = (await readMigrations()).map((m) => m.version);
      const [first, second] = await Promise.all([migrate(meta), migrate(meta)]);
      const appliedTwice = first.applied.filter((v) => second.applied.includes(v));
      expect(appliedTwice).toEqual([]);

      const again = await migrate(meta);
      expect(again.applied).toEqual([]);
      const recorded = await meta.query<{ version: string }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      expect(recorded.map((r) => r.version)).toEqual(expect.arrayContaining(versions));
      const tables = await meta.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_name = ANY($1::text[])`,
        [['organisations', 'api_keys', 'tracked_accounts', 'competitor_sets', 'report_schedules']],
      );
      expect(tables).toHaveLength(5);
    });

    test('a migration edited after it was applied is refused, and nothing changes', async () => {
      await migrate(meta);
      const dir = await mkdtemp(join(tmpdir(), 'loupe-migrations-'));
      await cp(fileURLToPath(MIGRATIONS_DIR), dir, { recursive: true });
      const [first] = (await readdir(dir)).sort();
      if (first === undefined) throw new Error('no migration files');
      await writeFile(join(dir, first), '-- edited\nSELECT 1;\n');
      await expect(migrate(meta, { dir })).rejects.toBeInstanceOf(MigrationError);
      expect((await migrate(meta)).applied).toEqual([]);
    });

    test('binds parameters server-side, including nulls and arrays', async () => {
      const rows = await meta.query<{ s: string; n: number; xs: string[]; nothing: null }>(
        'SELECT $1::text AS s, $2::integer + 1 AS n, $3::text[] AS xs, $4::text AS nothing',
        ["it's; DROP TABLE x --", 41, ['a', "b'c"], null],
      );
      expect(rows).toEqual([
        { s: "it's; DROP TABLE x --", n: 42, xs: ['a', "b'c"], nothing: null },
      ]);
    });

    test('exec runs several statements; a failed statement leaves the store usable', async () => {
      await meta.exec(
        `INSERT INTO ${table} (id) VALUES ('e1'); INSERT INTO ${table} (id) VALUES ('e2');`,
      );
      expect(await ids(`e%`)).toEqual(['e1', 'e2']);
      await expect(meta.query('SELECT * FROM no_such_table_anywhere')).rejects.toThrow();
      await expect(meta.query(`INSERT INTO ${table} (id) VALUES ('e1')`)).rejects.toThrow();
      expect(await meta.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    });

    test('a transaction commits what it wrote when its function resolves', async () => {
      const result = await meta.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id) VALUES ($1)`, ['c1']);
        await tx.exec(`INSERT INTO ${table} (id) VALUES ('c2')`);
        const seen = await tx.query<{ id: string }>(
          `SELECT id FROM ${table} WHERE id LIKE 'c%' ORDER BY id`,
        );
        return seen.map((r) => r.id);
      });
      expect(result).toEqual(['c1', 'c2']);
      expect(await ids('c%')).toEqual(['c1', 'c2']);
    });

    test('a transaction rolls back everything when its function throws, and rethrows', async () => {
      const failure = new Error('changed my mind');
      await expect(
        meta.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} (id) VALUES ($1)`, ['r1']);
          throw failure;
        }),
      ).rejects.toBe(failure);
      await expect(
        meta.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} (id) VALUES ($1)`, ['r2']);
          await tx.query(`INSERT INTO ${table} (id) VALUES ($1)`, ['r2']);
        }),
      ).rejects.toThrow();
      expect(await ids('r%')).toEqual([]);
    });

    test('concurrent transactions do not see or commit each other', async () => {
      let releaseA = (): void => {};
      const aMayFinish = new Promise<void>((resolve) => (releaseA = resolve));
      const a = meta.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id) VALUES ('i-a')`);
        await Promise.race([aMayFinish, sleep(50)]);
        return (await tx.query<{ id: string }>(`SELECT id FROM ${table} WHERE id LIKE 'i-%'`)).map(
          (r) => r.id,
        );
      });
      const b = meta.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id) VALUES ('i-b')`);
        releaseA();
        await sleep(10);
        throw new Error('b rolls back');
      });
      const [seenByA, bOutcome] = await Promise.allSettled([a, b]);
      expect(seenByA).toEqual({ status: 'fulfilled', value: ['i-a'] });
      expect(bOutcome.status).toBe('rejected');
      expect(await ids('i-%')).toEqual(['i-a']);
    });

    test('read-modify-write under a row lock loses no update', async () => {
      await meta.query(`INSERT INTO ${table} (id, n) VALUES ('k-counter', 0)`);
      await Promise.all(
        Array.from({ length: 8 }, () =>
          meta.transaction(async (tx) => {
            const [row] = await tx.query<{ n: number }>(
              `SELECT n FROM ${table} WHERE id = 'k-counter' FOR UPDATE`,
            );
            await sleep(2);
            await tx.query(`UPDATE ${table} SET n = $1 WHERE id = 'k-counter'`, [
              (row?.n ?? 0) + 1,
            ]);
          }),
        ),
      );
      expect(await meta.query(`SELECT n FROM ${table} WHERE id = 'k-counter'`)).toEqual([{ n: 8 }]);
    });

    async function ids(like: string): Promise<string[]> {
      const rows = await meta.query<{ id: string }>(
        `SELECT id FROM ${table} WHERE id LIKE $1 ORDER BY id`,
        [like],
      );
      return rows.map((r) => r.id);
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
