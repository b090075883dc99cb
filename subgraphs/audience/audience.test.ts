import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApiKeyAuthenticator } from '../../lib/auth/api-key.auth.ts';
import type { Authenticator } from '../../lib/auth/caller.ts';
import { serveGraphQL, type ServedGraphQL } from '../../lib/graphql/serve.ts';
import { createLogger } from '../../lib/logger.ts';
import {
  createApiKey,
  createOrganisation,
  getTrackedAccounts,
  upsertTrackedAccounts,
} from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { migrate } from '../../lib/meta/migrate.ts';
import { createPgliteMeta } from '../../lib/meta/pglite.meta.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import type { EventInput, Platform } from '../../schema/event-envelope.ts';
import { toEventRow } from '../../ingest/pipeline/event-rows.ts';
import { createAudienceSubgraph } from './server.ts';
import { postAsGateway, testTokens, type Reply } from '../../test/support/graphql-http.ts';

const T0 = Date.UTC(2026, 5, 1, 0, 0);
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

let olap: Olap;
let meta: MetaStore;
let authenticate: Authenticator;
let served: ServedGraphQL;
let keyA: string;
let keyB: string;
let orgA: string;
/** Statements run since the last reset, per store: the round trips a request cost. */
const calls = { olap: 0, meta: 0 };

let eventSeq = 0;
function profile(accountId: string, at: number, followers: number, handle = `@${accountId}`) {
  return {
    id: `ev-${++eventSeq}`,
    type: 'profile',
    platform: 'instagram',
    accountId,
    handle,
    displayName: `Display ${accountId}`,
    followers,
    following: 7,
    postCount: 12,
    occurredAt: iso(at),
  } satisfies EventInput;
}

function audience(
  accountId: string,
  at: number,
  dims: Partial<
    Record<'age' | 'gender' | 'country' | 'city' | 'interests', Record<string, number>>
  >,
) {
  return {
    id: `ev-${++eventSeq}`,
    type: 'audience',
    platform: 'instagram',
    accountId,
    occurredAt: iso(at),
    ...dims,
  } satisfies EventInput;
}

async function insertEvents(orgId: string, events: EventInput[]) {
  await olap.insert(
    'events',
    events.map((event) => toEventRow({ orgId, receivedAt: Date.parse(event.occurredAt), event })),
  );
}

function gql<T = Record<string, unknown>>(
  key: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
  url = served.url,
): Promise<Reply<T>> {
  return postAsGateway<T>(authenticate, url, key, query, variables);
}

const codes = (reply: Reply<unknown>) => (reply.errors ?? []).map((e) => e.extensions?.code);

