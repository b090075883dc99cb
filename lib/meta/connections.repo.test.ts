import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTokenCipher } from '../secrets/token-cipher.ts';
import { createOrganisation, listTrackedAccounts, upsertTrackedAccounts } from './accounts.repo.ts';
import {
  claimDueConnections,
  connectAccount,
  connectionsOfPlatformAccount,
  disconnectAccount,
  finishPoll,
  listConnections,
  markRevoked,
  renewLeases,
  requestPoll,
  saveCheckpoint,
  saveCredentials,
  type ConnectInput,
} from './connections.repo.ts';
import type { MetaStore } from './meta.port.ts';
import { migrate } from './migrate.ts';
import { createPgliteMeta } from './pglite.meta.ts';

let meta: MetaStore;
const cipher = createTokenCipher([{ id: 'test', key: randomBytes(32) }]);
const t0 = new Date('2026-12-01T12:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

beforeAll(async () => {
  meta = await createPgliteMeta();
  await migrate(meta);
});
afterAll(() => meta.close());

function input(orgId: string, accountId: string, extra: Partial<ConnectInput> = {}): ConnectInput {
  return {
    orgId,
    accountId,
    platform: 'x',
    platformAccountId: `native-${accountId}`,
    tier: 'standard',
    pollIntervalSeconds: 900,
    credentials: {
      accessToken: `access-${accountId}-secret`,
      refreshToken: `refresh-${accountId}`,
      expiresAt: at(7200).getTime(),
    },
    now: t0,
    ...extra,
  };
}

describe('connections', () => {
  test('a connection keeps its tokens only sealed, and shows everything but them', async () => {
    const orgId = await createOrganisation(meta, 'Sealed');
    const view = await connectAccount(
      meta,
      cipher,
      input(orgId, 'acct-1', { handle: 'northwind' }),
    );
    expect(view).toMatchObject({
      accountId: 'acct-1',
      platform: 'x',
      state: 'healthy',
      tokenKeyId: 'test',
    });
    expect(JSON.stringify(view)).not.toContain('access-acct-1-secret');
    const [row] = await meta.query<{ credentials: string }>(
      'SELECT credentials FROM connections WHERE org_id = $1',
      [orgId],
    );
    expect(row!.credentials).not.toContain('access-acct-1-secret');
    expect(row!.credentials).not.toContain('refresh-acct-1');
    // Connecting tracks the account.
    expect((await listTrackedAccounts(meta, orgId)).map((a) => a.id)).toEqual(['acct-1']);
  });

  test('an account tracked on another platform cannot be connected as this one', async () => {
    const orgId = await createOrganisation(meta, 'Mismatch');
    await upsertTrackedAccounts(meta, orgId, [{ id: 'ig-1', platform: 'instagram' }]);
    await expect(connectAccount(meta, cipher, input(orgId, 'ig-1'))).rejects.toThrow(
      /tracked as a instagram account, not x/,
    );
    expect(await listConnections(meta, orgId, t0)).toEqual([]);
  });

  test('claims due connections once, fences writes by the lease, and lets a lapsed lease go to another replica', async () => {
    const orgId = await createOrganisation(meta, 'Leases');
    await connectAccount(meta, cipher, input(orgId, 'a'));
    await connectAccount(meta, cipher, input(orgId, 'b', { now: at(5000) }));
    const mine = (await claimDueConnections(meta, cipher, 'A', at(1), 10_000, 10)).filter(
      (c) => c.orgId === orgId,
    );
    // Only `a` is due; its tokens come back opened.
    expect(mine.map((c) => c.accountId)).toEqual(['a']);
    expect(mine[0]!.credentials.accessToken).toBe('access-a-secret');
    expect(mine[0]!.slot).toBe(t0.getTime());
    // While the lease holds nobody else gets it.
    expect(
      (await claimDueConnections(meta, cipher, 'B', at(5), 10_000, 10)).filter(
        (c) => c.orgId === orgId,
      ),
    ).toEqual([]);
    const key = { orgId, accountId: 'a' };
    expect(await saveCheckpoint(meta, 'A', key, { page: 1 })).toBe(true);
    // A stalls past its lease; B takes over and sees A's last checkpoint and the same slot.
    const taken = (await claimDueConnections(meta, cipher, 'B', at(20), 10_000, 10)).filter(
      (c) => c.orgId === orgId,
    );
    expect(taken.map((c) => [c.accountId, c.checkpoint, c.slot])).toEqual([
      ['a', { page: 1 }, t0.getTime()],
    ]);
    // A's late writes change nothing.
    expect(await saveCheckpoint(meta, 'A', key, { page: 2 })).toBe(false);
    expect(await saveCredentials(meta, cipher, 'A', key, { accessToken: 'stale' })).toBe(false);
    expect(await renewLeases(meta, 'A', [key], at(21), 10_000)).toEqual([]);
    expect(await renewLeases(meta, 'B', [key], at(21), 10_000)).toEqual([key]);
    expect(await finishPoll(meta, 'A', key, { kind: 'ok', nextPollAt: at(900) }, [], at(22))).toBe(
      false,
    );
    expect(
      await finishPoll(
        meta,
        'B',
        key,
        { kind: 'ok', nextPollAt: at(900) },
        [{ endpoint: 'e' }],
        at(22),
      ),
    ).toBe(true);
    const [view] = await listConnections(meta, orgId, at(23), ['a']);
    expect(view).toMatchObject({
      state: 'healthy',
      nextPollAt: at(900),
      lastPollFinishedAt: at(22),
      polls: 1,
      polling: false,
      headroom: [{ endpoint: 'e' }],
    });
  });

  test('outcomes set the state: rate limited until T, needs re-authorisation, failing with a retry', async () => {
    const orgId = await createOrganisation(meta, 'Outcomes');
    for (const id of ['rl', 'rv', 'fl']) await connectAccount(meta, cipher, input(orgId, id));
    const claimed = (await claimDueConnections(meta, cipher, 'A', at(1), 60_000, 50)).filter(
      (c) => c.orgId === orgId,
    );
    expect(claimed).toHaveLength(3);
    const key = (accountId: string) => ({ orgId, accountId });
    await finishPoll(
      meta,
      'A',
      key('rl'),
      { kind: 'rate-limited', until: at(600), error: 'limited' },
      [],
      at(2),
    );
    await finishPoll(meta, 'A', key('rv'), { kind: 'revoked', error: 'token revoked' }, [], at(2));
    await finishPoll(
      meta,
      'A',
      key('fl'),
      { kind: 'failed', error: 'HTTP 500', retryAt: at(40) },
      [],
      at(2),
    );
    const views = new Map((await listConnections(meta, orgId, at(3))).map((v) => [v.accountId, v]));
    expect(views.get('rl')).toMatchObject({
      state: 'rate_limited',
      rateLimitedUntil: at(600),
      nextPollAt: at(600),
    });
    expect(views.get('rv')).toMatchObject({ state: 'needs_reauth', lastError: 'token revoked' });
    expect(views.get('fl')).toMatchObject({
      state: 'failing',
      consecutiveFailures: 1,
      nextPollAt: at(40),
    });
    // Much later, only the two that may be polled are claimed.
    const later = (await claimDueConnections(meta, cipher, 'A', at(100_000), 60_000, 50)).filter(
      (c) => c.orgId === orgId,
    );
    expect(later.map((c) => c.accountId).sort()).toEqual(['fl', 'rl']);
    await expect(requestPoll(meta, orgId, 'rv', at(5))).rejects.toThrow(/needs re-authorisation/);
    // Connecting again with new tokens makes it healthy and due at once.
    const again = await connectAccount(meta, cipher, input(orgId, 'rv', { now: at(6) }));
    expect(again).toMatchObject({ state: 'healthy', lastError: null, nextPollAt: at(6) });
  });

  test('webhooks find every organisation that connected an account, and a revocation marks them all', async () => {
    const one = await createOrganisation(meta, 'One');
    const two = await createOrganisation(meta, 'Two');
    await connectAccount(meta, cipher, input(one, 'shared', { platformAccountId: '777' }));
    await connectAccount(meta, cipher, input(two, 'mine', { platformAccountId: '777' }));
    const found = await connectionsOfPlatformAccount(meta, 'x', '777');
    expect(found.sort((a, b) => a.orgId.localeCompare(b.orgId))).toEqual(
      [
        { orgId: one, accountId: 'shared' },
        { orgId: two, accountId: 'mine' },
      ].sort((a, b) => a.orgId.localeCompare(b.orgId)),
    );
    expect(await connectionsOfPlatformAccount(meta, 'tiktok', '777')).toEqual([]);
    expect(await markRevoked(meta, 'x', '777', 'revoked by the user')).toBe(2);
    expect((await listConnections(meta, one, t0))[0]!.state).toBe('needs_reauth');
    expect(await disconnectAccount(meta, one, 'shared')).toBe(true);
    expect(await disconnectAccount(meta, one, 'shared')).toBe(false);
    // The account stays tracked, with its data.
    expect((await listTrackedAccounts(meta, one)).map((a) => a.id)).toEqual(['shared']);
  });

  test("another organisation's connections are invisible to it and cannot be polled or disconnected", async () => {
    const owner = await createOrganisation(meta, 'Owner');
    const other = await createOrganisation(meta, 'Other');
    await connectAccount(meta, cipher, input(owner, 'private-acct'));
    expect(await listConnections(meta, other, t0)).toEqual([]);
    expect(await listConnections(meta, other, t0, ['private-acct'])).toEqual([]);
    expect(await requestPoll(meta, other, 'private-acct', t0)).toBeNull();
    expect(await disconnectAccount(meta, other, 'private-acct')).toBe(false);
    expect((await listConnections(meta, owner, t0)).map((c) => c.accountId)).toEqual([
      'private-acct',
    ]);
  });
});
