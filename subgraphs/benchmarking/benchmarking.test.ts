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
import { createBenchmarkingSubgraph } from './server.ts';
import { postAsGateway, testTokens, type Reply } from '../../test/support/graphql-http.ts';

let meta: MetaStore;
let authenticate: Authenticator;
let served: ServedGraphQL;
let keyA: string;
let keyB: string;

beforeAll(async () => {
  meta = await createPgliteMeta();
  authenticate = createApiKeyAuthenticator(meta);
  await migrate(meta);
  const orgA = await createOrganisation(meta, 'A');
  const orgB = await createOrganisation(meta, 'B');
  keyA = await createApiKey(meta, orgA, 'test');
  keyB = await createApiKey(meta, orgB, 'test');
  await upsertTrackedAccounts(meta, orgA, [
    { id: 'a1', platform: 'x' },
    { id: 'a2', platform: 'instagram' },
  ]);
  await upsertTrackedAccounts(meta, orgB, [{ id: 'b1', platform: 'tiktok' }]);
  const subgraph = createBenchmarkingSubgraph({
    meta,
    tokens: testTokens,
  });
  served = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await served.close();
  await meta.close();
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
