import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config.ts';
import { metaContract } from './meta.contract.ts';
import type { MetaStore } from './meta.port.ts';
import { createPostgresMeta } from './postgres.meta.ts';

// A schema per run, so the migrations apply from scratch and runs never see each other's tables.
const schema = `loupe_test_${randomBytes(6).toString('hex')}`;

/** The server URL with every connection's search_path set to this run's schema. */
function schemaUrl(): string {
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

let serverUrl: string;
let admin: MetaStore;

beforeAll(async () => {
  // Read when the run starts, not at import: the environment is the entry point's to read.
  serverUrl = loadConfig().servers.postgresUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  admin = await createPostgresMeta({ url: serverUrl, max: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
});

afterAll(async () => {
  await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.close();
});

metaContract('postgres', () => createPostgresMeta({ url: schemaUrl() }));

describe('postgres meta store', () => {
  test("every connection works in the run's schema", async () => {
    const meta = await createPostgresMeta({ url: schemaUrl(), max: 2 });
    try {
      const [outside, inside] = await Promise.all([
        meta.query<{ schema: string }>('SELECT current_schema() AS schema'),
        meta.transaction((tx) => tx.query<{ schema: string }>('SELECT current_schema() AS schema')),
      ]);
      expect(outside).toEqual([{ schema }]);
      expect(inside).toEqual([{ schema }]);
    } finally {
      await meta.close();
    }
  });

  test("keeps PostgreSQL's error message, and closes more than once", async () => {
    const meta = await createPostgresMeta({ url: schemaUrl(), max: 1 });
    try {
      await expect(meta.query('SELECT * FROM no_such_table_anywhere')).rejects.toThrow(
        'relation "no_such_table_anywhere" does not exist',
      );
    } finally {
      await meta.close();
    }
    await meta.close();
  });

  test('refuses a transaction handle used after its transaction ended', async () => {
    const meta = await createPostgresMeta({ url: schemaUrl(), max: 1 });
    try {
      const leaked = await meta.transaction((tx) => Promise.resolve(tx));
      await expect(leaked.query('SELECT 1')).rejects.toThrow(
        /after its meta.transaction\(\) ended/,
      );
    } finally {
      await meta.close();
    }
  });

  test('fails at creation when the server cannot be reached', async () => {
    const url = new URL(serverUrl);
    url.hostname = '127.0.0.1';
    url.port = '1';
    await expect(createPostgresMeta({ url: url.toString() })).rejects.toThrow(/ECONNREFUSED/);
  });
});
