// The one place that reads the environment. Entry points call `loadConfig()` once and pass
// the typed result down; nothing else touches process.env.
import { z } from 'zod';
import { parseTokenKeys, type TokenKey } from './secrets/token-cipher.ts';

/** What listens on a port: the gateway, the collector (`ingest`) and each subgraph. */
export const SERVERS = [
  'gateway',
  'ingest',
  'metrics',
  'audience',
  'posts',
  'benchmarking',
  'reports',
  'admin',
  'product',
] as const;
export type ServerName = (typeof SERVERS)[number];
export type SubgraphName = Exclude<ServerName, 'gateway' | 'ingest'>;
export const SUBGRAPHS: readonly SubgraphName[] = [
  'metrics',
  'audience',
  'posts',
  'benchmarking',
  'reports',
  'admin',
  'product',
];

/** The pipeline's consumer roles; on Kafka each may run in its own processes, several times. */
export const PIPELINE_ROLES = ['olap-sink', 'speed-layer', 'text-pipeline'] as const;
export type PipelineRole = (typeof PIPELINE_ROLES)[number];

/**
 * Everything a process can run: `ingest` is the collector (with the webhook receivers),
 * `connectors` the poll manager; the rest are named for themselves.
 */
export const SERVICES = [...SERVERS, ...PIPELINE_ROLES, 'connectors'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * How far from the collector's clock an event's time may be. Clocks run a little ahead; five years
 * back keeps one bus batch within about 60 monthly partitions of the events table, below the 100
 * a single ClickHouse insert may write (`max_partitions_per_insert_block`). App events come from
 * devices whose clocks are anyone's guess: as PostHog does, up to 23 hours ahead is kept, and
 * further ahead is stored at the receive time, with a warning.
 */
export const EVENT_TIME_WINDOW = {
  maxFutureSkewMs: 5 * 60_000,
  appFutureClampMs: 23 * 3_600_000,
  maxAgeMs: 5 * 365 * 86_400_000,
} as const;

/** The furthest ahead of the clock any stored event may be. */
export const MAX_EVENT_LEAD_MS = Math.max(
  EVENT_TIME_WINDOW.maxFutureSkewMs,
  EVENT_TIME_WINDOW.appFutureClampMs,
);

const port = z.coerce.number().int().min(0).max(65535);
const ms = z.coerce.number().int().min(1).max(600_000);
const bound = z.coerce.number().int().min(1).max(100_000);
const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const envSchema = z.object({
  LOUPE_HOST: z.string().min(1).default('127.0.0.1'),
  LOUPE_DATA_DIR: z.string().min(1).default('.loupe/data'),
  LOUPE_GATEWAY_PORT: port.default(4000),
  LOUPE_INGEST_PORT: port.default(4100),
  LOUPE_METRICS_PORT: port.default(4001),
  LOUPE_AUDIENCE_PORT: port.default(4002),
  LOUPE_POSTS_PORT: port.default(4003),
  LOUPE_BENCHMARKING_PORT: port.default(4004),
  LOUPE_REPORTS_PORT: port.default(4005),
  LOUPE_ADMIN_PORT: port.default(4006),
  LOUPE_PRODUCT_PORT: port.default(4007),
  /** Base URL per subgraph when they run in other processes; defaults to host + port. */
  LOUPE_METRICS_URL: z.url().optional(),
  LOUPE_AUDIENCE_URL: z.url().optional(),
  LOUPE_POSTS_URL: z.url().optional(),
  LOUPE_BENCHMARKING_URL: z.url().optional(),
  LOUPE_REPORTS_URL: z.url().optional(),
  LOUPE_ADMIN_URL: z.url().optional(),
  LOUPE_PRODUCT_URL: z.url().optional(),
  /** Redis for the live store and caches; unset keeps them in-process. */
  LOUPE_REDIS_URL: z.url().optional(),
  /** Namespaces every key and channel, so several deployments can share one Redis. */
  LOUPE_REDIS_KEY_PREFIX: z.string().min(1).max(64).default('loupe:'),
  /** PostgreSQL for the meta store; unset keeps it in PGlite. */
  LOUPE_POSTGRES_URL: z.url().optional(),
  /** Kafka bootstrap brokers, comma-separated host:port; unset keeps the bus in-process. */
  LOUPE_KAFKA_BROKERS: z
    .string()
    .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'expected host:port[,host:port…]')
    .transform((v) => v.split(','))
    .optional(),
  /** Prefix of every topic and consumer group, so deployments can share one cluster. */
  LOUPE_KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .max(100)
    .default('loupe.'),
  /** ClickHouse server (HTTP interface) for events and rollups; unset keeps chDB in-process. */
  LOUPE_CLICKHOUSE_URL: z.url().optional(),
  /** Elasticsearch for text search; unset searches in ClickHouse. */
  LOUPE_ELASTICSEARCH_URL: z.url().optional(),
  /** Prefix of every Elasticsearch index, so deployments can share one cluster. */
  LOUPE_ELASTICSEARCH_INDEX_PREFIX: z
    .string()
    .regex(/^[a-z0-9._-]+$/)
    .max(100)
    .default('loupe-'),
  /**
   * Signs the verified caller the gateway hands each subgraph; the same in every process. Unset,
   * a process running the gateway and every subgraph makes one up for itself.
   */
  LOUPE_INTERNAL_SECRET: z.string().min(32, 'at least 32 characters (256 bits)').optional(),
  /** Verifies front-end JWTs (`Authorization: Bearer`): a JWKS file path or URL; unset, none. */
  LOUPE_JWT_JWKS: z.string().min(1).optional(),
  LOUPE_JWT_ISSUER: z.string().min(1).optional(),
  LOUPE_JWT_AUDIENCE: z.string().min(1).optional(),
  LOUPE_JWT_ORG_CLAIM: z.string().min(1).default('org'),
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces; unset, no traces. */
  LOUPE_OTLP_TRACES_URL: z.url().optional(),
  /**
   * Seal platform tokens at rest: `id:base64-32-bytes[,id:base64…]`, the first sealing, all
   * opening (rotation). Unset, an embedded run keeps a key of its own in the data directory.
   */
  LOUPE_TOKEN_KEYS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      try {
        return parseTokenKeys(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** Seed 000: real-time accounts every minute, standard ones every 15 minutes. */
  LOUPE_POLL_REALTIME_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  LOUPE_POLL_STANDARD_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** Polls one connectors process runs at once. */
  LOUPE_CONNECTOR_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(64),
  /** A poll's claim on its connection, renewed while it runs; a dead replica's lapses after it. */
  LOUPE_CONNECTOR_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** Every platform call, headers and body, within this. */
  LOUPE_CONNECTOR_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  /** The platforms' API roots; tests and the demo point them at the fakes. */
  LOUPE_FACEBOOK_GRAPH_URL: z.url().default('https://graph.facebook.com'),
  LOUPE_INSTAGRAM_GRAPH_URL: z.url().default('https://graph.instagram.com'),
  LOUPE_X_API_URL: z.url().default('https://api.x.com'),
  LOUPE_TIKTOK_API_URL: z.url().default('https://open.tiktokapis.com'),
  /** The Meta app (Facebook Pages and Instagram): token exchange, and webhook signatures. */
  LOUPE_META_APP_ID: z.string().min(1).optional(),
  LOUPE_META_APP_SECRET: z.string().min(1).optional(),
  /** What Meta's webhook verification GET must present (set in the App Dashboard). */
  LOUPE_META_VERIFY_TOKEN: z.string().min(1).optional(),
  /** The X app: OAuth 2.0 client (token refresh), and the consumer secret webhooks are signed with. */
  LOUPE_X_CLIENT_ID: z.string().min(1).optional(),
  LOUPE_X_CLIENT_SECRET: z.string().min(1).optional(),
  LOUPE_X_CONSUMER_SECRET: z.string().min(1).optional(),
  /** The TikTok app: token refresh, and the secret webhooks are signed with. */
  LOUPE_TIKTOK_CLIENT_KEY: z.string().min(1).optional(),
  LOUPE_TIKTOK_CLIENT_SECRET: z.string().min(1).optional(),
  /** TikTok documents no tolerance for its signature's timestamp; older deliveries are refused. */
  LOUPE_TIKTOK_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  LOUPE_DEMO: flag.default(true),
  /**
   * Where the demo's data comes from: `events`, posted to the collector; or `connectors`, the
   * four connectors polling local fakes of the platforms, with signed webhooks.
   */
  LOUPE_DEMO_SOURCE: z.enum(['events', 'connectors']).default('events'),
  LOUPE_DEMO_API_KEY: z.string().min(16).default('loupe_demo_0000000000000000'),
  LOUPE_DEMO_TRAFFIC: flag.default(true),
  LOUPE_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  /** Tries of a pipeline batch that fails on its data, before it is split to find the culprit. */
  LOUPE_PIPELINE_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** Wait after a batch's first failed try; doubles after each, up to the maximum. */
  LOUPE_PIPELINE_RETRY_BACKOFF_MS: z.coerce.number().int().min(0).max(60_000).default(200),
  LOUPE_PIPELINE_RETRY_MAX_BACKOFF_MS: z.coerce.number().int().min(0).max(300_000).default(5000),
  /** Tries of parts of a split batch with none gone through before the store is blamed. */
  LOUPE_PIPELINE_MAX_SPLIT_TRIES: z.coerce.number().int().min(1).max(1_000_000).default(2000),
  /** Texts per call to the sentiment scorer (one round trip to a model server). */
  LOUPE_SENTIMENT_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(64),
  /** A process stopping on SIGTERM/SIGINT exits with an error once this has passed. */
  LOUPE_SHUTDOWN_GRACE_MS: ms.default(10_000),
  /** How long the doors wait for requests in flight at shutdown before cutting them. */
  LOUPE_DRAIN_MS: ms.default(5_000),
  /** A GraphQL request not answered by then gets 504; its subgraph fetches and store calls stop. */
  LOUPE_REQUEST_DEADLINE_MS: ms.default(10_000),
  /** Longest wait for a free slot before a request is refused with 503. */
  LOUPE_QUEUE_WAIT_MS: ms.default(250),
  /** Requests each door works on at once; as many more may wait LOUPE_QUEUE_WAIT_MS. */
  LOUPE_GATEWAY_MAX_IN_FLIGHT: bound.default(8),
  LOUPE_SUBGRAPH_MAX_IN_FLIGHT: bound.default(32),
  LOUPE_INGEST_MAX_IN_FLIGHT: bound.default(16),
  /** Audience buckets standing for fewer people are suppressed (Meta's rule: 100); 0 shows all. */
  LOUPE_AUDIENCE_MIN_BUCKET: z.coerce.number().int().min(0).max(1_000_000).default(100),
  /** Refused before any subgraph is called (gateway/demand-control.ts). */
  LOUPE_MAX_DEPTH: z.coerce.number().int().min(1).max(1000).default(12),
  LOUPE_MAX_ALIASES: z.coerce.number().int().min(0).max(10_000).default(30),
  LOUPE_MAX_ROOT_FIELDS: z.coerce.number().int().min(1).max(1000).default(20),
  LOUPE_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(10_000).default(50),
  LOUPE_MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(5000),
  LOUPE_MAX_OPERATION_COST: z.coerce.number().int().min(1).max(100_000_000).default(10_000),
  /** Cost points an organisation may spend in any 60 s, across every gateway replica. */
  LOUPE_COST_BUDGET_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000_000)
    .default(1_000_000),
  /** Requests one key may send in any 60 s, across every gateway replica. */
  LOUPE_KEY_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000_000).default(60_000),
});

