import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Platform } from '../../schema/event-envelope.ts';
import {
  DEMO_ORG_ID,
  DEMO_TIME_ZONE,
  authenticateApiKey,
  createApiKey,
  createOrganisation,
  ensureDemoOrganisation,
  setOrganisationTimeZone,
  getTrackedAccounts,
  hashApiKey,
  listApiKeys,
  listTrackedAccounts,
  rememberTrackedAccounts,
  revokeApiKey,
  upsertTrackedAccounts,
} from './accounts.repo.ts';
import type { MetaStore } from './meta.port.ts';
import { migrate } from './migrate.ts';
import { createPgliteMeta } from './pglite.meta.ts';

let meta: MetaStore;
beforeAll(async () => {
  meta = await createPgliteMeta();
  await migrate(meta);
});
afterAll(() => meta.close());

describe('organisations and API keys', () => {
  test('an organisation has a time zone, UTC unless set, and its keys carry it', async () => {
    const orgId = await createOrganisation(meta, 'Mumbai office', 'Asia/Kolkata');
    const key = await createApiKey(meta, orgId, 'ci');
    expect(await authenticateApiKey(meta, key)).toEqual({
      orgId,
      timeZone: 'Asia/Kolkata',
      role: 'admin',
    });
    expect(await setOrganisationTimeZone(meta, orgId, 'Asia/Kathmandu')).toBe(true);
    expect((await authenticateApiKey(meta, key))?.timeZone).toBe('Asia/Kathmandu');
    expect(await setOrganisationTimeZone(meta, 'no-such-org', 'UTC')).toBe(false);
    await expect(setOrganisationTimeZone(meta, orgId, 'Mars/Olympus_Mons')).rejects.toThrow(
      /not an IANA time zone/,
    );
    await expect(createOrganisation(meta, 'Nowhere', 'GMT+25')).rejects.toThrow(/IANA/);
  });

  test('a created key opens its organisation, and only a hash of it is stored', async () => {
    const orgId = await createOrganisation(meta, '  Acme  ');
    const key = await createApiKey(meta, orgId, 'ci');
    expect(key).toMatch(/^loupe_[A-Za-z0-9_-]{32}$/);
    expect(await authenticateApiKey(meta, key)).toEqual({ orgId, timeZone: 'UTC', role: 'admin' });

    const rows = await meta.query<{ row: string }>(
      'SELECT row_to_json(k)::text AS row FROM api_keys k WHERE org_id = $1',
      [orgId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.row).not.toContain(key);
    expect(rows[0]?.row).toContain(hashApiKey(key));
    const [info] = await listApiKeys(meta, orgId);
    expect(info).toMatchObject({ name: 'ci', prefix: key.slice(0, 12), revokedAt: null });
    expect(await meta.query('SELECT name FROM organisations WHERE id = $1', [orgId])).toEqual([
      { name: 'Acme' },
    ]);
  });

  test('unknown, malformed and revoked keys open nothing', async () => {
    const orgId = await createOrganisation(meta, 'Revokers');
    const key = await createApiKey(meta, orgId, 'temp');
    expect(await authenticateApiKey(meta, `${key}x`)).toBeNull();
    expect(await authenticateApiKey(meta, 'short')).toBeNull();
    expect(await authenticateApiKey(meta, 'x'.repeat(10_000))).toBeNull();

    const [info] = await listApiKeys(meta, orgId);
    const other = await createOrganisation(meta, 'Not the owner');
    expect(await revokeApiKey(meta, other, info!.id)).toBe(false);
    expect(await authenticateApiKey(meta, key)).toEqual({ orgId, timeZone: 'UTC', role: 'admin' });
    expect(await revokeApiKey(meta, orgId, info!.id)).toBe(true);
    expect(await revokeApiKey(meta, orgId, info!.id)).toBe(false);
    expect(await authenticateApiKey(meta, key)).toBeNull();
    expect((await listApiKeys(meta, orgId))[0]?.revokedAt).toBeInstanceOf(Date);
  });

  test('refuses keys for unknown organisations, and a key imposed twice', async () => {
    await expect(createApiKey(meta, 'no-such-org', 'x')).rejects.toThrow(/no organisation/);
    const orgId = await createOrganisation(meta, 'Imposed');
    const key = 'loupe_imposed_key_0001';
    expect(await createApiKey(meta, orgId, 'fixed', key)).toBe(key);
    await expect(createApiKey(meta, orgId, 'again', key)).rejects.toThrow();
    await expect(createApiKey(meta, orgId, 'tiny', 'short')).rejects.toThrow(RangeError);
    await expect(createOrganisation(meta, '   ')).rejects.toThrow(RangeError);
  });

  test('a key has a role, and only a partner key has a client', async () => {
    const orgId = await createOrganisation(meta, 'Roles');
    const member = await createApiKey(meta, orgId, 'm', undefined, { role: 'member' });
    const partner = await createApiKey(meta, orgId, 'p', undefined, {
      role: 'partner',
      client: ' acme-app ',
    });
    expect(await authenticateApiKey(meta, member)).toEqual({
      orgId,
      timeZone: 'UTC',
      role: 'member',
    });
    expect(await authenticateApiKey(meta, partner)).toEqual({
      orgId,
      timeZone: 'UTC',
      role: 'partner',
      client: 'acme-app',
    });
    expect((await listApiKeys(meta, orgId)).map((k) => [k.name, k.role, k.client]).sort()).toEqual([
      ['m', 'member', null],
      ['p', 'partner', 'acme-app'],
    ]);
    await expect(createApiKey(meta, orgId, 'x', undefined, { role: 'partner' })).rejects.toThrow(
      /needs a client name/,
    );
    await expect(
      createApiKey(meta, orgId, 'x', undefined, { role: 'ingest', client: 'acme-app' }),
    ).rejects.toThrow(/only partner keys have a client/);
    await expect(
      createApiKey(meta, orgId, 'x', undefined, { role: 'owner' as 'admin' }),
    ).rejects.toThrow(/is not one of admin, member, partner, ingest/);
    // The table refuses a partner without a client even past this code.
    await expect(
      meta.query(
        `INSERT INTO api_keys (id, org_id, name, key_hash, prefix, role)
         VALUES ('k', $1, 'raw', $2, 'loupe_', 'partner')`,
        [orgId, 'a'.repeat(64)],
      ),
    ).rejects.toThrow();
  });

  test('ensureDemoOrganisation is idempotent', async () => {
    const key = 'loupe_demo_0000000000000000';
    expect(await ensureDemoOrganisation(meta, key)).toEqual({
      orgId: DEMO_ORG_ID,
      timeZone: DEMO_TIME_ZONE,
      role: 'admin',
    });
    expect(await ensureDemoOrganisation(meta, key)).toEqual({
      orgId: DEMO_ORG_ID,
      timeZone: DEMO_TIME_ZONE,
      role: 'admin',
    });
    expect(await authenticateApiKey(meta, key)).toEqual({
      orgId: DEMO_ORG_ID,
      timeZone: DEMO_TIME_ZONE,
      role: 'admin',
    });
    expect(await listApiKeys(meta, DEMO_ORG_ID)).toHaveLength(1);
  });
});

describe('tracked accounts', () => {
  test('upserts in one batch, keeping stored names a later batch leaves out', async () => {
    const orgId = await createOrganisation(meta, 'Trackers');
    await upsertTrackedAccounts(meta, orgId, [
      { id: 'ig-1', platform: 'instagram', handle: '@one', displayName: 'One' },
      { id: 'x-1', platform: 'x' },
      { id: 'x-1', platform: 'x', handle: '@xone' },
    ]);
    await upsertTrackedAccounts(meta, orgId, [
      { id: 'ig-1', platform: 'instagram', displayName: 'One, renamed' },
      { id: 'tt-1', platform: 'tiktok' },
    ]);
    await upsertTrackedAccounts(meta, orgId, []);
    const all = await listTrackedAccounts(meta, orgId);
    expect(all.map(({ createdAt: _, ...a }) => a)).toEqual([
      { id: 'ig-1', platform: 'instagram', handle: '@one', displayName: 'One, renamed' },
      { id: 'tt-1', platform: 'tiktok', handle: null, displayName: null },
      { id: 'x-1', platform: 'x', handle: '@xone', displayName: null },
    ]);
    expect((await listTrackedAccounts(meta, orgId, 'x')).map((a) => a.id)).toEqual(['x-1']);
  });

  test('getTrackedAccounts answers in the order asked, null where untracked', async () => {
    const orgId = await createOrganisation(meta, 'Loaders');
    await upsertTrackedAccounts(meta, orgId, [
      { id: 'a', platform: 'facebook' },
      { id: 'b', platform: 'app' },
    ]);
    const found = await getTrackedAccounts(meta, orgId, ['b', 'missing', 'a', 'b']);
    expect(found.map((a) => a?.id ?? null)).toEqual(['b', null, 'a', 'b']);
    expect(await getTrackedAccounts(meta, orgId, [])).toEqual([]);
  });

  test('refuses a platform outside the list', async () => {
    const orgId = await createOrganisation(meta, 'Myspace fans');
    await expect(
      upsertTrackedAccounts(meta, orgId, [{ id: 'm', platform: 'myspace' as Platform }]),
    ).rejects.toThrow();
  });

  test('organisation B sees none of organisation A', async () => {
    const a = await createOrganisation(meta, 'A');
    const b = await createOrganisation(meta, 'B');
    await upsertTrackedAccounts(meta, a, [{ id: 'shared-id', platform: 'x', handle: '@a' }]);
    expect(await listTrackedAccounts(meta, b)).toEqual([]);
    expect(await getTrackedAccounts(meta, b, ['shared-id'])).toEqual([null]);
    await upsertTrackedAccounts(meta, b, [{ id: 'shared-id', platform: 'x', handle: '@b' }]);
    expect((await listTrackedAccounts(meta, a))[0]?.handle).toBe('@a');
    expect((await listTrackedAccounts(meta, b))[0]?.handle).toBe('@b');
  });
});

describe('remembered tracked accounts', () => {
  test('found accounts are remembered for the ttl, missing ones asked for every time', async () => {
    const orgId = await createOrganisation(meta, 'Remembering');
    const other = await createOrganisation(meta, 'Elsewhere');
    await upsertTrackedAccounts(meta, orgId, [{ id: 'ig-r', platform: 'instagram' }]);
    let clock = 1_000;
    const lookup = rememberTrackedAccounts(meta, { ttlMs: 5_000, now: () => clock });
    expect((await lookup(orgId, ['ig-r', 'x-r'])).map((a) => a?.platform ?? null)).toEqual([
      'instagram',
      null,
    ]);
    // Another organisation never sees the remembered account.
    expect(await lookup(other, ['ig-r'])).toEqual([null]);
    await upsertTrackedAccounts(meta, orgId, [{ id: 'x-r', platform: 'x' }]);
    await meta.query(`DELETE FROM tracked_accounts WHERE org_id = $1 AND id = 'ig-r'`, [orgId]);
    const [ig, x] = await lookup(orgId, ['ig-r', 'x-r']);
    expect([ig?.platform, x?.platform]).toEqual(['instagram', 'x']);
    clock += 5_000;
    expect((await lookup(orgId, ['ig-r']))[0]).toBeNull();
  });
});
