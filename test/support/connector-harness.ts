// Runs one connector poll against a fake platform without the manager: what it emitted, the
// checkpoints it left, and its credentials after. `crashAfterEmits` stops the poll as a replica
// dying mid-pagination would, so a test can resume from the last checkpoint.
import { createLogger } from '../../lib/logger.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import type {
  Checkpoint,
  Connection,
  Connector,
  Credentials,
  PlatformProtocol,
} from '../../ingest/connectors/connector.ts';
import {
  createPlatformClient,
  createPlatformPools,
  type CallStats,
  type ClientSettings,
} from '../../ingest/connectors/platform-client.ts';
import { RateLimiter } from '../../ingest/connectors/rate-limiter.ts';

/** Quick retries, so tests of backoff take milliseconds. */
export const TEST_CLIENT_SETTINGS: ClientSettings = {
  timeoutMs: 2000,
  retry: { attempts: 4, baseMs: 5, capMs: 50 },
  maxLimitWaitMs: 5000,
  throttlePauseMs: 200,
};

export interface PollRun {
  events: EventInput[];
  checkpoints: Checkpoint[];
  credentials: Credentials;
  /** Every version of the credentials stored, in order. */
  stored: Credentials[];
  stats: CallStats;
  error?: unknown;
}

export interface PollOptions {
  connector: Connector;
  protocol: PlatformProtocol;
  connection: Connection;
  credentials: Credentials;
  checkpoint?: Checkpoint | null;
  slot?: number;
  limiter?: RateLimiter;
  settings?: ClientSettings;
  /** The poll fails, as a killed process would, once this many pages were emitted. */
  crashAfterEmits?: number;
  now?: () => number;
}

const dispatcher = createPlatformPools(16);

export async function pollOnce(options: PollOptions): Promise<PollRun> {
  const now = options.now ?? Date.now;
  const stored: Credentials[] = [];
  const client = createPlatformClient({
    protocol: options.protocol,
    connection: options.connection,
    credentials: options.credentials,
    limiter: options.limiter ?? new RateLimiter(now),
    dispatcher,
    settings: options.settings ?? TEST_CLIENT_SETTINGS,
    onCredentials: async (c) => {
      stored.push(c);
    },
    now,
  });
  const run: PollRun = {
    events: [],
    checkpoints: [],
    credentials: options.credentials,
    stored,
    stats: client.stats,
  };
  let emits = 0;
  try {
    await options.connector.poll({
      connection: options.connection,
      checkpoint: options.checkpoint ?? null,
      slot: options.slot ?? now(),
      api: client,
      now,
      signal: new AbortController().signal,
      logger: createLogger('silent'),
      emit: async (events, checkpoint) => {
        if (options.crashAfterEmits !== undefined && emits >= options.crashAfterEmits) {
          throw new Error('crashed (test)');
        }
        emits += 1;
        run.events.push(...events);
        run.checkpoints.push(structuredClone(checkpoint));
      },
    });
  } catch (error) {
    run.error = error;
  }
  run.credentials = client.credentials();
  return run;
}

/** Events by id, as the pipeline keeps them: the first of each id. */
export function distinctById(events: readonly EventInput[]): Map<string, EventInput> {
  const byId = new Map<string, EventInput>();
  for (const e of events) if (!byId.has(e.id)) byId.set(e.id, e);
  return byId;
}