/** What bounds one HTTP door: work in flight, a short queue, a deadline, and its drain. */
export interface ServerLimits {
  /** Requests worked on at once. */
  maxInFlight: number;
  /** Requests waiting for a slot beyond those; any more are refused at once with 503. */
  maxQueued: number;
  /** Longest wait in that queue before a 503. */
  queueWaitMs: number;
  /** From arrival to answer; past it the request is answered 504 and its work cancelled. */
  deadlineMs: number;
  /** At shutdown, how long requests in flight may still finish. */
  drainMs: number;
}

export type Door = 'gateway' | 'subgraph' | 'ingest';

export interface LoupeConfig {
  host: string;
  dataDir: string;
  ports: Record<ServerName, number>;
  subgraphUrls: Record<SubgraphName, string | undefined>;
  demo: { load: boolean; apiKey: string; traffic: boolean; source: 'events' | 'connectors' };
  /** The connectors role and the webhook receivers (ingest/connectors, ingest/webhooks). */
  connectors: ConnectorsConfig;
  /** The report worker of the `reports` role: runs, retries, SMTP and webhook delivery. */
  reports: ReportsConfig;
  /** Where OpenTelemetry traces go (lib/observability/tracing.ts); unset, nowhere. */
  tracesUrl?: string;
  /** Front-end JWTs, when configured (lib/auth/jwt.auth.ts). */
  jwt?: { jwks: string; issuer: string; audience: string; orgClaim: string };
  /** See `lib/auth/internal-token.ts`; unset, only a process serving gateway and subgraphs runs. */
  internalSecret?: string;
  /** Server adapters to use instead of the embedded engines; unset means embedded. */
  servers: {
    redisUrl?: string;
    redisKeyPrefix: string;
    postgresUrl?: string;
    kafkaBrokers?: string[];
    kafkaTopicPrefix: string;
    clickhouseUrl?: string;
    elasticsearchUrl?: string;
    elasticsearchIndexPrefix: string;
  };
  logLevel: z.infer<typeof envSchema>['LOUPE_LOG_LEVEL'];
  pipeline: {
    /** See `ingest/pipeline/stage-runner.ts`. */
    retry: { attempts: number; backoffMs: number; maxBackoffMs: number; maxSplitTries: number };
    /** Texts per sentiment scorer call, in the text pipeline and `npm run rescore`. */
    sentimentBatchSize: number;
  };
  /** Shutdown grace, and the bounds of every HTTP door. */
  serving: { shutdownGraceMs: number; limits: Record<Door, ServerLimits> };
  /** See `subgraphs/audience/audience-buckets.ts`. */
  audience: { minBucket: number };
  /** See `gateway/demand-control.ts`. */
  demand: DemandLimits;
}

