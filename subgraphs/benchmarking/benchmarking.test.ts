// The benchmarking subgraph over HTTP, as the gateway calls it: competitor sets, their limits and
// membership changes, refusals that store nothing, tenancy and masking. Benchmark figures are
// checked through the gateway against recounts in test/benchmarking.test.ts.
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
  upsertTrackedAccounts,
} from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { migrate } from '../../lib/meta/migrate.ts';
import { createPgliteMeta } from '../../lib/meta/pglite.meta.ts';
import { createMemoryLiveStore } from '../../lib/live/memory.live.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import { createBenchmarkingSubgraph } from './server.ts';
import { postAsGateway, testTokens, type Reply } from '../../test/support/graphql-http.ts';

let meta: MetaStore;
let olap: Olap;
let live: LiveStore;
let authenticate: Authenticator;
let served: ServedGraphQL;
let keyA: string;
let keyB: string;

beforeAll(async () => {
  meta = await createPgliteMeta();
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-benchmarking-')) });
  await applyOlapSchema(olap);
  live = createMemoryLiveStore();
  authenticate = createApiKeyAuthenticator(meta);
  await migrate(meta);
  const orgA = await createOrganisation(meta, 'A');
  const orgB = await createOrganisation(meta, 'B');
  keyA = await createApiKey(meta, orgA, 'test');
  keyB = await createApiKey(meta, orgB, 'test');
  await upsertTrackedAccounts(meta, orgA, [
    { id: 'a1', platform: 'x' },
    { id: 'a2', platform: 'instagram' },
    ...Array.from({ length: 101 }, (_, i) => ({ id: `m${i}`, platform: 'x' as const })),
  ]);
  await upsertTrackedAccounts(meta, orgB, [{ id: 'b1', platform: 'tiktok' }]);
  const subgraph = createBenchmarkingSubgraph({ meta, olap, live, tokens: testTokens });
  served = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await served.close();
  await meta.close();
  await live.close();
  await olap.close();
});

function gql(
  key: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
  url = served.url,
): Promise<Reply> {
  return postAsGateway(authenticate, url, key, query, variables);
}

const CREATE = `mutation ($name: String!, $ids: [ID!]!) {
  createCompetitorSet(name: $name, accountIds: $ids) { id name accounts { id } createdAt }
}`;
const GET = `query ($id: ID!) { competitorSet(id: $id) { id name accounts { id } } }`;
const LIST = '{ competitorSets { id name accounts { id } } }';
const DELETE = 'mutation ($id: ID!) { deleteCompetitorSet(id: $id) }';
const RENAME = `mutation ($id: ID!, $name: String!) {
  renameCompetitorSet(id: $id, name: $name) { id name }
}`;
const members = (field: string) => `mutation ($id: ID!, $ids: [ID!]!) {
  ${field}(id: $id, accountIds: $ids) { id accounts { id } }
}`;
const SET_MEMBERS = members('setCompetitorSetMembers');
const ADD_MEMBERS = members('addCompetitorSetMembers');
const REMOVE_MEMBERS = members('removeCompetitorSetMembers');

function codes(reply: Reply): (string | undefined)[] {
  return (reply.errors ?? []).map((e) => e.extensions?.code);
}

async function createSet(key: string, name: string, ids: string[]): Promise<string> {
  const reply = await gql(key, CREATE, { name, ids });
  expect(reply.errors).toBeUndefined();
  return (reply.data?.['createCompetitorSet'] as { id: string }).id;
}

