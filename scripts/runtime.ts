// The composition root: builds the stores from configuration and starts the requested services
// (all of them by default) in this process. `scripts/start.ts` is its command line; the
// end-to-end tests and benchmarks start the product through it too.
import { randomBytes } from 'node:crypto';
import { KeyvAdapter } from '@apollo/utils.keyvadapter';
import type { Keyv } from 'keyv';
import { createApiKeyAuthenticator } from '../lib/auth/api-key.auth.ts';
import type { Authenticator, Caller } from '../lib/auth/caller.ts';
import { createInternalTokens } from '../lib/auth/internal-token.ts';
import { createJwtVerifier } from '../lib/auth/jwt.auth.ts';
import {
  ConfigError,
  PIPELINE_ROLES,
  SERVICES,
  SUBGRAPHS,
  type LoupeConfig,
  type PipelineRole,
  type ServiceName,
  type SubgraphName,
} from '../lib/config.ts';
import { abandonable } from '../lib/graphql/request-signal.ts';
import type { ServedGraphQL } from '../lib/graphql/serve.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import {
  createApiKey,
  createOrganisation,
  ensureDemoOrganisation,
  getOrganisation,
  listTrackedAccounts,
  upsertTrackedAccounts,
} from '../lib/meta/accounts.repo.ts';
import type { MetaQuery } from '../lib/meta/meta.port.ts';
import { startGateway } from '../gateway/main.ts';
import { createTrustedDocuments } from '../gateway/trusted-documents.ts';
import { reportConsumerLag } from '../lib/observability/metrics.ts';
import { readinessOf } from '../lib/observability/ops-routes.ts';
import { startTracing, traced } from '../lib/observability/tracing.ts';
import { EVENTS_TOPIC } from '../ingest/pipeline/topics.ts';
import { loadApiSchema } from '../schema/api-schema.ts';
import { createClosers } from './closers.ts';
import { tokenCipherOf } from './token-key.ts';
import { connectorPlatforms } from './connector-platforms.ts';
import { startConnectorManager, type ConnectorManager } from '../ingest/connectors/manager.ts';
import { DEFAULT_CLIENT_SETTINGS } from '../ingest/connectors/platform-client.ts';
import { createReportFileRoute } from '../subgraphs/reports/runs/report-file.route.ts';
import { createReportRenderer } from '../subgraphs/reports/runs/report-renderer.ts';
import { startReportWorker } from '../subgraphs/reports/runs/report-worker.ts';
import { createSmtpMailer } from '../subgraphs/reports/runs/smtp.mailer.ts';
import { createWebhookHandler } from '../ingest/webhooks/webhooks.handler.ts';
import {
  connectionsOfPlatformAccount,
  markRevoked,
  pollPlatformAccountSoon,
} from '../lib/meta/connections.repo.ts';
import { openStores, type Stores } from './stores.ts';
import { textStage } from './text-stage.ts';
import type { Platform } from '../schema/event-envelope.ts';
import { serveCollector, type ServedCollector } from '../ingest/collector/collector.server.ts';
import { startPipeline, type Pipeline, type Stage } from '../ingest/pipeline/pipeline.ts';
import { startAdminSubgraph } from '../subgraphs/admin/main.ts';
import { startAudienceSubgraph } from '../subgraphs/audience/main.ts';
import { startBenchmarkingSubgraph } from '../subgraphs/benchmarking/main.ts';
import { startProductSubgraph } from '../subgraphs/product/main.ts';
import { startMetricsSubgraph } from '../subgraphs/metrics/main.ts';
import { startPostsSubgraph } from '../subgraphs/posts/main.ts';
import { startReportsSubgraph } from '../subgraphs/reports/main.ts';

export interface RunningLoupe {
  urls: { gateway?: string; ingest?: string; subgraphs: Partial<Record<SubgraphName, string>> };
  /** Creates an organisation and returns a fresh API key for it (shown once). */
  createOrganisation(name: string): Promise<{ orgId: string; apiKey: string }>;
  /** True when the key's organisation already tracks accounts (demo data loaded earlier). */
  hasData(apiKey: string): Promise<boolean>;
  /** The caller a key stands for, as the gateway verifies it; null when unknown or revoked. */
  authenticate(apiKey: string): Promise<Caller | null>;
  /** The connector manager of this process, when it runs the connectors role. */
  connectors?: ConnectorManager;
  /** Resolves once the pipeline has processed everything accepted so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const STAGES: Record<PipelineRole, Stage> = {
  'olap-sink': 'olapSink',
  'speed-layer': 'speedLayer',
  'text-pipeline': 'text',
};

export interface StartOptions {
  services?: readonly ServiceName[];
  /** Silent when not given (tests that embed the product). */
  logger?: Logger;
}

