// Tracked accounts on PostgreSQL, where several collector requests upsert the same accounts at
// once: they must never deadlock each other, and a refused value must be told from an outage.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seeded } from '../../test/support/known-batch.ts';
import { throwawayPostgres } from '../../test/support/throwaway-servers.ts';
import {
  createOrganisation,
  isRefusedValue,
  listTrackedAccounts,
  upsertTrackedAccounts,
  type TrackedAccountInput,
} from './accounts.repo.ts';
import type { MetaStore } from './meta.port.ts';
import { migrate } from './migrate.ts';
import { createPostgresMeta } from './postgres.meta.ts';

let room: Awaited<ReturnType<typeof throwawayPostgres>>;
let meta: MetaStore;

beforeAll(async () => {
  room = await throwawayPostgres();
  meta = await createPostgresMeta({ url: room.url, max: 8 });
  await migrate(meta);
});
afterAll(async () => {
  await meta?.close();
  await room?.drop();
});

describe('upsertTrackedAccounts on PostgreSQL', () => {
  test('concurrent upserts of overlapping accounts in different orders all succeed', async () => {
    const orgId = await createOrganisation(meta, 'Concurrent');
    const random = seeded(5);
    const accounts: TrackedAccountInput[] = Array.from({ length: 200 }, (_, i) => ({
      id: `acct-${i}`,
      platform: 'x',
    }));
    const shuffled = () => [...accounts].sort(() => random() - 0.5).slice(0, 150);
    for (let round = 0; round < 5; round++) {
      const upserts = Array.from({ length: 8 }, () =>
        upsertTrackedAccounts(meta, orgId, shuffled()),
      );
      const outcomes = await Promise.allSettled(upserts);
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    }
    expect((await listTrackedAccounts(meta, orgId)).length).toBeGreaterThan(150);
  });

  test('a NUL in an id is a refused value; a lost connection is not', async () => {
    const orgId = await createOrganisation(meta, 'Refused');
    const refused = await upsertTrackedAccounts(meta, orgId, [{ id: 'a\u0000b', platform: 'x' }])
      .then(() => undefined)
      .catch((error: unknown) => error);
    expect(isRefusedValue(refused)).toBe(true);

    const gone = await createPostgresMeta({ url: room.url, max: 1 });
    await gone.close();
    const outage = await upsertTrackedAccounts(gone, orgId, [{ id: 'fine', platform: 'x' }])
      .then(() => undefined)
      .catch((error: unknown) => error);
    expect(outage).toBeInstanceOf(Error);
    expect(isRefusedValue(outage)).toBe(false);
  });
});
