// The connector manager on PostgreSQL, with two replicas sharing one schedule: every due poll runs
// exactly once, and a replica that dies mid-poll hands its connection to the other, which resumes
// from the checkpoint with the same slot, so nothing is missed and nothing counted twice.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Bus, OutgoingMessage } from '../../lib/bus/bus.port.ts';
import { createMemoryBus } from '../../lib/bus/memory.bus.ts';
import { createLogger } from '../../lib/logger.ts';
import { createOrganisation } from '../../lib/meta/accounts.repo.ts';
import { connectAccount, listConnections } from '../../lib/meta/connections.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { createTokenCipher } from '../../lib/secrets/token-cipher.ts';
import { waitUntil } from '../../test/support/wait-for.ts';
import {
  ConnectorError,
  type Connector,
  type PlatformProtocol,
  type PollContext,
} from './connector.ts';
import { eventIdOf } from './ids.ts';
import { startConnectorManager, type ConnectorManager } from './manager.ts';
import { severable, useThrowawayMeta } from '../../test/support/throwaway-meta.ts';

const cipher = createTokenCipher([{ id: 'k', key: randomBytes(32) }]);
const logger = createLogger('silent');
const shared = useThrowawayMeta();
let meta: MetaStore;
beforeAll(() => {
  meta = shared.get();
});

// The manager never reaches the network in these tests: the connector below stands for a platform.
const protocol: PlatformProtocol = {
  platform: 'x',
  baseUrl: 'http://127.0.0.1:9',
  authorise: () => ({}),
  judge: () => ({ kind: 'ok' }),
  readLimits: () => null,
  limitScope: 'user',
  refreshAheadMs: 0,
  refresh: (c) => Promise.resolve(c),
};

const PAGES = 4;
const PER_PAGE = 5;

/** A connector reading PAGES pages of PER_PAGE events, resuming at its checkpoint's page. */
function pagedConnector(
  hooks: { beforePage?: (ctx: PollContext, page: number) => Promise<void> } = {},
) {
  const polls: { accountId: string; startPage: number; slot: number; owner?: string }[] = [];
  const connector: Connector = {
    platform: 'x',
    async poll(ctx) {
      const startPage = typeof ctx.checkpoint?.page === 'number' ? ctx.checkpoint.page : 0;
      polls.push({ accountId: ctx.connection.accountId, startPage, slot: ctx.slot });
      for (let page = startPage; page < PAGES; page++) {
        await hooks.beforePage?.(ctx, page);
        const events = Array.from({ length: PER_PAGE }, (_, i) => ({
          id: eventIdOf('x', 'test', ctx.connection.accountId, page, i, ctx.slot),
          type: 'engagement' as const,
          platform: 'x' as const,
          accountId: ctx.connection.accountId,
          occurredAt: new Date(ctx.now()).toISOString(),
          metric: 'likes' as const,
          mode: 'delta' as const,
          value: 1,
        }));
        await ctx.emit(events, { page: page + 1 });
      }
    },
  };
  return { connector, polls };
}

function recordingBus(): { bus: Bus; ids: string[] } {
  const bus = createMemoryBus();
  const ids: string[] = [];
  const publish = bus.publish.bind(bus);
  bus.publish = async (topic: string, messages: readonly OutgoingMessage[]) => {
    await publish(topic, messages);
    for (const m of messages) ids.push((JSON.parse(m.value) as { event: { id: string } }).event.id);
  };
  return { bus, ids };
}

async function connectMany(orgId: string, count: number, now = new Date()): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `acct-${String(i).padStart(3, '0')}`);
  for (const accountId of ids) {
    await connectAccount(meta, cipher, {
      orgId,
      accountId,
      platform: 'x',
      platformAccountId: `u${accountId}`,
      tier: 'standard',
      pollIntervalSeconds: 900,
      credentials: { accessToken: `token-${accountId}` },
      now,
    });
  }
  return ids;
}

