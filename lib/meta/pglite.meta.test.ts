import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { metaContract } from './meta.contract.ts';
import { migrate } from './migrate.ts';
import { createPgliteMeta } from './pglite.meta.ts';

metaContract('pglite in memory', () => createPgliteMeta());

describe('pglite meta store', () => {
  test('keeps its data on disk across a restart, and migrates it no further', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'loupe-meta-')), 'meta');
    const first = await createPgliteMeta({ dataDir });
    expect((await migrate(first)).applied.length).toBeGreaterThan(0);
    await first.query("INSERT INTO organisations (id, name) VALUES ('o1', 'Kept')");
    await first.close();

    const second = await createPgliteMeta({ dataDir });
    try {
      expect((await migrate(second)).applied).toEqual([]);
      expect(await second.query('SELECT name FROM organisations')).toEqual([{ name: 'Kept' }]);
    } finally {
      await second.close();
    }
  });

  test('refuses a call on the store from inside its own transaction instead of hanging', async () => {
    const meta = await createPgliteMeta();
    try {
      await expect(meta.transaction(() => meta.query('SELECT 1'))).rejects.toThrow(
        /inside meta.transaction/,
      );
      expect(await meta.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await meta.close();
    }
  });
});
