// The meta store several replicas share, for tests of leases: migrated, in a throwaway PostgreSQL
// schema; and that store as a replica cut off from its network sees it.
import { afterAll, beforeAll } from 'vitest';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { migrate } from '../../lib/meta/migrate.ts';
import { createPostgresMeta } from '../../lib/meta/postgres.meta.ts';
import { throwawayPostgres } from './throwaway-servers.ts';

/**
 * Registers the test file's beforeAll/afterAll for a migrated store; `get()` returns it once the
 * file's tests run.
 */
export function useThrowawayMeta(): { get(): MetaStore; url(): string } {
  let room: Awaited<ReturnType<typeof throwawayPostgres>> | undefined;
  let meta: MetaStore | undefined;
  beforeAll(async () => {
    room = await throwawayPostgres();
    meta = await createPostgresMeta({ url: room.url, max: 8 });
    await migrate(meta);
  });
  afterAll(async () => {
    await meta?.close();
    await room?.drop();
  });
  return {
    get: () => {
      if (!meta) throw new Error('the throwaway meta store is made in beforeAll');
      return meta;
    },
    url: () => room!.url,
  };
}

/** The meta store as a replica that lost its network sees it: every call fails once cut. */
export function severable(store: MetaStore): MetaStore & { cut(): void } {
  let cut = false;
  const guard = <T>(fn: () => Promise<T>) =>
    cut ? Promise.reject(new Error('network unreachable')) : fn();
  return {
    query: (sql, params) => guard(() => store.query(sql, params)),
    transaction: (fn) => guard(() => store.transaction(fn)),
    exec: (sql) => guard(() => store.exec(sql)),
    close: () => Promise.resolve(),
    cut: () => {
      cut = true;
    },
  };
}
