// The collector fuzzed on the embedded stores: chDB, PGlite, the in-process bus and live store.
import { collectorFuzzSuite } from './support/collector-fuzz-suite.ts';

collectorFuzzSuite({ servers: async () => ({}), seed: 20_240_801, count: 100_000 });