describe('benchmarking subgraph over HTTP', () => {
  test('creates, reads, lists and deletes a competitor set', async () => {
    const created = await gql(keyA, CREATE, { name: '  Rivals ', ids: ['a2', 'a1'] });
    expect(created.status).toBe(200);
    const set = created.data?.['createCompetitorSet'] as { id: string; createdAt: string };
    expect(set).toMatchObject({ name: 'Rivals', accounts: [{ id: 'a2' }, { id: 'a1' }] });
    expect(Date.parse(set.createdAt)).toBeGreaterThan(Date.now() - 60_000);

    expect((await gql(keyA, GET, { id: set.id })).data).toEqual({
      competitorSet: { id: set.id, name: 'Rivals', accounts: [{ id: 'a2' }, { id: 'a1' }] },
    });
    expect((await gql(keyA, LIST)).data).toEqual({
      competitorSets: [{ id: set.id, name: 'Rivals', accounts: [{ id: 'a2' }, { id: 'a1' }] }],
    });
    expect((await gql(keyA, DELETE, { id: set.id })).data).toEqual({ deleteCompetitorSet: true });
    expect((await gql(keyA, DELETE, { id: set.id })).data).toEqual({ deleteCompetitorSet: false });
    expect((await gql(keyA, GET, { id: set.id })).data).toEqual({ competitorSet: null });
  });

  test('refuses bad input with BAD_USER_INPUT and a clear message', async () => {
    const cases: [string, string[], RegExp][] = [
      ['   ', ['a1'], /name must not be empty/],
      ['x'.repeat(101), ['a1'], /at most 100 characters/],
      ['No accounts', [], /at least one account/],
      ['Strangers', ['a1', 'b1', 'ghost'], /not tracked by this organisation: "b1", "ghost"/],
    ];
    for (const [name, ids, message] of cases) {
      const reply = await gql(keyA, CREATE, { name, ids });
      expect(codes(reply)).toEqual(['BAD_USER_INPUT']);
      expect(reply.errors?.[0]?.message).toMatch(message);
      // A field error: answered 200, so the gateway passes its code on (subgraph-server.ts).
      expect(reply.status).toBe(200);
    }
    await createSet(keyA, 'Taken', ['a1']);
    const duplicate = await gql(keyA, CREATE, { name: 'Taken', ids: ['a2'] });
    expect(codes(duplicate)).toEqual(['BAD_USER_INPUT']);
    expect(duplicate.errors?.[0]?.message).toMatch(/"Taken" already exists/);
  });

  test('renames a set; a refused rename changes nothing', async () => {
    const id = await createSet(keyA, 'Before', ['a1']);
    await createSet(keyA, 'Other', ['a2']);
    const renamed = await gql(keyA, RENAME, { id, name: ' After ' });
    expect(renamed.data).toEqual({ renameCompetitorSet: { id, name: 'After' } });
    const refusals: [string, string, RegExp][] = [
      [id, 'Other', /"Other" already exists/],
      [id, '  ', /name must not be empty/],
      [id, 'y'.repeat(101), /at most 100 characters/],
      ['no-such-set', 'Fine', /no competitor set with that id/],
    ];
    for (const [setId, name, message] of refusals) {
      const reply = await gql(keyA, RENAME, { id: setId, name });
      expect(codes(reply)).toEqual(['BAD_USER_INPUT']);
      expect(reply.errors?.[0]?.message).toMatch(message);
    }
    expect((await gql(keyA, GET, { id })).data).toEqual({
      competitorSet: { id, name: 'After', accounts: [{ id: 'a1' }] },
    });
    // Another organisation can neither rename it nor learn that it exists.
    const stranger = await gql(keyB, RENAME, { id, name: 'Mine' });
    expect(stranger.errors?.[0]?.message).toMatch(/no competitor set with that id/);
    expect((await gql(keyA, GET, { id })).data).toMatchObject({ competitorSet: { name: 'After' } });
  });

  test('sets, adds and removes members within the limits; a refused change stores nothing', async () => {
    const id = await createSet(keyA, 'Members', ['a1']);
    const members = async () =>
      (
        (await gql(keyA, GET, { id })).data?.['competitorSet'] as { accounts: { id: string }[] }
      ).accounts.map((a) => a.id);
    const run = (mutation: string, ids: string[]) => gql(keyA, mutation, { id, ids });

    expect((await run(SET_MEMBERS, ['a2', 'a1', 'a2'])).errors).toBeUndefined();
    expect(await members()).toEqual(['a2', 'a1']);
    expect((await run(ADD_MEMBERS, ['a1', 'm0', 'm1'])).errors).toBeUndefined();
    expect(await members()).toEqual(['a2', 'a1', 'm0', 'm1']);
    expect((await run(REMOVE_MEMBERS, ['a1', 'ghost'])).errors).toBeUndefined();
    expect(await members()).toEqual(['a2', 'm0', 'm1']);

    const hundred = Array.from({ length: 100 }, (_, i) => `m${i}`);
    expect((await run(SET_MEMBERS, hundred)).errors).toBeUndefined();
    expect(await members()).toEqual(hundred);

    const refusals: [string, string[], RegExp][] = [
      [ADD_MEMBERS, ['m100'], /at most 100 accounts \(this change would make it 101\)/],
      [SET_MEMBERS, [...hundred, 'm100'], /at most 100 accounts/],
      [SET_MEMBERS, [], /at least one account/],
      [REMOVE_MEMBERS, hundred, /at least one account/],
      [SET_MEMBERS, ['a1', 'b1', 'ghost'], /not tracked by this organisation: "b1", "ghost"/],
      // Removing one and adding a stranger would fit; the stranger refuses the whole change.
      [SET_MEMBERS, [...hundred.slice(1), 'b1'], /not tracked by this organisation: "b1"/],
    ];
    for (const [mutation, ids, message] of refusals) {
      const reply = await run(mutation, ids);
      expect(codes(reply)).toEqual(['BAD_USER_INPUT']);
      expect(reply.errors?.[0]?.message).toMatch(message);
      expect(await members()).toEqual(hundred);
    }
    const stranger = await gql(keyB, SET_MEMBERS, { id, ids: ['b1'] });
    expect(stranger.errors?.[0]?.message).toMatch(/no competitor set with that id/);
    expect(await members()).toEqual(hundred);
    const tooMany = await gql(keyA, CREATE, { name: 'Too many', ids: [...hundred, 'm100'] });
    expect(tooMany.errors?.[0]?.message).toMatch(/at most 100 accounts/);
    const names = ((await gql(keyA, LIST)).data?.['competitorSets'] as { name: string }[]).map(
      (s) => s.name,
    );
    expect(names).not.toContain('Too many');
  });

  test('answers UNAUTHENTICATED (401) without a key or with a wrong one', async () => {
    for (const key of [undefined, '', 'loupe_not_a_real_key_000000']) {
      const reply = await gql(key, LIST);
      expect(reply.status).toBe(401);
      expect(codes(reply)).toEqual(['UNAUTHENTICATED']);
      expect(reply.data ?? null).toBeNull();
    }
  });

  test('organisation B sees, deletes and uses nothing of organisation A', async () => {
    const id = await createSet(keyA, 'Only A', ['a1']);
    const listB = await gql(keyB, LIST);
    expect(listB.data).toEqual({ competitorSets: [] });
    expect((await gql(keyB, GET, { id })).data).toEqual({ competitorSet: null });
    expect((await gql(keyB, DELETE, { id })).data).toEqual({ deleteCompetitorSet: false });
    expect(codes(await gql(keyB, CREATE, { name: 'Borrowed', ids: ['a1'] }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect((await gql(keyA, GET, { id })).data).toMatchObject({ competitorSet: { id } });
    // The same name is free in another organisation.
    await createSet(keyB, 'Only A', ['b1']);
  });

  test('masks internal errors, keeping their code', async () => {
    const broken: MetaStore = {
      ...meta,
      query: () => Promise.reject(new Error('connection to 10.0.0.7 refused: secret detail')),
    };
    const subgraph = createBenchmarkingSubgraph({
      meta: broken,
      olap,
      live,
      tokens: testTokens,
      logger: createLogger('silent'),
    });
    const other = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
    try {
      const reply = await gql(keyA, LIST, {}, other.url);
      expect(reply.errors).toEqual([
        {
          message: 'internal error',
          locations: expect.any(Array) as unknown,
          path: ['competitorSets'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ]);
      expect(JSON.stringify(reply)).not.toContain('secret');
    } finally {
      await other.close();
    }
  });

  test('serves its SDL to the gateway', async () => {
    const reply = await gql(keyA, '{ _service { sdl } }');
    expect((reply.data?.['_service'] as { sdl: string }).sdl).toContain('type CompetitorSet');
  });
});