export interface ConnectorsConfig {
  /** Unset: embedded runs keep a key of their own (scripts/token-key.ts); server runs refuse. */
  tokenKeys?: TokenKey[];
  pollSeconds: { realtime: number; standard: number };
  concurrency: number;
  leaseMs: number;
  timeoutMs: number;
  facebook: { baseUrl: string; appId?: string; appSecret?: string };
  instagram: { baseUrl: string; appId?: string; appSecret?: string };
  x: { baseUrl: string; clientId?: string; clientSecret?: string };
  tiktok: { baseUrl: string; clientKey?: string; clientSecret?: string };
  webhooks: {
    metaAppSecret?: string;
    metaVerifyToken?: string;
    xConsumerSecret?: string;
    tiktokClientSecret?: string;
    tiktokToleranceMs: number;
  };
}

export interface DemandLimits {
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
  budgetPerMinute: number;
  keyRequestsPerMinute: number;
}

/** What a gateway built without configuration (tests) holds operations to. */
export function defaultDemandLimits(): DemandLimits {
  return loadConfig({}).demand;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): LoupeConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.LOUPE_DRAIN_MS >= e.LOUPE_SHUTDOWN_GRACE_MS) {
    throw new ConfigError(
      'invalid configuration:\n  LOUPE_DRAIN_MS: must be shorter than LOUPE_SHUTDOWN_GRACE_MS, ' +
        'which also covers the pipeline and the stores',
    );
  }
  if (e.LOUPE_JWT_JWKS && (!e.LOUPE_JWT_ISSUER || !e.LOUPE_JWT_AUDIENCE)) {
    throw new ConfigError(
      'invalid configuration:\n  LOUPE_JWT_JWKS: needs LOUPE_JWT_ISSUER and LOUPE_JWT_AUDIENCE, which every token is checked against',
    );
  }
  const limits = (maxInFlight: number): ServerLimits => ({
    maxInFlight,
    // One more round of work may wait: enough to absorb a burst, too little to pile up.
    maxQueued: maxInFlight,
    queueWaitMs: e.LOUPE_QUEUE_WAIT_MS,
    deadlineMs: e.LOUPE_REQUEST_DEADLINE_MS,
    drainMs: e.LOUPE_DRAIN_MS,
  });
  return {
    host: e.LOUPE_HOST,
    dataDir: e.LOUPE_DATA_DIR,
    ports: {
      gateway: e.LOUPE_GATEWAY_PORT,
      ingest: e.LOUPE_INGEST_PORT,
      metrics: e.LOUPE_METRICS_PORT,
      audience: e.LOUPE_AUDIENCE_PORT,
      posts: e.LOUPE_POSTS_PORT,
      benchmarking: e.LOUPE_BENCHMARKING_PORT,
      reports: e.LOUPE_REPORTS_PORT,
      admin: e.LOUPE_ADMIN_PORT,
      product: e.LOUPE_PRODUCT_PORT,
    },
    subgraphUrls: {
      metrics: e.LOUPE_METRICS_URL,
      audience: e.LOUPE_AUDIENCE_URL,
      posts: e.LOUPE_POSTS_URL,
      benchmarking: e.LOUPE_BENCHMARKING_URL,
      reports: e.LOUPE_REPORTS_URL,
      admin: e.LOUPE_ADMIN_URL,
      product: e.LOUPE_PRODUCT_URL,
    },
    ...(e.LOUPE_INTERNAL_SECRET !== undefined && { internalSecret: e.LOUPE_INTERNAL_SECRET }),
    ...(e.LOUPE_OTLP_TRACES_URL && { tracesUrl: e.LOUPE_OTLP_TRACES_URL }),
    ...(e.LOUPE_JWT_JWKS && {
      jwt: {
        jwks: e.LOUPE_JWT_JWKS,
        issuer: e.LOUPE_JWT_ISSUER!,
        audience: e.LOUPE_JWT_AUDIENCE!,
        orgClaim: e.LOUPE_JWT_ORG_CLAIM,
      },
    }),
    demo: {
      load: e.LOUPE_DEMO,
      apiKey: e.LOUPE_DEMO_API_KEY,
      traffic: e.LOUPE_DEMO_TRAFFIC,
      source: e.LOUPE_DEMO_SOURCE,
    },
    reports: loadReportsConfig(env),
    connectors: {
      ...(e.LOUPE_TOKEN_KEYS && { tokenKeys: e.LOUPE_TOKEN_KEYS }),
      pollSeconds: {
        realtime: e.LOUPE_POLL_REALTIME_SECONDS,
        standard: e.LOUPE_POLL_STANDARD_SECONDS,
      },
      concurrency: e.LOUPE_CONNECTOR_CONCURRENCY,
      leaseMs: e.LOUPE_CONNECTOR_LEASE_MS,
      timeoutMs: e.LOUPE_CONNECTOR_TIMEOUT_MS,
      facebook: {
        baseUrl: e.LOUPE_FACEBOOK_GRAPH_URL,
        appId: e.LOUPE_META_APP_ID,
        appSecret: e.LOUPE_META_APP_SECRET,
      },
      instagram: {
        baseUrl: e.LOUPE_INSTAGRAM_GRAPH_URL,
        appId: e.LOUPE_META_APP_ID,
        appSecret: e.LOUPE_META_APP_SECRET,
      },
      x: {
        baseUrl: e.LOUPE_X_API_URL,
        clientId: e.LOUPE_X_CLIENT_ID,
        clientSecret: e.LOUPE_X_CLIENT_SECRET,
      },
      tiktok: {
        baseUrl: e.LOUPE_TIKTOK_API_URL,
        clientKey: e.LOUPE_TIKTOK_CLIENT_KEY,
        clientSecret: e.LOUPE_TIKTOK_CLIENT_SECRET,
      },
      webhooks: {
        metaAppSecret: e.LOUPE_META_APP_SECRET,
        metaVerifyToken: e.LOUPE_META_VERIFY_TOKEN,
        xConsumerSecret: e.LOUPE_X_CONSUMER_SECRET,
        tiktokClientSecret: e.LOUPE_TIKTOK_CLIENT_SECRET,
        tiktokToleranceMs: e.LOUPE_TIKTOK_WEBHOOK_TOLERANCE_SECONDS * 1000,
      },
    },
    servers: {
      redisUrl: e.LOUPE_REDIS_URL,
      redisKeyPrefix: e.LOUPE_REDIS_KEY_PREFIX,
      postgresUrl: e.LOUPE_POSTGRES_URL,
      kafkaBrokers: e.LOUPE_KAFKA_BROKERS,
      kafkaTopicPrefix: e.LOUPE_KAFKA_TOPIC_PREFIX,
      clickhouseUrl: e.LOUPE_CLICKHOUSE_URL,
      elasticsearchUrl: e.LOUPE_ELASTICSEARCH_URL,
      elasticsearchIndexPrefix: e.LOUPE_ELASTICSEARCH_INDEX_PREFIX,
    },
    logLevel: e.LOUPE_LOG_LEVEL,
    pipeline: {
      retry: {
        attempts: e.LOUPE_PIPELINE_RETRY_ATTEMPTS,
        backoffMs: e.LOUPE_PIPELINE_RETRY_BACKOFF_MS,
        maxBackoffMs: e.LOUPE_PIPELINE_RETRY_MAX_BACKOFF_MS,
        maxSplitTries: e.LOUPE_PIPELINE_MAX_SPLIT_TRIES,
      },
      sentimentBatchSize: e.LOUPE_SENTIMENT_BATCH_SIZE,
    },
    serving: {
      shutdownGraceMs: e.LOUPE_SHUTDOWN_GRACE_MS,
      limits: {
        gateway: limits(e.LOUPE_GATEWAY_MAX_IN_FLIGHT),
        subgraph: limits(e.LOUPE_SUBGRAPH_MAX_IN_FLIGHT),
        ingest: limits(e.LOUPE_INGEST_MAX_IN_FLIGHT),
      },
    },
    audience: { minBucket: e.LOUPE_AUDIENCE_MIN_BUCKET },
    demand: {
      maxDepth: e.LOUPE_MAX_DEPTH,
      maxAliases: e.LOUPE_MAX_ALIASES,
      maxRootFields: e.LOUPE_MAX_ROOT_FIELDS,
      maxDirectives: e.LOUPE_MAX_DIRECTIVES,
      maxTokens: e.LOUPE_MAX_TOKENS,
      maxCost: e.LOUPE_MAX_OPERATION_COST,
      budgetPerMinute: e.LOUPE_COST_BUDGET_PER_MINUTE,
      keyRequestsPerMinute: e.LOUPE_KEY_REQUESTS_PER_MINUTE,
    },
  };
}

