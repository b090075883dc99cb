// The product under benchmark, in its own process: every service through `startLoupe`, no demo
// data or traffic, ports chosen by the system. Announces `ready` with its URLs and API key, then
// answers `stats` (its CPU and memory, to tell where time goes) and `caughtUp` until `close`.
// First: graphql-js and Apollo read NODE_ENV as they load.
import '../../lib/production-mode.ts';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig, throwawayEnv, type ServiceName } from '../../lib/config.ts';
import { createLogger } from '../../lib/logger.ts';
import { startLoupe } from '../../scripts/runtime.ts';
import { createInternalTokens } from '../../lib/auth/internal-token.ts';
import { serveControl, tell } from './child.ts';
import { startPlainGateway } from './plain-gateway.ts';
import type { ProductReady, ProductStats } from './product-child.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'api-key': { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    /** `LOUPE_…=value` settings on top of the throwaway ones, e.g. the server adapters. */
    env: { type: 'string', multiple: true, default: [] },
    /** Services to run (all by default), e.g. only the pipeline roles in a second process. */
    service: { type: 'string', multiple: true, default: [] },
    /** Also serve plain @apollo/gateway over the same subgraphs, in this process. */
    'plain-gateway': { type: 'boolean', default: false },
  },
});
const dataDir = values['data-dir'];
const apiKey = values['api-key'];
if (!dataDir || !apiKey) throw new Error('product.ts needs --data-dir and --api-key');

const started = performance.now();
// The benchmark's own environment: nothing here comes from the shell that started it.
const extra = Object.fromEntries(
  values.env.map((pair) => {
    const at = pair.indexOf('=');
    if (!pair.startsWith('LOUPE_') || at < 0)
      throw new Error(`--env takes LOUPE_NAME=value, got ${pair}`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);
const config = loadConfig({
  ...throwawayEnv({ dataDir, apiKey, logLevel: values['log-level'] }),
  ...extra,
});
const services = values.service.length > 0 ? (values.service as ServiceName[]) : undefined;
const loupe = await startLoupe(config, {
  services,
  logger: createLogger(config.logLevel, 'loupe-bench'),
});
const { gateway = '', ingest = '' } = loupe.urls;
let plainGateway = '';
let closePlain = async () => {};
if (values['plain-gateway']) {
  const caller = await loupe.authenticate(apiKey);
  if (!caller || !config.internalSecret) {
    throw new Error('--plain-gateway needs a known API key and LOUPE_INTERNAL_SECRET');
  }
  const token = await createInternalTokens(config.internalSecret).sign(caller);
  const plain = await startPlainGateway(loupe.urls.subgraphs, token);
  plainGateway = plain.url;
  closePlain = plain.close;
}

serveControl(
  {
    stats: async (): Promise<ProductStats> => {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      return {
        cpuMs: (cpu.user + cpu.system) / 1000,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
      };
    },
    caughtUp: async (timeoutMs) => {
      await loupe.caughtUp(typeof timeoutMs === 'number' ? timeoutMs : undefined);
      return true;
    },
  },
  async () => {
    await closePlain();
    await loupe.close();
  },
);

const ready: ProductReady = {
  type: 'ready',
  gateway,
  plainGateway,
  ingest,
  apiKey,
  startupMs: performance.now() - started,
};
await tell({ ...ready });
