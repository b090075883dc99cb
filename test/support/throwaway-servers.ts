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

export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:9092';
export const DEFAULT_ELASTICSEARCH_URL = 'http://127.0.0.1:9200';

/** Kafka brokers and a fresh topic/group prefix: a run's topics never meet another run's. */
export function throwawayKafka(): { brokers: string; topicPrefix: string } {
  const brokers = loadConfig().servers.kafkaBrokers?.join(',') ?? DEFAULT_KAFKA_BROKERS;
  return { brokers, topicPrefix: `loupe-test-${randomBytes(4).toString('hex')}.` };
}

/** An Elasticsearch URL and a fresh index prefix; `drop` deletes every index under it. */
export function throwawayElasticsearch(): {
  url: string;
  indexPrefix: string;
  drop(): Promise<void>;
} {
  const url = loadConfig().servers.elasticsearchUrl ?? DEFAULT_ELASTICSEARCH_URL;
  const indexPrefix = `loupe-test-${randomBytes(4).toString('hex')}-`;
  return {
    url,
    indexPrefix,
    async drop() {
      // Plain HTTP: the index is the adapter's business, the test only clears up after itself.
      await fetch(`${url}/${indexPrefix}*`, { method: 'DELETE' });
    },
  };
}

/**
 * Settings that put every store but the OLAP one on the local servers (PostgreSQL, Redis, Kafka,
 * Elasticsearch), each under a fresh schema or prefix; `cleanup` removes what they left behind.
 */
export async function throwawayServerEnv(): Promise<{
  env: Record<string, string>;
  cleanup(): Promise<void>;
}> {
  const postgres = await throwawayPostgres();
  const redis = throwawayRedis();
  const kafka = throwawayKafka();
  const elasticsearch = throwawayElasticsearch();
  return {
    env: {
      LOUPE_POSTGRES_URL: postgres.url,
      LOUPE_REDIS_URL: redis.url,
      LOUPE_REDIS_KEY_PREFIX: redis.keyPrefix,
      LOUPE_KAFKA_BROKERS: kafka.brokers,
      LOUPE_KAFKA_TOPIC_PREFIX: kafka.topicPrefix,
      LOUPE_ELASTICSEARCH_URL: elasticsearch.url,
      LOUPE_ELASTICSEARCH_INDEX_PREFIX: elasticsearch.indexPrefix,
    },
    async cleanup() {
      await postgres.drop();
      await redis.clear();
      await elasticsearch.drop();
    },
  };
}
