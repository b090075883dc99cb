// The connector manager: claims due connections from the meta store, polls each with its
// platform's connector, and schedules the next poll from how this one ended. Any number of
// replicas may run it; a connection is leased to one replica at a time (SKIP LOCKED claims,
// renewed while the poll runs, every write fenced by the lease), so each poll runs once, and a
// replica that dies mid-poll lets its lease lapse for another to resume from the checkpoint.
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Bus } from '../../lib/bus/bus.port.ts';
import type { Logger } from '../../lib/logger.ts';
import {
  claimDueConnections,
  finishPoll,
  releaseLeases,
  renewLeases,
  saveCheckpoint,
  saveCredentials,
  type ClaimedConnection,
  type LeaseKey,
  type PollOutcome,
} from '../../lib/meta/connections.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { connectorCalls, connectorPolls } from '../../lib/observability/metrics.ts';
import type { TokenCipher } from '../../lib/secrets/token-cipher.ts';
import { publishEvents } from '../publish-events.ts';
import {
  ConnectorError,
  type Connector,
  type Credentials,
  type PlatformProtocol,
} from './connector.ts';
import type { SocialPlatform } from './ids.ts';
import {
  createPlatformClient,
  createPlatformPools,
  DEFAULT_CLIENT_SETTINGS,
  type ClientSettings,
} from './platform-client.ts';
import { RateLimiter } from './rate-limiter.ts';
import { startClaimLoop } from '../../lib/leases/claim-loop.ts';

export interface PlatformBinding {
  protocol: PlatformProtocol;
  connector: Connector;
}

/** Per platform its binding, or why this deployment cannot poll it (the connection shows why). */
export type PlatformBindings = Partial<
  Record<SocialPlatform, PlatformBinding | { missing: string }>
>;

export interface ManagerSettings {
  /** Polls run at once by this replica. */
  concurrency: number;
  /** How long a claim holds unless renewed; renewed every third of it. */
  leaseMs: number;
  /** How often due connections are looked for. */
  tickMs: number;
  client: ClientSettings;
  /** A failed poll is tried again after a full-jitter backoff from this, doubling, up to its interval. */
  failureBackoffMs: number;
}

export const DEFAULT_MANAGER_SETTINGS: ManagerSettings = {
  concurrency: 64,
  leaseMs: 60_000,
  tickMs: 1000,
  client: DEFAULT_CLIENT_SETTINGS,
  failureBackoffMs: 30_000,
};

export interface ManagerDeps {
  meta: MetaStore;
  bus: Bus;
  cipher: TokenCipher;
  platforms: PlatformBindings;
  logger: Logger;
  settings?: Partial<ManagerSettings>;
  /** This replica's name in leases; random by default. */
  owner?: string;
  now?: () => number;
  random?: () => number;
  dispatcher?: Dispatcher;
}

export interface ConnectorManager {
  readonly owner: string;
  /** Claims what is due and starts its polls; answers how many started (tests drive it). */
  tick(): Promise<number>;
  /** Resolves when no poll of this replica is running. */
  idle(): Promise<void>;
  /** Polls started and ended by this replica, by outcome. */
  readonly stats: Record<PollOutcome['kind'] | 'lease-lost', number> & { started: number };
  /** Stops claiming, stops running polls at their next call, and lets their leases go. */
  close(): Promise<void>;
}

interface Running {
  key: LeaseKey;
  controller: AbortController;
  done: Promise<void>;
}

