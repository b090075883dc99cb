// Prometheus metrics of this process, served on GET /metrics by every HTTP door. One registry per
// process: every service in it reports under its own `server` label.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'loupe_process_' });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const graphqlRequests = new Counter({
  name: 'loupe_graphql_requests_total',
  help: 'GraphQL requests answered, by server, operation name and outcome (OK or the first error code)',
  labelNames: ['server', 'operation', 'code'] as const,
  registers: [registry],
});

export const graphqlDuration = new Histogram({
  name: 'loupe_graphql_request_duration_seconds',
  help: 'From the request reaching Apollo to its answer, by server and operation name',
  labelNames: ['server', 'operation'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const subgraphFetchDuration = new Histogram({
  name: 'loupe_subgraph_fetch_duration_seconds',
  help: "The gateway's fetches from each subgraph, by subgraph and HTTP status",
  labelNames: ['subgraph', 'status'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const cacheLookups = new Counter({
  name: 'loupe_cache_lookups_total',
  help: 'Lookups of each cache, by result (hit or miss)',
  labelNames: ['cache', 'result'] as const,
  registers: [registry],
});

export const collectorEvents = new Counter({
  name: 'loupe_collector_events_total',
  help: 'Events the collector was sent, by result (accepted or rejected)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const connectorPolls = new Counter({
  name: 'loupe_connector_polls_total',
  help: 'Polls of connected accounts, by platform and outcome (ok, rate-limited, revoked, failed, lease-lost)',
  labelNames: ['platform', 'outcome'] as const,
  registers: [registry],
});

export const connectorCalls = new Counter({
  name: 'loupe_connector_calls_total',
  help: "Calls to the platforms' APIs, by platform and what came of them (sent, throttled, retried, refreshed)",
  labelNames: ['platform', 'kind'] as const,
  registers: [registry],
});

export const webhookDeliveries = new Counter({
  name: 'loupe_webhook_deliveries_total',
  help: 'Webhook deliveries received, by platform and HTTP status answered',
  labelNames: ['platform', 'status'] as const,
  registers: [registry],
});

export interface LagRow {
  group: string;
  partition: number;
  lag: number;
}
const lagSources = new Set<() => Promise<LagRow[]>>();

/** Messages a consumer group has yet to process, per partition; read from the bus on scrape. */
export const consumerLag = new Gauge({
  name: 'loupe_consumer_lag_messages',
  help: 'Messages of the events topic each consumer group of this process has not committed',
  labelNames: ['group', 'partition'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const source of lagSources) {
      // A bus that does not answer leaves the gauge empty rather than failing the scrape.
      const rows = await source().catch((): LagRow[] => []);
      for (const { group, partition, lag } of rows) {
        this.set({ group, partition: String(partition) }, lag);
      }
    }
  },
});

/** Reports the lag of a pipeline's groups on every scrape, until the returned function runs. */
export function reportConsumerLag(source: () => Promise<LagRow[]>): () => void {
  lagSources.add(source);
  return () => lagSources.delete(source);
}

/** Operation names callers choose are unbounded; past this many distinct ones they are `other`. */
const MAX_OPERATION_NAMES = 200;
const operationNames = new Set<string>();

/** A bounded label for a caller-chosen operation name. */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  if (!/^\w{1,64}$/.test(name)) return 'other';
  if (operationNames.has(name)) return name;
  if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
  operationNames.add(name);
  return name;
}