export async function startLoupe(
  config: LoupeConfig,
  options: StartOptions = {},
): Promise<RunningLoupe> {
  const services = new Set<ServiceName>(options.services ?? SERVICES);
  const roles = PIPELINE_ROLES.filter((role) => services.has(role));
  if (!config.servers.kafkaBrokers) {
    // The in-process bus reaches only this process: its producers and consumers must share it.
    const ingestRoles = ['ingest', 'connectors', ...PIPELINE_ROLES] as const;
    const here = ingestRoles.filter((r) => services.has(r));
    if (here.length > 0 && here.length < ingestRoles.length) {
      throw new ConfigError(
        `${here.join(', ')} without ${ingestRoles.filter((r) => !services.has(r)).join(', ')} ` +
          'needs a shared bus: set LOUPE_KAFKA_BROKERS, or run the ingest roles together',
      );
    }
  }
  if (!config.servers.redisUrl && services.has('speed-layer') && !services.has('metrics')) {
    // Its counters and ticks would stay in this process, where nothing reads them.
    throw new ConfigError(
      'the speed layer without the metrics subgraph needs a shared live store: ' +
        'set LOUPE_REDIS_URL, or run them in one process',
    );
  }
  const tokens = createInternalTokens(internalSecret(config, services));
  const logger = options.logger ?? createLogger('silent');
  // Reverse order: doors first, then consumers, then the stores they write to.
  const closers = createClosers();
  // Every door drains against one deadline, so their drains together fit the grace period.
  let drainUntil: number | undefined;
  // The pipeline may catch up for most of the grace period; the last fifth closes the stores.
  let catchUpUntil = 0;
  const close = () => {
    if (drainUntil === undefined) {
      const { shutdownGraceMs, limits } = config.serving;
      drainUntil = Date.now() + limits.gateway.drainMs;
      catchUpUntil = Date.now() + Math.floor(shutdownGraceMs * 0.8);
    }
    return closers.close();
  };

  try {
    if (config.tracesUrl) {
      // Added first, so it closes last: the spans of the shutdown are sent too.
      const tracing = startTracing({ url: config.tracesUrl, serviceName: 'loupe' });
      closers.add(() => tracing.shutdown());
    }
    const opened = await openStores(config, logger);
    closers.add(() => opened.close());
    // With tracing on, every store call is a span of the request that made it.
    const stores = config.tracesUrl ? tracedStores(opened) : opened;
    const { olap, meta, bus, live, search } = stores;
    await ensureDemoOrganisation(meta, config.demo.apiKey);
    const cipher = await tokenCipherOf(config);

    // What GET /ready asks on every door of this process: each store answers a trivial call.
    const ready = readinessOf({
      olap: () => olap.query('SELECT 1'),
      meta: () => meta.query('SELECT 1'),
      live: () => live.counters(['ready']),
      bus: () => bus.endOffsets(EVENTS_TOPIC),
      search: () => search.search({ orgId: '', text: 'ready', limit: 1 }),
    });

    // Shared by every gateway on Redis, so the admin subgraph's forgetting reaches them all.
    const keyCache = stores.cache<unknown>('api-keys', 30_000);
    const authenticate: Authenticator = createApiKeyAuthenticator(meta, keyCache);
    const forgetKeys = async (hashes: readonly string[]) => {
      await Promise.all(hashes.map((hash) => keyCache.delete(hash))).catch((error: unknown) =>
        logger.warn(
          { err: error },
          'key cache unreachable: changed keys take effect when their cached answers expire (30 s)',
        ),
      );
    };

    // Accounts already registered by this process: most batches name no new account, and then
    // the collector need not touch the meta store at all.
    const knownAccounts = new Set<string>();
    const trackAccounts = async (orgId: string, accounts: ReadonlyMap<string, Platform>) => {
      const fresh = [...accounts].filter(([id]) => !knownAccounts.has(`${orgId}/${id}`));
      if (fresh.length === 0) return;
      await upsertTrackedAccounts(
        meta,
        orgId,
        fresh.map(([id, platform]) => ({ id, platform })),
      );
      if (knownAccounts.size > 100_000) knownAccounts.clear();
      for (const [id] of fresh) knownAccounts.add(`${orgId}/${id}`);
    };

    let pipeline: Pipeline | undefined;
    let collector: ServedCollector | undefined;
    if (roles.length > 0) {
      pipeline = await startPipeline({
        bus,
        olap,
        live,
        text: textStage(stores, config, logger),
        logger,
        retry: config.pipeline.retry,
        stages: roles.map((role) => STAGES[role]),
      });
      const running = pipeline;
      const stopReporting = reportConsumerLag(() => running.lag());
      closers.add(async () => stopReporting());
      closers.add(async () => {
        if (!config.servers.kafkaBrokers && services.has('ingest')) {
          // The in-process bus is memory: what the collector acknowledged must reach the sinks
          // before the process goes. (Kafka keeps it; consumers resume from their commits.)
          await running
            .caughtUp(Math.max(1, catchUpUntil - Date.now()))
            .catch((error: unknown) =>
              logger.error({ err: error }, 'the pipeline did not catch up before stopping'),
            );
        }
        await running.close();
      });
    }
    if (services.has('ingest')) {
      collector = await serveCollector({
        bus,
        authenticate,
        logger,
        host: config.host,
        port: config.ports.ingest,
        limits: config.serving.limits.ingest,
        onAccounts: (orgId, accounts) => trackAccounts(orgId, accounts),
        ready,
        // The platforms' pushes arrive on the same door, under /webhooks/….
        routes: createWebhookHandler({
          bus,
          secrets: config.connectors.webhooks,
          tiktokToleranceMs: config.connectors.webhooks.tiktokToleranceMs,
          resolve: (platform, id) => connectionsOfPlatformAccount(meta, platform, id),
          onRevoked: async (platform, id, reason) => {
            await markRevoked(meta, platform, id, reason);
          },
          onActivity: async (platform, id) => {
            await pollPlatformAccountSoon(meta, platform, id, new Date());
          },
          logger: logger.child({ component: 'webhooks' }),
        }),
      });
      const door = collector;
      closers.add(() => door.close(drainUntil));
    }

    let connectors: ConnectorManager | undefined;
    const noKey =
      'the connectors role keeps platform tokens: set LOUPE_TOKEN_KEYS ' +
      '(id:base64 of 32 random bytes), the same in every process sharing the meta store';
    if (services.has('connectors') && !cipher) {
      // Asked for by name it is refused; run as part of "everything", the rest still starts.
      if (options.services?.includes('connectors')) throw new ConfigError(noKey);
      logger.warn(`connected accounts are not polled in this process: ${noKey}`);
    }
    if (services.has('connectors') && cipher) {
      const manager = startConnectorManager({
        meta,
        bus,
        cipher,
        platforms: connectorPlatforms(config.connectors),
        logger: logger.child({ component: 'connectors' }),
        settings: {
          concurrency: config.connectors.concurrency,
          leaseMs: config.connectors.leaseMs,
          client: { ...DEFAULT_CLIENT_SETTINGS, timeoutMs: config.connectors.timeoutMs },
        },
      });
      connectors = manager;
      // Closed before the pipeline: what its polls published is then waited for like the rest.
      closers.add(() => manager.close());
    }

    if (services.has('reports')) {
      // The reports role serves the subgraph and makes the runs: any number of replicas share
      // them through leases in the meta store.
      const { smtp, from } = config.reports;
      const worker = startReportWorker({
        meta,
        render: createReportRenderer({ olap, meta }),
        ...(smtp && { mailer: createSmtpMailer({ ...smtp, from }) }),
        logger: logger.child({ component: 'reports' }),
        settings: config.reports,
      });
      closers.add(() => worker.close());
    }

    // What partner keys may run; the admin subgraph here tells it at once of a change.
    const trustedDocuments = createTrustedDocuments({ meta, logger });
    const served: Partial<Record<SubgraphName, ServedGraphQL>> = {};
    // Store calls made for a request already cancelled (caller gone, deadline passed) fail at once.
    const deps = {
      olap: abandonable(olap),
      live: abandonable(live),
      meta: abandonable(meta),
      search: abandonable(search),
      tokens,
      logger,
      ready,
    };
    const starters: Record<SubgraphName, () => Promise<ServedGraphQL>> = {
      metrics: () => startMetricsSubgraph(config, deps),
      audience: () => startAudienceSubgraph(config, deps),
      posts: () => startPostsSubgraph(config, deps),
      benchmarking: () => startBenchmarkingSubgraph(config, deps),
      reports: () => startReportsSubgraph(config, deps),
      product: () => startProductSubgraph(config, deps),
      admin: async () =>
        startAdminSubgraph(config, {
          ...deps,
          apiSchema: await loadApiSchema(),
          forgetKeys,
          forgetClient: (orgId, client) => trustedDocuments.forget(orgId, client),
          connections: { cipher, pollSeconds: config.connectors.pollSeconds },
        }),
    };
    for (const name of SUBGRAPHS) {
      if (!services.has(name)) continue;
      const s = await starters[name]();
      served[name] = s;
      closers.add(() => s.close(drainUntil));
    }

    let gatewayUrl: string | undefined;
    if (services.has('gateway')) {
      const subgraphUrls = Object.fromEntries(
        SUBGRAPHS.map((name) => [
          name,
          served[name]?.url ??
            config.subgraphUrls[name] ??
            `http://${config.host}:${config.ports[name]}/graphql`,
        ]),
      ) as Record<SubgraphName, string>;
      const gateway = await startGateway(config, {
        subgraphUrls,
        ...(config.jwt && {
          verifyJwt: jwtVerifier(config.jwt, meta, stores.cache('jwt-organisations', 30_000)),
        }),
        // Subgraphs in this process are called straight, without HTTP and JSON in between.
        localSubgraphs: Object.fromEntries(
          Object.entries(served).map(([name, s]) => [name, s.local]),
        ),
        authenticate,
        tokens,
        // GET /v1/reports/runs/:id/file, with the same API keys.
        reportFiles: createReportFileRoute({ authenticate, meta }),
        // Registered documents, on Redis when configured, so every gateway replica knows them.
        trustedDocuments,
        live,
        ready,
        persistedQueries: new KeyvAdapter(
          // The adapter's typings name Keyv's CommonJS declaration; the instance is the same class.
          // Not namespace 'apq': Apollo prefixes keys 'apq:', and Keyv leaves a key that already
          // starts with its namespace unprefixed on set, but not on the adapter's batched get.
          stores.cache<string>(
            'persisted-queries',
            7 * 24 * 3600 * 1000,
          ) as unknown as ConstructorParameters<typeof KeyvAdapter<string>>[0],
        ),
        logger,
      });
      gatewayUrl = gateway.url;
      closers.add(() => gateway.close(drainUntil));
    }

    return {
      urls: {
        gateway: gatewayUrl,
        ingest: collector?.url,
        subgraphs: Object.fromEntries(Object.entries(served).map(([k, v]) => [k, v.url])),
      },
      async createOrganisation(name) {
        const orgId = await createOrganisation(meta, name);
        const apiKey = await createApiKey(meta, orgId, 'default');
        return { orgId, apiKey };
      },
      authenticate,
      ...(connectors && { connectors }),
      async hasData(apiKey) {
        const caller = await authenticate(apiKey);
        return caller !== null && (await listTrackedAccounts(meta, caller.orgId)).length > 0;
      },
      async caughtUp(timeoutMs) {
        await pipeline?.caughtUp(timeoutMs);
      },
      close,
    };
  } catch (error) {
    await close().catch(() => undefined); // the first failure is the one to report
    throw error;
  }
}

