// End to end with the meta store on PostgreSQL and the live store on Redis (the local servers),
// through the same public doors and checks as the embedded run.
import { afterAll } from 'vitest';
import { e2eSuite } from './support/e2e-suite.ts';
import { throwawayPostgres, throwawayRedis } from './support/throwaway-servers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

e2eSuite(async () => {
  const postgres = await throwawayPostgres();
  const redis = throwawayRedis();
  cleanups.push(
    () => postgres.drop(),
    () => redis.clear(),
  );
  return {
    LOUPE_POSTGRES_URL: postgres.url,
    LOUPE_REDIS_URL: redis.url,
    LOUPE_REDIS_KEY_PREFIX: redis.keyPrefix,
  };
});
