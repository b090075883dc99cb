import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config.ts';
import { metaContract } from './meta.contract.ts';
import { createPostgresMeta } from './postgres.meta.ts';
import { DEFAULT_POSTGRES_URL, throwawayPostgres } from '../../test/support/throwaway-servers.ts';

let room: Awaited<ReturnType<typeof throwawayPostgres>>;
let serverUrl: string;
const schemaUrl = () => room.url;

beforeAll(async () => {
  serverUrl = loadConfig().servers.postgresUrl ?? DEFAULT_POSTGRES_URL;
  room = await throwawayPostgres();
});

afterAll(() => room.drop());

metaContract('postgres', () => createPostgresMeta({ url: schemaUrl() }));

describe('postgres meta store', () => {
  test("every connection works in the run's schema", async () => {
    const meta = await createPostgresMeta({ url: schemaUrl(), max: 2 });
    try {
      const [outside, inside] = await Promise.all([
        meta.query<{ schema: string }>('SELECT current_schema() AS schema'),
        meta.transaction((tx) => tx.query<{ schema: string }>('SELECT current_schema() AS schema')),
      ]);
      expect(outside).toEqual([{ schema: room.schema }]);
      expect(inside).toEqual([{ schema: room.schema }]);
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