export function startConnectorManager(deps: ManagerDeps): ConnectorManager {
  const { meta, bus, cipher, platforms, logger } = deps;
  const settings = { ...DEFAULT_MANAGER_SETTINGS, ...deps.settings };
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const owner = deps.owner ?? `connectors-${randomUUID()}`;
  const dispatcher = deps.dispatcher ?? createPlatformPools(settings.concurrency);
  // One limiter for the replica: polls of connections sharing an allowance share its buckets.
  const limiter = new RateLimiter(now);
  const running = new Map<string, Running>();
  const stats = { started: 0, ok: 0, 'rate-limited': 0, revoked: 0, failed: 0, 'lease-lost': 0 };
  let closed = false;
  let afterPoll = () => {};
  let nothingDue = false;

  async function poll(claimed: ClaimedConnection, controller: AbortController): Promise<void> {
    const key = { orgId: claimed.orgId, accountId: claimed.accountId };
    const binding = platforms[claimed.platform];
    const log = logger.child({
      orgId: claimed.orgId,
      accountId: claimed.accountId,
      platform: claimed.platform,
    });
    if (!binding || 'missing' in binding) {
      await finishPoll(
        meta,
        owner,
        key,
        {
          kind: 'failed',
          error: binding?.missing ?? `no ${claimed.platform} connector in this deployment`,
          retryAt: new Date(now() + claimed.pollIntervalSeconds * 1000),
        },
        [],
        new Date(now()),
      );
      return;
    }
    const connection = {
      orgId: claimed.orgId,
      accountId: claimed.accountId,
      platform: claimed.platform,
      platformAccountId: claimed.platformAccountId,
    };
    const leaseLost = () =>
      new ConnectorError('lease-lost', 'another replica holds this connection now');
    const client = createPlatformClient({
      protocol: binding.protocol,
      connection,
      credentials: claimed.credentials,
      limiter,
      dispatcher,
      settings: settings.client,
      signal: controller.signal,
      now,
      random,
      onCredentials: async (fresh: Credentials) => {
        if (!(await saveCredentials(meta, cipher, owner, key, fresh))) throw leaseLost();
      },
    });
    let outcome: PollOutcome | 'lease-lost';
    try {
      await binding.connector.poll({
        connection,
        checkpoint: claimed.checkpoint,
        slot: claimed.slot,
        api: client,
        now,
        signal: controller.signal,
        logger: log,
        emit: async (events, checkpoint) => {
          if (controller.signal.aborted) throw leaseLost();
          const refused = await publishEvents(bus, claimed.orgId, events, now());
          if (refused.length > 0) {
            // A normaliser bug: the rest of the page is kept; the reason names the field.
            log.error(
              { refused: refused.length, first: refused[0] },
              'events refused by the envelope',
            );
          }
          if (!(await saveCheckpoint(meta, owner, key, checkpoint))) throw leaseLost();
        },
      });
      const interval = claimed.pollIntervalSeconds * 1000;
      // Due again one interval after this slot; a replica that fell behind does not catch up in a burst.
      outcome = {
        kind: 'ok',
        nextPollAt: new Date(Math.max(claimed.slot + interval, now() + interval / 2)),
      };
    } catch (error) {
      const secrets = [claimed.credentials, client.credentials()];
      outcome = outcomeOf(error, claimed, secrets, controller.signal.aborted);
    } finally {
      connectorCalls.inc({ platform: claimed.platform, kind: 'sent' }, client.stats.calls);
      connectorCalls.inc({ platform: claimed.platform, kind: 'throttled' }, client.stats.throttled);
      connectorCalls.inc({ platform: claimed.platform, kind: 'retried' }, client.stats.retried);
      connectorCalls.inc({ platform: claimed.platform, kind: 'refreshed' }, client.stats.refreshed);
    }
    const kind = outcome === 'lease-lost' ? 'lease-lost' : outcome.kind;
    stats[kind] += 1;
    connectorPolls.inc({ platform: claimed.platform, outcome: kind });
    log.debug({ outcome: kind, owner, calls: client.stats.calls }, 'poll ended');
    if (outcome === 'lease-lost') {
      log.warn('poll stopped: its lease is gone (another replica resumes it from the checkpoint)');
      return;
    }
    // Waiting out a platform's limit is the limiter doing its work; the other endings are news.
    if (outcome.kind === 'rate-limited') {
      log.info({ until: outcome.until, error: outcome.error }, 'poll deferred by a rate limit');
    } else if (outcome.kind !== 'ok') {
      log.warn({ outcome: outcome.kind, error: outcome.error }, 'poll did not complete');
    }
    const finished = await finishPoll(
      meta,
      owner,
      key,
      outcome,
      limiter.headroom(client.allowance),
      new Date(now()),
    );
    if (!finished) log.warn('poll ended after its lease was lost; its outcome was not recorded');
  }

  function outcomeOf(
    error: unknown,
    claimed: ClaimedConnection,
    secrets: readonly Credentials[],
    aborted: boolean,
  ): PollOutcome | 'lease-lost' {
    const message = redact(error instanceof Error ? error.message : String(error), secrets);
    if (error instanceof ConnectorError) {
      switch (error.kind) {
        case 'lease-lost':
          return 'lease-lost';
        case 'revoked':
          return { kind: 'revoked', error: message };
        case 'rate-limited':
          return {
            kind: 'rate-limited',
            until: new Date(error.until ?? now() + 60_000),
            error: message,
          };
        case 'failed':
          break;
      }
    }
    if (aborted) return 'lease-lost';
    const interval = claimed.pollIntervalSeconds * 1000;
    const ceiling = Math.min(
      interval,
      settings.failureBackoffMs * 2 ** claimed.consecutiveFailures,
    );
    return {
      kind: 'failed',
      error: message,
      retryAt: new Date(now() + Math.max(1000, random() * ceiling)),
    };
  }

  async function tick(): Promise<number> {
    if (closed) return 0;
    const room = settings.concurrency - running.size;
    if (room <= 0) return 0;
    const claimed = await claimDueConnections(
      meta,
      cipher,
      owner,
      new Date(now()),
      settings.leaseMs,
      room,
    );
    nothingDue = claimed.length < room;
    for (const c of claimed) {
      const id = `${c.orgId}/${c.accountId}`;
      const controller = new AbortController();
      stats.started += 1;
      const done = poll(c, controller)
        .catch((error: unknown) =>
          logger.error({ err: error, accountId: c.accountId }, 'poll bookkeeping failed'),
        )
        .finally(() => {
          running.delete(id);
          afterPoll();
        });
      running.set(id, { key: { orgId: c.orgId, accountId: c.accountId }, controller, done });
    }
    return claimed.length;
  }

  async function renew(): Promise<void> {
    const all = [...running.values()];
    if (all.length === 0) return;
    const held = new Set(
      (
        await renewLeases(
          meta,
          owner,
          all.map((r) => r.key),
          new Date(now()),
          settings.leaseMs,
        )
      ).map((k) => `${k.orgId}/${k.accountId}`),
    );
    for (const r of all) {
      if (!held.has(`${r.key.orgId}/${r.key.accountId}`)) r.controller.abort();
    }
  }

  const loop = startClaimLoop({
    name: 'connector manager',
    claim: tick,
    renew,
    claimEveryMs: settings.tickMs,
    renewEveryMs: Math.max(250, settings.leaseMs / 3),
    logger,
  });
  // A finished poll frees a slot: claiming again at once, not at the next tick, keeps the slots
  // busy when polls are shorter than a tick; unless the last claim found less than it had room for.
  afterPoll = () => {
    if (!closed && !nothingDue) loop.ask();
  };

  return {
    owner,
    stats,
    tick: () => loop.claimNow(),
    async idle() {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
    },
    async close() {
      closed = true;
      await loop.stop();
      const all = [...running.values()];
      for (const r of all) r.controller.abort();
      await Promise.all(all.map((r) => r.done));
      await releaseLeases(
        meta,
        owner,
        all.map((r) => r.key),
      );
      if (!deps.dispatcher) await dispatcher.close();
    },
  };
}

/** An error's message with any token of the connection cut out: errors reach the API. */
function redact(message: string, credentials: readonly Credentials[]): string {
  let out = message;
  for (const secret of credentials.flatMap((c) => [c.accessToken, c.refreshToken])) {
    if (secret && secret.length >= 8) out = out.split(secret).join('[token]');
  }
  return out.slice(0, 500);
}
