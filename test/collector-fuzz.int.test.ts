// The collector fuzzed on the server stores (PostgreSQL, Redis, Kafka, Elasticsearch), each in a
// fresh schema or prefix; events and rollups stay on chDB, as in the server-mode end-to-end run.
import { afterAll } from 'vitest';
import { collectorFuzzSuite } from './support/collector-fuzz-suite.ts';
import { throwawayServerEnv } from './support/throwaway-servers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

collectorFuzzSuite({
  servers: async () => {
    const servers = await throwawayServerEnv();
    cleanups.push(() => servers.cleanup());
    return servers.env;
  },
  seed: 20_240_802,
  count: 100_000,
});
