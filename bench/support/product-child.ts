// Starts `product.ts` in a child process and waits until its doors are open.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { forkBenchChild, type BenchChild } from './child.ts';

/**
 * A larger young generation: ingest allocates short-lived JSON, envelopes and buffers per event,
 * and 64 MiB semi-spaces cut scavenges enough to raise the collector's rate by about a sixth.
 */
export const PRODUCT_NODE_FLAGS = '--max-semi-space-size=64';

export interface ProductReady {
  type: 'ready';
  /** The gateway's GraphQL URL (HTTP; graphql-ws on the same path); empty if not run here. */
  gateway: string;
  /** Plain @apollo/gateway over the same subgraphs, with `plainGateway: true`; else empty. */
  plainGateway: string;
  /** The collector's base URL (events go to `${ingest}/v1/events`); empty if not run here. */
  ingest: string;
  apiKey: string;
  startupMs: number;
}

export interface ProductStats {
  /** CPU time (user + system) the product process has used, in milliseconds. */
  cpuMs: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface RunningProduct extends ProductReady {
  child: BenchChild;
  stats(): Promise<ProductStats>;
  stop(): Promise<void>;
}

export interface StartProductOptions {
  dataDir: string;
  apiKey: string;
  /** Writes a V8 CPU profile of the product into this directory when it stops. */
  profileDir?: string;
  /** Extra `LOUPE_*` settings, e.g. the server adapters' URLs. */
  env?: Record<string, string>;
  /** Services this process runs; all by default. */
  services?: readonly string[];
  /** Also serve plain @apollo/gateway (needs LOUPE_INTERNAL_SECRET in `env`). */
  plainGateway?: boolean;
}

export async function startProduct(options: StartProductOptions): Promise<RunningProduct> {
  const { dataDir, apiKey, profileDir } = options;
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const child = forkBenchChild(
    new URL('./product.ts', import.meta.url),
    [
      '--data-dir',
      dataDir,
      '--api-key',
      apiKey,
      ...Object.entries(options.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ...(options.services ?? []).flatMap((name) => ['--service', name]),
      ...(options.plainGateway ? ['--plain-gateway'] : []),
    ],
    {
      nodeFlags: [
        // The same young-generation size `npm start` gives the product (see package.json).
        PRODUCT_NODE_FLAGS,
        ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir)}`] : []),
      ],
    },
  );
  try {
    const ready = await child.next<ProductReady>('ready', 180_000);
    return {
      ...ready,
      child,
      stats: () => child.request<ProductStats>('stats'),
      stop: () => child.stop(),
    };
  } catch (error) {
    await child.stop(5_000);
    throw error;
  }
}
