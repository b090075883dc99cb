// Isolated room on the shared local servers for one test run: a fresh PostgreSQL schema and a
// Redis key prefix, both removed afterwards, so runs never see each other's data.
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../lib/config.ts';
import { createRedisLiveStore } from '../../lib/live/redis.live.ts';
import { createPostgresMeta } from '../../lib/meta/postgres.meta.ts';

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** A PostgreSQL URL whose every connection works in a new, empty schema. */
export async function throwawayPostgres(): Promise<{
  url: string;
  schema: string;
  drop(): Promise<void>;
}> {
  // Read when the run starts, not at import: the environment is the entry point's to read.
  const serverUrl = loadConfig().servers.postgresUrl ?? DEFAULT_POSTGRES_URL;
  const schema = `loupe_test_${randomBytes(6).toString('hex')}`;
  const admin = await createPostgresMeta({ url: serverUrl, max: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    schema,
    async drop() {
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    },
  };
}

/** A Redis URL and a fresh key prefix; `clear` deletes every key written under it. */
export function throwawayRedis(): { url: string; keyPrefix: string; clear(): Promise<void> } {
  const url = loadConfig().servers.redisUrl ?? DEFAULT_REDIS_URL;
  const keyPrefix = `loupe-test-${randomBytes(4).toString('hex')}:`;
  return {
    url,
    keyPrefix,
    async clear() {
      const store = createRedisLiveStore({ url, keyPrefix });
      await store.clear();
      await store.close();
    },
  };
}