/**
 * The secret the gateway signs subgraph requests with. Unset, a process serving the gateway and
 * every subgraph makes one up; a gateway or subgraph running apart must share the configured one.
 */
function internalSecret(config: LoupeConfig, services: ReadonlySet<ServiceName>): string {
  if (config.internalSecret !== undefined) return config.internalSecret;
  const graph: ServiceName[] = ['gateway', ...SUBGRAPHS];
  const here = graph.filter((s) => services.has(s));
  if (here.length > 0 && here.length < graph.length) {
    throw new ConfigError(
      `${here.join(', ')} without ${graph.filter((s) => !services.has(s)).join(', ')} needs ` +
        'LOUPE_INTERNAL_SECRET (32 characters or more), the same in every process: the gateway ' +
        'signs each request to a subgraph with it',
    );
  }
  return randomBytes(32).toString('base64url');
}

/**
 * The gateway's JWT check: organisations read from the meta store through the cache port (once
 * per 30 s, as keys are, not once per request); a bad JWKS stops startup.
 */
function jwtVerifier(
  settings: NonNullable<LoupeConfig['jwt']>,
  meta: MetaQuery,
  cache: Keyv<{ timeZone: string }>,
) {
  try {
    return createJwtVerifier(settings, async (orgId) => {
      const kept = await cache.get(orgId).catch(() => undefined);
      if (kept) return kept;
      const org = await getOrganisation(meta, orgId);
      if (org) await cache.set(orgId, { timeZone: org.timeZone }).catch(() => undefined);
      return org;
    });
  } catch (error) {
    throw new ConfigError(
      `LOUPE_JWT_JWKS: cannot read the key set ${settings.jwks}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function tracedStores(stores: Stores): Stores {
  return {
    ...stores,
    olap: traced(stores.olap, 'olap'),
    meta: traced(stores.meta, 'meta'),
    live: traced(stores.live, 'live'),
    search: traced(stores.search, 'search'),
  };
}
