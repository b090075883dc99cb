// Builds every store from configuration: a configured server wins over the embedded default,
// store by store. The runtime and the operator commands (replay) open their stores here.
import { join } from 'node:path';
import type { Bus } from '../lib/bus/bus.port.ts';
import { createKafkaBus } from '../lib/bus/kafka.bus.ts';
import { createMemoryBus } from '../lib/bus/memory.bus.ts';
import type { Keyv } from 'keyv';
import { createCache } from '../lib/cache/cache.ts';
import { createRedisCacheStores } from '../lib/cache/redis.cache.ts';
import { ConfigError, type LoupeConfig } from '../lib/config.ts';
import type { LiveStore } from '../lib/live/live.port.ts';
import { createMemoryLiveStore } from '../lib/live/memory.live.ts';
import { createRedisLiveStore } from '../lib/live/redis.live.ts';
import type { Logger } from '../lib/logger.ts';
import type { MetaStore } from '../lib/meta/meta.port.ts';
import { migrate } from '../lib/meta/migrate.ts';
import { createPgliteMeta } from '../lib/meta/pglite.meta.ts';
import { createPostgresMeta } from '../lib/meta/postgres.meta.ts';
import { createChdbOlap } from '../lib/olap/chdb.olap.ts';
import { createClickHouseOlap } from '../lib/olap/clickhouse.olap.ts';
import type { Olap } from '../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../lib/olap/olap-schema.ts';
import { createClickHouseSearch } from '../lib/search/clickhouse.search.ts';
import { createElasticsearchSearch } from '../lib/search/elasticsearch.search.ts';
import type { SearchIndex } from '../lib/search/search.port.ts';
import type { SentimentScorer } from '../lib/sentiment/sentiment.port.ts';
import { createVaderScorer } from '../lib/sentiment/vader.sentiment.ts';
import { createClosers } from './closers.ts';

export interface Stores {
  olap: Olap;
  meta: MetaStore;
  bus: Bus;
  live: LiveStore;
  search: SearchIndex;
  /** The sentiment scorer: VADER (a model server's adapter is chosen here once there is one). */
  sentiment: SentimentScorer;
  /** A cache under its own namespace: in memory, or on Redis when one is configured. */
  cache<Value>(namespace: string, ttlMs: number): Keyv<Value>;
  /** Closes in reverse order of opening. */
  close(): Promise<void>;
}

/**
 * Embedded, takes the data directory for this process (chDB's lock on it) until released, so an
 * operator command never opens PGlite beside a running product; with a meta server, does nothing.
 */
export async function holdEmbeddedDataDir(config: LoupeConfig): Promise<() => Promise<void>> {
  if (config.servers.postgresUrl) return async () => {};
  let olap: Olap | undefined;
  try {
    olap = createChdbOlap({ dataDir: join(config.dataDir, 'olap'), sessions: 1 });
    await olap.query('SELECT 1');
  } catch (error) {
    await olap?.close().catch(() => undefined);
    throw new ConfigError(
      `the data directory ${config.dataDir} is in use (is \`npm start\` running on it?): stop it first, or use a meta server (LOUPE_POSTGRES_URL); chDB said: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const held = olap;
  return () => held.close();
}

/** The meta store alone, migrated: what operator commands on organisations and keys need. */
export async function openMetaStore(config: LoupeConfig): Promise<MetaStore> {
  const meta = config.servers.postgresUrl
    ? await createPostgresMeta({ url: config.servers.postgresUrl })
    : await createPgliteMeta({ dataDir: join(config.dataDir, 'meta') });
  try {
    await migrate(meta);
  } catch (error) {
    await meta.close();
    throw error;
  }
  return meta;
}

export async function openStores(config: LoupeConfig, logger?: Logger): Promise<Stores> {
  const { servers } = config;
  const closers = createClosers();
  const close = () => closers.close();
  try {
    const olap = servers.clickhouseUrl
      ? createClickHouseOlap({ url: servers.clickhouseUrl })
      : createChdbOlap({ dataDir: join(config.dataDir, 'olap') });
    closers.add(() => olap.close());
    await applyOlapSchema(olap, (line) => logger?.info(line));

    const meta = await openMetaStore(config);
    closers.add(() => meta.close());

    const bus: Bus = servers.kafkaBrokers
      ? createKafkaBus({ brokers: servers.kafkaBrokers, prefix: servers.kafkaTopicPrefix, logger })
      : createMemoryBus({ partitions: 4 });
    closers.add(() => bus.close());

    const live = servers.redisUrl
      ? createRedisLiveStore({ url: servers.redisUrl, keyPrefix: servers.redisKeyPrefix, logger })
      : createMemoryLiveStore();
    closers.add(() => live.close());

    const search: SearchIndex = servers.elasticsearchUrl
      ? createElasticsearchSearch({
          url: servers.elasticsearchUrl,
          indexPrefix: servers.elasticsearchIndexPrefix,
          // A search field fails at once while Elasticsearch is down, rather than after a retry.
          maxRetries: 0,
        })
      : createClickHouseSearch(olap);
    closers.add(() => search.close());

    const sentiment = createVaderScorer();
    closers.add(() => sentiment.close());

    const redisCaches = servers.redisUrl
      ? createRedisCacheStores({
          url: servers.redisUrl,
          keyPrefix: servers.redisKeyPrefix,
          onError: (error) => logger?.warn({ err: error }, 'cache unavailable, reading through'),
        })
      : undefined;
    if (redisCaches) closers.add(() => redisCaches.close());
    const cache = <Value>(namespace: string, ttlMs: number) =>
      createCache<Value>({ namespace, ttlMs, store: redisCaches?.store(namespace) });

    return { olap, meta, bus, live, search, sentiment, cache, close };
  } catch (error) {
    await close().catch(() => undefined); // the first failure is the one to report
    throw error;
  }
}