/** The default bounds of a door, for servers built without a configuration (tests). */
export function defaultLimits(door: Door): ServerLimits {
  return loadConfig({}).serving.limits[door];
}

/** Settings for a throwaway instance (tests, benchmarks): no demo, every port picked free. */
export function throwawayEnv(options: {
  dataDir: string;
  apiKey: string;
  logLevel: string;
}): Record<string, string> {
  const ports = Object.fromEntries(SERVERS.map((s) => [`LOUPE_${s.toUpperCase()}_PORT`, '0']));
  return {
    ...ports,
    LOUPE_DATA_DIR: options.dataDir,
    LOUPE_DEMO: '0',
    LOUPE_DEMO_TRAFFIC: '0',
    LOUPE_DEMO_API_KEY: options.apiKey,
    LOUPE_LOG_LEVEL: options.logLevel,
  };
}

// ---- Reports: the worker that runs report definitions and delivers their files ----

const reportsEnvSchema = z.object({
  /** Runs one reports process works on at once. */
  LOUPE_REPORTS_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(4),
  /** A run's claim, renewed while it works; a dead replica's run is taken over after it lapses. */
  LOUPE_REPORTS_LEASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** How often due schedules and runs are looked for. */
  LOUPE_REPORTS_TICK_MS: z.coerce.number().int().min(10).max(600_000).default(5000),
  /** Attempts of a run before it is failed; each retry waits twice as long as the last. */
  LOUPE_REPORTS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  LOUPE_REPORTS_RETRY_BACKOFF_MS: z.coerce.number().int().min(1).max(86_400_000).default(60_000),
  /** Attempts of each e-mail and webhook delivery, with doubling waits from the backoff. */
  LOUPE_REPORTS_DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  LOUPE_REPORTS_DELIVERY_BACKOFF_MS: z.coerce.number().int().min(1).max(600_000).default(2000),
  LOUPE_REPORTS_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  /** Files up to this size ride in the webhook's JSON as base64; larger ones only by URL. */
  LOUPE_REPORTS_WEBHOOK_INLINE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(50_000_000)
    .default(1_000_000),
  /** Where the gateway is reached from outside: download links are made from it. */
  LOUPE_REPORTS_PUBLIC_URL: z.url().default('http://127.0.0.1:4000'),
  /** The SMTP relay reports are mailed through; unset, e-mail deliveries fail and say why. */
  LOUPE_SMTP_HOST: z.string().min(1).optional(),
  LOUPE_SMTP_PORT: port.default(587),
  /** Implicit TLS (port 465); otherwise STARTTLS when the server offers it. */
  LOUPE_SMTP_SECURE: flag.default(false),
  LOUPE_SMTP_USER: z.string().min(1).optional(),
  LOUPE_SMTP_PASSWORD: z.string().min(1).optional(),
  LOUPE_SMTP_FROM: z.string().min(3).default('Loupe reports <reports@localhost>'),
});