describe('connector manager with two replicas on PostgreSQL', () => {
  test('splits the due polls between them and runs each exactly once', async () => {
    const orgId = await createOrganisation(meta, 'Split');
    const accounts = await connectMany(orgId, 30);
    const { bus, ids } = recordingBus();
    const { connector, polls } = pagedConnector({
      beforePage: () => new Promise((r) => setTimeout(r, 5)),
    });
    const replicas: ConnectorManager[] = ['A', 'B'].map((owner) =>
      startConnectorManager({
        meta,
        bus,
        cipher,
        logger,
        owner,
        platforms: { x: { protocol, connector } },
        settings: { concurrency: 4, tickMs: 20, leaseMs: 10_000 },
      }),
    );
    try {
      await waitUntil(
        'all polls done',
        () => replicas.reduce((n, r) => n + r.stats.ok, 0) === 30,
        20_000,
      );
      await new Promise((r) => setTimeout(r, 200)); // time for a second (wrong) claim to show
      const byAccount = new Map<string, number>();
      for (const p of polls) byAccount.set(p.accountId, (byAccount.get(p.accountId) ?? 0) + 1);
      expect([...byAccount.keys()].sort()).toEqual(accounts);
      expect([...byAccount.values()].every((n) => n === 1)).toBe(true);
      expect(replicas.every((r) => r.stats.ok > 0)).toBe(true);
      expect(new Set(ids).size).toBe(30 * PAGES * PER_PAGE);
      expect(ids).toHaveLength(30 * PAGES * PER_PAGE);
      const views = await listConnections(meta, orgId, new Date());
      expect(views.every((v) => v.state === 'healthy' && v.polls === 1 && !v.polling)).toBe(true);
      for (const v of views) {
        expect(v.nextPollAt.getTime() - v.lastPollStartedAt!.getTime()).toBeGreaterThan(400_000);
      }
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  test('a replica that dies mid-poll loses its lease; the other resumes from its checkpoint with the same slot', async () => {
    const orgId = await createOrganisation(meta, 'Dies');
    await connectMany(orgId, 1);
    const { bus, ids } = recordingBus();
    const dying = severable(meta);
    const a = pagedConnector({
      beforePage: (_, page) => {
        // After two pages are stored the replica loses the database, mid-poll.
        if (page === 2) dying.cut();
        return Promise.resolve();
      },
    });
    const first = startConnectorManager({
      meta: dying,
      bus,
      cipher,
      logger,
      owner: 'A',
      platforms: { x: { protocol, connector: a.connector } },
      settings: { concurrency: 1, tickMs: 20, leaseMs: 1500 },
    });
    await waitUntil('A starts', () => a.polls.length === 1, 10_000);
    const b = pagedConnector();
    const second = startConnectorManager({
      meta,
      bus,
      cipher,
      logger,
      owner: 'B',
      platforms: { x: { protocol, connector: b.connector } },
      settings: { concurrency: 1, tickMs: 50, leaseMs: 10_000 },
    });
    try {
      await waitUntil('B completes the poll', () => second.stats.ok === 1, 15_000);
      expect(b.polls).toEqual([{ accountId: 'acct-000', startPage: 2, slot: a.polls[0]!.slot }]);
      // Page 2 may have reached the bus from A too, under the same ids: the pipeline keeps one.
      expect(new Set(ids).size).toBe(PAGES * PER_PAGE);
      const [view] = await listConnections(meta, orgId, new Date());
      expect(view).toMatchObject({ state: 'healthy', polls: 1 });
    } finally {
      await first.close().catch(() => undefined);
      await second.close();
    }
  });

  test('a revoked grant marks only its connection, and it is not polled again until reconnected', async () => {
    const orgId = await createOrganisation(meta, 'Revoked');
    await connectMany(orgId, 3);
    const { bus } = recordingBus();
    const polled: string[] = [];
    const connector: Connector = {
      platform: 'x',
      poll(ctx) {
        polled.push(ctx.connection.accountId);
        if (ctx.connection.accountId === 'acct-001') {
          return Promise.reject(
            new ConnectorError(
              'revoked',
              'GET /2/users/:id: the token was revoked (token-acct-001)',
            ),
          );
        }
        return Promise.resolve();
      },
    };
    const manager = startConnectorManager({
      meta,
      bus,
      cipher,
      logger,
      platforms: { x: { protocol, connector } },
      settings: { concurrency: 8, tickMs: 20 },
    });
    try {
      await waitUntil('polls end', () => manager.stats.ok + manager.stats.revoked === 3, 10_000);
      const views = new Map(
        (await listConnections(meta, orgId, new Date())).map((v) => [v.accountId, v]),
      );
      expect(views.get('acct-001')!.state).toBe('needs_reauth');
      // The token in the message is cut out before it is stored.
      expect(views.get('acct-001')!.lastError).toBe(
        'GET /2/users/:id: the token was revoked ([token])',
      );
      expect(views.get('acct-000')!.state).toBe('healthy');
      expect(views.get('acct-002')!.state).toBe('healthy');
      await meta.query(
        `UPDATE connections SET next_poll_at = now() - interval '1 hour' WHERE org_id = $1`,
        [orgId],
      );
      await waitUntil('the healthy ones polled again', () => polled.length >= 5, 10_000);
      expect(polled.filter((id) => id === 'acct-001')).toHaveLength(1);
    } finally {
      await manager.close();
    }
  });
});
