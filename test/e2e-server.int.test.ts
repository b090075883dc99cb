// End to end on the server adapters: Kafka as the bus, Redis for the live store and caches,
// PostgreSQL for the meta store and Elasticsearch for search (the local servers that
// `npm run services -- up` provides), through the same public doors and checks as the embedded
// run. Events and rollups stay on chDB: no ClickHouse server is installable here.
import { afterAll } from 'vitest';
import { e2eSuite } from './support/e2e-suite.ts';
import { throwawayServerEnv } from './support/throwaway-servers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

e2eSuite(async () => {
  const servers = await throwawayServerEnv();
  cleanups.push(() => servers.cleanup());
  return servers.env;
});