export interface ReportsConfig {
  concurrency: number;
  leaseMs: number;
  tickMs: number;
  maxAttempts: number;
  retryBackoffMs: number;
  delivery: {
    attempts: number;
    backoffMs: number;
    webhookTimeoutMs: number;
    webhookInlineBytes: number;
    publicUrl: string;
  };
  smtp?: SmtpConfig;
  /** The From of report e-mails. */
  from: string;
}

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
}

/** The reports role's settings, validated like loadConfig's (a ConfigError names every bad one). */
export function loadReportsConfig(env: Record<string, string | undefined>): ReportsConfig {
  const parsed = reportsEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    concurrency: e.LOUPE_REPORTS_CONCURRENCY,
    leaseMs: e.LOUPE_REPORTS_LEASE_MS,
    tickMs: e.LOUPE_REPORTS_TICK_MS,
    maxAttempts: e.LOUPE_REPORTS_MAX_ATTEMPTS,
    retryBackoffMs: e.LOUPE_REPORTS_RETRY_BACKOFF_MS,
    delivery: {
      attempts: e.LOUPE_REPORTS_DELIVERY_ATTEMPTS,
      backoffMs: e.LOUPE_REPORTS_DELIVERY_BACKOFF_MS,
      webhookTimeoutMs: e.LOUPE_REPORTS_WEBHOOK_TIMEOUT_MS,
      webhookInlineBytes: e.LOUPE_REPORTS_WEBHOOK_INLINE_BYTES,
      publicUrl: e.LOUPE_REPORTS_PUBLIC_URL.replace(/\/+$/, ''),
    },
    ...(e.LOUPE_SMTP_HOST && {
      smtp: {
        host: e.LOUPE_SMTP_HOST,
        port: e.LOUPE_SMTP_PORT,
        secure: e.LOUPE_SMTP_SECURE,
        ...(e.LOUPE_SMTP_USER && {
          auth: { user: e.LOUPE_SMTP_USER, pass: e.LOUPE_SMTP_PASSWORD ?? '' },
        }),
      },
    }),
    from: e.LOUPE_SMTP_FROM,
  };
}
