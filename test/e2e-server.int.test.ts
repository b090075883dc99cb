// End to end on the server adapters: Kafka as the bus, Redis for the live store and caches,
// PostgreSQL for the meta store and Elasticsearch for search (the local servers that
// `npm run services -- up` provides), through the same public doors and checks as the embedded
// run. Events and rollups stay on chDB: no ClickHouse server is installable here.
import { afterAll } from 'vitest';
import { e2eSuite } from './support/e2e-suite.ts';
import {
  throwawayElasticsearch,
  throwawayKafka,
  throwawayPostgres,
  throwawayRedis,
} from './support/throwaway-servers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

e2eSuite(async () => {
  const postgres = await throwawayPostgres();
  const redis = throwawayRedis();
  const kafka = throwawayKafka();
  const elasticsearch = throwawayElasticsearch();
  cleanups.push(
    () => postgres.drop(),
    () => redis.clear(),
    () => elasticsearch.drop(),
  );
  return {
    LOUPE_POSTGRES_URL: postgres.url,
    LOUPE_REDIS_URL: redis.url,
    LOUPE_REDIS_KEY_PREFIX: redis.keyPrefix,
    LOUPE_KAFKA_BROKERS: kafka.brokers,
    LOUPE_KAFKA_TOPIC_PREFIX: kafka.topicPrefix,
    LOUPE_ELASTICSEARCH_URL: elasticsearch.url,
    LOUPE_ELASTICSEARCH_INDEX_PREFIX: elasticsearch.indexPrefix,
  };
});
