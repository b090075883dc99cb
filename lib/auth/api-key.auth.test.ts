import { Keyv } from 'keyv';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createApiKey,
  createOrganisation,
  listApiKeys,
  revokeApiKey,
} from '../meta/accounts.repo.ts';
import type { MetaQuery, MetaStore } from '../meta/meta.port.ts';
import { migrate } from '../meta/migrate.ts';
import { createPgliteMeta } from '../meta/pglite.meta.ts';
import { createApiKeyAuthenticator } from './api-key.auth.ts';

let meta: MetaStore;
let orgId: string;
beforeAll(async () => {
  meta = await createPgliteMeta();
  await migrate(meta);
  orgId = await createOrganisation(meta, 'Auth');
});
afterAll(() => meta.close());

/** The store, counting the queries that reach it. */
function counted(): MetaQuery & { calls: number } {
  const db = {
    calls: 0,
    query<T>(sql: string, params?: readonly unknown[]) {
      db.calls += 1;
      return meta.query<T>(sql, params);
    },
  };
  return db;
}

describe('api key authenticator', () => {
  test('remembers a yes until the TTL passes, so revocation lands within it', async () => {
    const key = await createApiKey(meta, orgId, 'cached');
    let clock = 1_000;
    const db = counted();
    const authenticate = createApiKeyAuthenticator(db, undefined, {
      ttlMs: 30_000,
      now: () => clock,
    });
    expect(await authenticate(key)).toEqual({ orgId, timeZone: 'UTC', role: 'admin' });
    expect(await authenticate(key)).toEqual({ orgId, timeZone: 'UTC', role: 'admin' });
    expect(db.calls).toBe(1);

    const info = (await listApiKeys(meta, orgId)).find((k) => k.name === 'cached');
    await revokeApiKey(meta, orgId, info!.id);
    clock += 29_000;
    expect(await authenticate(key)).toEqual({ orgId, timeZone: 'UTC', role: 'admin' });
    clock += 2_000;
    expect(await authenticate(key)).toBeNull();
    expect(db.calls).toBe(2);
  });

  test('remembers a no, and shares one lookup between concurrent callers', async () => {
    const db = counted();
    const authenticate = createApiKeyAuthenticator(db);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => authenticate('loupe_no_such_key_at_all')),
    );
    expect(answers).toEqual([null, null, null, null, null]);
    expect(await authenticate('loupe_no_such_key_at_all')).toBeNull();
    expect(db.calls).toBe(1);
  });

  test('bounds the built-in cache, dropping the oldest answers', async () => {
    const db = counted();
    const authenticate = createApiKeyAuthenticator(db, undefined, { maxEntries: 2 });
    for (const key of ['loupe_made_up_key_1', 'loupe_made_up_key_2', 'loupe_made_up_key_3']) {
      await authenticate(key);
    }
    await authenticate('loupe_made_up_key_3');
    expect(db.calls).toBe(3);
    await authenticate('loupe_made_up_key_1');
    expect(db.calls).toBe(4);
  });

  test('uses a Keyv when given one, storing hashes of keys, never the keys', async () => {
    const key = await createApiKey(meta, orgId, 'keyv');
    const store = new Map<string, unknown>();
    const cache = new Keyv({ store, namespace: 'auth' });
    const db = counted();
    const authenticate = createApiKeyAuthenticator(db, cache);
    expect(await authenticate(key)).toEqual({ orgId, timeZone: 'UTC', role: 'admin' });
    expect(await authenticate(key)).toEqual({ orgId, timeZone: 'UTC', role: 'admin' });
    expect(db.calls).toBe(1);
    expect(store.size).toBe(1);
    expect(JSON.stringify([...store])).not.toContain(key);
  });

  test('a failing cache is a miss, not a refusal', async () => {
    const key = await createApiKey(meta, orgId, 'broken-cache');
    const cache = new Keyv({ store: new BrokenStore(), namespace: 'broken' });
    const authenticate = createApiKeyAuthenticator(meta, cache);
    expect(await authenticate(key)).toEqual({ orgId, timeZone: 'UTC', role: 'admin' });
  });
});

class BrokenStore extends Map<string, unknown> {
  override get(): never {
    throw new Error('cache down');
  }
  override set(): never {
    throw new Error('cache down');
  }
}