const BULK = Array.from({ length: 24 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`);

beforeAll(async () => {
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-audience-')) });
  await applyOlapSchema(olap);
  // Unmerged parts keep several snapshots per account: readers must already pick the latest.
  await olap.command('SYSTEM STOP MERGES profile_snapshots');
  await olap.command('SYSTEM STOP MERGES audience_snapshots');
  meta = await createPgliteMeta();
  authenticate = createApiKeyAuthenticator(meta);
  await migrate(meta);
  orgA = await createOrganisation(meta, 'A');
  const orgB = await createOrganisation(meta, 'B');
  keyA = await createApiKey(meta, orgA, 'test');
  keyB = await createApiKey(meta, orgB, 'test');

  const platforms: Platform[] = ['facebook', 'instagram', 'x', 'tiktok'];
  await upsertTrackedAccounts(meta, orgA, [
    { id: 'ig-shop', platform: 'instagram' },
    { id: 'x-shop', platform: 'x' },
    { id: 'quiet', platform: 'tiktok' },
    ...BULK.map((id, i) => ({ id, platform: platforms[i % 4] ?? 'app' })),
  ]);
  await upsertTrackedAccounts(meta, orgB, [{ id: 'ig-shop', platform: 'facebook' }]);

  // Newest profile first, then an older one arriving late (a separate part): the newest wins.
  await insertEvents(orgA, [
    profile('ig-shop', T0 + 2 * HOUR, 1500, '@shop'),
    // The followers behind the audience snapshot at T0.
    profile('ig-shop', T0 - 2 * HOUR, 1000, '@first-shop'),
    audience('ig-shop', T0, {
      age: { '18-24': 30, '25-34': 50, '35-44': 20 },
      gender: { female: 60, male: 40 },
      country: { FR: 10, DE: 30 },
    }),
    ...BULK.map((id, i) => profile(id, T0, 100 + i)),
    ...BULK.map((id, i) => audience(id, T0, { country: { FR: i + 1 } })),
  ]);
  await insertEvents(orgA, [
    profile('ig-shop', T0 + HOUR, 1400, '@old-shop'),
    // A later snapshot of one dimension replaces that dimension only.
    audience('ig-shop', T0 + 3 * HOUR, { age: { '18-24': 1, '25-34': 3 } }),
    // An older snapshot arriving late changes nothing.
    audience('ig-shop', T0 - HOUR, { gender: { male: 1 } }),
  ]);
  // Organisation B uses the same account id: its own data only.
  await insertEvents(orgB, [
    profile('ig-shop', T0, 5, '@b-shop'),
    audience('ig-shop', T0, { interests: { chess: 2 } }),
  ]);

  const countingOlap: Olap = {
    ...olap,
    query: <T>(sql: string, params?: Parameters<Olap['query']>[1]) => {
      calls.olap++;
      return olap.query<T>(sql, params);
    },
  };
  const countingMeta: MetaStore = {
    ...meta,
    query: <T>(sql: string, params?: readonly unknown[]) => {
      calls.meta++;
      return meta.query<T>(sql, params);
    },
  };
  const subgraph = createAudienceSubgraph(
    {
      olap: countingOlap,
      meta: countingMeta,
      tokens: testTokens,
    },
    { minBucket: 100 },
  );
  served = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await served?.close();
  await meta?.close();
  await olap?.close();
});

const ACCOUNT = /* GraphQL */ `
  query ($id: ID!) {
    account(id: $id) {
      id
      platform
      profile {
        handle
        displayName
        followers
        following
        postCount
        observedAt
      }
      audience {
        observedAt
        age {
          key
          value
          share
        }
        gender {
          key
          value
          share
        }
        country {
          key
          value
          share
        }
        city {
          key
          value
          share
        }
        interests {
          key
          value
          share
        }
      }
    }
  }
`;

interface Bucket {
  key: string;
  value: number | null;
  share: number | null;
}
interface AccountData {
  account: {
    id: string;
    platform: string;
    profile: Record<string, unknown> | null;
    audience:
      | (Record<'age' | 'gender' | 'country' | 'city' | 'interests', Bucket[]> & {
          observedAt: string;
        })
      | null;
  } | null;
}

describe('audience subgraph over HTTP', () => {
  test('answers an account with its latest profile', async () => {
    const reply = await gql<AccountData>(keyA, ACCOUNT, { id: 'ig-shop' });
    expect(reply.errors).toBeUndefined();
    expect(reply.data?.account).toMatchObject({
      id: 'ig-shop',
      platform: 'INSTAGRAM',
      profile: {
        handle: '@shop',
        displayName: 'Display ig-shop',
        followers: 1500,
        following: 7,
        postCount: 12,
        observedAt: iso(T0 + 2 * HOUR),
      },
    });
  });

  test('answers the latest audience per dimension, largest bucket first, with shares', async () => {
    const audienceOf = (await gql<AccountData>(keyA, ACCOUNT, { id: 'ig-shop' })).data?.account
      ?.audience;
    expect(audienceOf).toEqual({
      observedAt: iso(T0 + 3 * HOUR),
      age: [
        { key: '25-34', value: 3, share: 0.75 },
        { key: '18-24', value: 1, share: 0.25 },
      ],
      gender: [
        { key: 'female', value: 60, share: 0.6 },
        { key: 'male', value: 40, share: 0.4 },
      ],
      country: [
        { key: 'DE', value: 30, share: 0.75 },
        { key: 'FR', value: 10, share: 0.25 },
      ],
      city: [],
      interests: [],
    });
  });

  test('answers null profile and audience for an account without snapshots', async () => {
    const reply = await gql<AccountData>(keyA, ACCOUNT, { id: 'quiet' });
    expect(reply.data?.account).toEqual({
      id: 'quiet',
      platform: 'TIKTOK',
      profile: null,
      audience: null,
    });
  });

  test('lists the tracked accounts of the caller, optionally of one platform', async () => {
    const all = await gql<{ accounts: { id: string; platform: string }[] }>(
      keyA,
      '{ accounts { id platform } }',
    );
    expect(all.data?.accounts).toHaveLength(27);
    const x = await gql<{ accounts: { id: string; platform: string }[] }>(
      keyA,
      '{ accounts(platform: X) { id platform } }',
    );
    expect(x.data?.accounts.map((a) => a.id)).toEqual([
      ...BULK.filter((_, i) => i % 4 === 2),
      'x-shop',
    ]);
    expect(new Set(x.data?.accounts.map((a) => a.platform))).toEqual(new Set(['X']));
  });

  test('loads 24 accounts with profiles and audiences in one query per store and field', async () => {
    calls.olap = 0;
    calls.meta = 0;
    const reply = await gql<{
      accounts: { id: string; profile: { followers: number }; audience: { country: Bucket[] } }[];
    }>(keyA, '{ accounts { id profile { followers } audience { country { key value } } } }');
    expect(reply.errors).toBeUndefined();
    // The list is ordered by platform, then id.
    const bulk = (reply.data?.accounts ?? [])
      .filter((a) => a.id.startsWith('bulk-'))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(bulk.map((a) => [a.id, a.profile.followers, a.audience.country])).toEqual(
      BULK.map((id, i) => [id, 100 + i, [{ key: 'FR', value: i + 1 }]]),
    );
    expect(calls).toEqual({ olap: 2, meta: 1 });
  });

  test('resolves Account entities for the gateway, null for accounts the org does not track', async () => {
    const reply = await gql<{ _entities: ({ id: string; platform: string } | null)[] }>(
      keyA,
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { id platform } } }`,
      { reps: ['x-shop', 'nobody', 'ig-shop'].map((id) => ({ __typename: 'Account', id })) },
    );
    expect(reply.errors).toBeUndefined();
    expect(reply.data?._entities).toEqual([
      { id: 'x-shop', platform: 'X' },
      null,
      { id: 'ig-shop', platform: 'INSTAGRAM' },
    ]);
  });

  test('a second organisation sees only its own accounts and snapshots', async () => {
    const list = await gql<{ accounts: { id: string }[] }>(keyB, '{ accounts { id } }');
    expect(list.data?.accounts).toEqual([{ id: 'ig-shop' }]);
    const reply = await gql<AccountData>(keyB, ACCOUNT, { id: 'ig-shop' });
    expect(reply.data?.account).toMatchObject({
      platform: 'FACEBOOK',
      profile: { handle: '@b-shop', followers: 5 },
      // Two of its five followers: suppressed.
      audience: { interests: [{ key: 'chess', value: null, share: null }], age: [], country: [] },
    });
    expect((await gql<AccountData>(keyB, ACCOUNT, { id: 'x-shop' })).data).toEqual({
      account: null,
    });
  });

  test('answers UNAUTHENTICATED (401) without a key or with a wrong one', async () => {
    for (const key of [undefined, '', 'loupe_not_a_real_key_000000']) {
      const reply = await gql(key, '{ accounts { id } }');
      expect(reply.status).toBe(401);
      expect(codes(reply)).toEqual(['UNAUTHENTICATED']);
      expect(reply.data ?? null).toBeNull();
    }
  });

  test('answers FORBIDDEN (403) to an ingest caller, as the gateway does', async () => {
    // Partners are held to their manifests by the gateway, the only signer (e2e-suite.ts).
    const ingest = await createApiKey(meta, orgA, 'sdk', undefined, { role: 'ingest' });
    const member = await createApiKey(meta, orgA, 'member', undefined, { role: 'member' });
    const reply403 = await gql(ingest, '{ accounts { id } }');
    expect(reply403.status).toBe(403);
    expect(codes(reply403)).toEqual(['FORBIDDEN']);
    expect(reply403.data ?? null).toBeNull();
    const reply = await gql<{ accounts: unknown[] }>(member, '{ accounts { id } }');
    expect(reply.status).toBe(200);
    expect(reply.data?.accounts.length).toBeGreaterThan(0);
  });

  test('an admin key tracks and untracks accounts of its own organisation only', async () => {
    const TRACK = `mutation ($input: TrackAccountInput!) {
      trackAccount(input: $input) { id platform }
    }`;
    const UNTRACK = 'mutation ($id: ID!) { untrackAccount(id: $id) }';
    const member = await createApiKey(meta, orgA, 'member', undefined, { role: 'member' });
    const input = { id: ' tt-new ', platform: 'TIKTOK', handle: '@new' };

    const refused = await gql(member, TRACK, { input });
    // Refused by the resolver: a field error, answered 200 (subgraph-server.ts).
    expect(refused.status).toBe(200);
    expect(codes(refused)).toEqual(['FORBIDDEN']);
    expect((await gql<AccountData>(keyA, ACCOUNT, { id: 'tt-new' })).data?.account).toBeNull();

    const tracked = await gql(keyA, TRACK, { input });
    expect(tracked.data).toEqual({ trackAccount: { id: 'tt-new', platform: 'TIKTOK' } });
    // Renamed, the handle kept when left out.
    await gql(keyA, TRACK, { input: { id: 'tt-new', platform: 'TIKTOK', displayName: 'New' } });
    const [stored] = await getTrackedAccounts(meta, orgA, ['tt-new']);
    expect([stored?.handle, stored?.displayName]).toEqual(['@new', 'New']);
    const found = await gql<AccountData>(keyA, ACCOUNT, { id: 'tt-new' });
    expect(found.data?.account?.id).toBe('tt-new');
    // Another organisation neither sees it nor can untrack it.
    expect((await gql<AccountData>(keyB, ACCOUNT, { id: 'tt-new' })).data?.account).toBeNull();
    expect((await gql(keyB, UNTRACK, { id: 'tt-new' })).data).toEqual({ untrackAccount: false });

    expect((await gql(keyA, UNTRACK, { id: 'tt-new' })).data).toEqual({ untrackAccount: true });
    expect((await gql<AccountData>(keyA, ACCOUNT, { id: 'tt-new' })).data?.account).toBeNull();
    expect((await gql(keyA, UNTRACK, { id: 'tt-new' })).data).toEqual({ untrackAccount: false });

    for (const bad of [
      { ...input, id: '  ' },
      { ...input, handle: 'h'.repeat(257) },
      { ...input, id: 'bad\u0000id' },
    ]) {
      const reply = await gql(keyA, TRACK, { input: bad });
      expect(codes(reply), JSON.stringify(reply.errors)).toEqual(['BAD_USER_INPUT']);
    }
  });

  test('refuses an unknown platform with a validation error', async () => {
    const reply = await gql(keyA, '{ accounts(platform: MYSPACE) { id } }');
    expect(reply.status).toBe(400);
    expect(codes(reply)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  test('masks internal errors', async () => {
    const broken: Olap = {
      ...olap,
      query: () => Promise.reject(new Error('chdb: /var/lib/secret/path is corrupt')),
    };
    const subgraph = createAudienceSubgraph(
      {
        olap: broken,
        meta,
        tokens: testTokens,
        logger: createLogger('silent'),
      },
      { minBucket: 100 },
    );
    const other = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
    try {
      const reply = await gql<AccountData>(keyA, ACCOUNT, { id: 'ig-shop' }, other.url);
      expect(reply.data?.account).toMatchObject({ id: 'ig-shop', profile: null, audience: null });
      expect(codes(reply)).toEqual(['INTERNAL_SERVER_ERROR', 'INTERNAL_SERVER_ERROR']);
      expect(JSON.stringify(reply)).not.toContain('secret');
    } finally {
      await other.close();
    }
  });
});
