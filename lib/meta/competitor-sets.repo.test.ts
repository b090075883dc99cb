import { afterAll, beforeAll, expect, test } from 'vitest';
import { createOrganisation, upsertTrackedAccounts } from './accounts.repo.ts';
import {
  createCompetitorSet,
  deleteCompetitorSet,
  getCompetitorSet,
  listCompetitorSets,
  renameCompetitorSet,
  setCompetitorSetMembers,
} from './competitor-sets.repo.ts';
import type { MetaStore } from './meta.port.ts';
import { migrate } from './migrate.ts';
import { createPgliteMeta } from './pglite.meta.ts';

let meta: MetaStore;
let orgA: string;
let orgB: string;
beforeAll(async () => {
  meta = await createPgliteMeta();
  await migrate(meta);
  orgA = await createOrganisation(meta, 'A');
  orgB = await createOrganisation(meta, 'B');
  await upsertTrackedAccounts(meta, orgA, [
    { id: 'a1', platform: 'x' },
    { id: 'a2', platform: 'instagram' },
    { id: 'a3', platform: 'tiktok' },
  ]);
  await upsertTrackedAccounts(meta, orgB, [{ id: 'b1', platform: 'x' }]);
});
afterAll(() => meta.close());

test('creates, reads, lists and deletes a set, keeping the account order given', async () => {
  const created = await createCompetitorSet(meta, orgA, 'Rivals', ['a3', 'a1', 'a3']);
  if (!created.ok) throw new Error(created.reason);
  expect(created.set).toMatchObject({ name: 'Rivals', accountIds: ['a3', 'a1'] });
  expect(await getCompetitorSet(meta, orgA, created.set.id)).toEqual(created.set);

  const empty = await createCompetitorSet(meta, orgA, 'Empty', []);
  if (!empty.ok) throw new Error(empty.reason);
  expect((await listCompetitorSets(meta, orgA)).map((s) => [s.name, s.accountIds])).toEqual([
    ['Rivals', ['a3', 'a1']],
    ['Empty', []],
  ]);

  expect(await deleteCompetitorSet(meta, orgA, created.set.id)).toBe(true);
  expect(await deleteCompetitorSet(meta, orgA, created.set.id)).toBe(false);
  expect(await getCompetitorSet(meta, orgA, created.set.id)).toBeNull();
  expect(
    await meta.query('SELECT * FROM competitor_set_accounts WHERE set_id = $1', [created.set.id]),
  ).toEqual([]);
  await deleteCompetitorSet(meta, orgA, empty.set.id);
});

test('refuses a name the organisation already uses, and accounts it does not track', async () => {
  const first = await createCompetitorSet(meta, orgA, 'Unique', ['a1']);
  expect(first.ok).toBe(true);
  expect(await createCompetitorSet(meta, orgA, 'Unique', ['a2'])).toEqual({
    ok: false,
    reason: 'duplicate-name',
  });
  expect(await createCompetitorSet(meta, orgA, 'Other', ['a1', 'b1', 'nope'])).toEqual({
    ok: false,
    reason: 'unknown-accounts',
    accountIds: ['b1', 'nope'],
  });
  // The same name in another organisation is another set.
  expect((await createCompetitorSet(meta, orgB, 'Unique', ['b1'])).ok).toBe(true);
});

test('organisation B can neither see nor delete the sets of A', async () => {
  const created = await createCompetitorSet(meta, orgA, 'Private', ['a2']);
  if (!created.ok) throw new Error(created.reason);
  expect(await getCompetitorSet(meta, orgB, created.set.id)).toBeNull();
  expect((await listCompetitorSets(meta, orgB)).map((s) => s.name)).not.toContain('Private');
  expect(await deleteCompetitorSet(meta, orgB, created.set.id)).toBe(false);
  expect(await getCompetitorSet(meta, orgA, created.set.id)).not.toBeNull();
});

test('the schema itself refuses a membership across organisations', async () => {
  const created = await createCompetitorSet(meta, orgA, 'Guarded', ['a1']);
  if (!created.ok) throw new Error(created.reason);
  await expect(
    meta.query(
      `INSERT INTO competitor_set_accounts (org_id, set_id, account_id, position)
       VALUES ($1, $2, 'b1', 1)`,
      [orgA, created.set.id],
    ),
  ).rejects.toThrow();
  await expect(
    meta.query(
      `INSERT INTO competitor_set_accounts (org_id, set_id, account_id, position)
       VALUES ($1, $2, 'b1', 1)`,
      [orgB, created.set.id],
    ),
  ).rejects.toThrow();
});

test('renames and changes members in one transaction; refusals change nothing', async () => {
  const made = await createCompetitorSet(meta, orgA, 'Change me', ['a1']);
  const taken = await createCompetitorSet(meta, orgA, 'Taken name', ['a2']);
  if (!made.ok || !taken.ok) throw new Error('not created');
  const id = made.set.id;
  expect(await renameCompetitorSet(meta, orgA, id, 'Taken name')).toEqual({
    ok: false,
    reason: 'duplicate-name',
  });
  expect(await renameCompetitorSet(meta, orgB, id, 'Mine')).toEqual({
    ok: false,
    reason: 'not-found',
  });
  expect(await renameCompetitorSet(meta, orgA, id, 'Changed')).toMatchObject({
    ok: true,
    set: { name: 'Changed' },
  });

  expect(await setCompetitorSetMembers(meta, orgA, id, ['a3', 'b1', 'ghost'])).toEqual({
    ok: false,
    reason: 'unknown-accounts',
    accountIds: ['b1', 'ghost'],
  });
  const refused = await setCompetitorSetMembers(meta, orgA, id, ['a2'], () => 'no');
  expect(refused).toEqual({ ok: false, reason: 'refused', message: 'no' });
  expect(await setCompetitorSetMembers(meta, orgB, id, ['b1'])).toEqual({
    ok: false,
    reason: 'not-found',
  });
  expect((await getCompetitorSet(meta, orgA, id))?.accountIds).toEqual(['a1']);

  const added = await setCompetitorSetMembers(meta, orgA, id, (c) => [...c, 'a3', 'a1', 'a2']);
  expect(added).toMatchObject({ ok: true, set: { accountIds: ['a1', 'a3', 'a2'] } });
  await setCompetitorSetMembers(meta, orgA, id, (c) => c.filter((a) => a !== 'a3'));
  expect(await getCompetitorSet(meta, orgA, id)).toMatchObject({
    name: 'Changed',
    accountIds: ['a1', 'a2'],
  });
});
