import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApiKeyAuthenticator } from '../../lib/auth/api-key.auth.ts';
import type { Authenticator } from '../../lib/auth/caller.ts';
import { serveGraphQL, type ServedGraphQL } from '../../lib/graphql/serve.ts';
import { createLogger } from '../../lib/logger.ts';
import { createApiKey, createOrganisation } from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { migrate } from '../../lib/meta/migrate.ts';
import { createPgliteMeta } from '../../lib/meta/pglite.meta.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import { createClickHouseSearch } from '../../lib/search/clickhouse.search.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import { createTextConsumer } from '../../ingest/pipeline/text.consumer.ts';
import { createVaderScorer } from '../../lib/sentiment/vader.sentiment.ts';
import { createPostsSubgraph } from './server.ts';
import { postAsGateway, testTokens, type Reply } from '../../test/support/graphql-http.ts';
import { eventsBatch } from '../../test/support/events-batch.ts';

const T0 = Date.UTC(2026, 4, 1, 0, 0);
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

let olap: Olap;
let meta: MetaStore;
let authenticate: Authenticator;
let served: ServedGraphQL;
let orgA: string;
let orgB: string;
let keyA: string;
let keyB: string;
/** OLAP statements run since the last reset: the round trips a request cost. */
let olapQueries = 0;

/** The row the OLAP sink writes for an event (ingest/pipeline/event-rows.ts), built here by hand. */
function eventRow(orgId: string, event: EventInput) {
  return {
    org_id: orgId,
    account_id: event.accountId,
    event_id: event.id,
    type: event.type,
    platform: event.platform,
    post_id: 'postId' in event ? (event.postId ?? '') : '',
    user_id: '',
    occurred_at: Date.parse(event.occurredAt),
    received_at: Date.parse(event.occurredAt) + 1000,
    metric_names: [],
    metric_modes: [],
    metric_values: [],
    payload: JSON.stringify(event),
  };
}

function postEvent(accountId: string, postId: string, publishedAt: number, content: string) {
  return {
    id: `ev-${postId}-${publishedAt}-${content.length}`,
    type: 'post',
    action: 'published',
    platform: 'instagram',
    accountId,
    postId,
    content,
    url: `https://example.com/${postId}`,
    mediaType: 'image',
    publishedAt: iso(publishedAt),
    occurredAt: iso(publishedAt),
  } satisfies EventInput;
}

function commentEvent(
  accountId: string,
  commentId: string,
  at: number,
  text: string,
  extra: { postId?: string; kind?: 'comment' | 'mention'; authorHandle?: string } = {},
) {
  return {
    id: `ev-${commentId}`,
    type: 'comment',
    kind: extra.kind ?? 'comment',
    platform: 'instagram',
    accountId,
    commentId,
    text,
    occurredAt: iso(at),
    ...(extra.postId !== undefined && { postId: extra.postId }),
    ...(extra.authorHandle !== undefined && { authorHandle: extra.authorHandle }),
  } satisfies EventInput;
}

/** What both the sink and the text pipeline would have done with these events. */
async function ingest(orgId: string, events: EventInput[]): Promise<void> {
  await olap.insert(
    'events',
    events.map((e) => eventRow(orgId, e)),
  );
  const text = createTextConsumer({
    olap,
    search: createClickHouseSearch(olap),
    sentiment: { scorer: createVaderScorer(), batchSize: 64 },
  });
  await text.handleBatch(eventsBatch(orgId, events, T0));
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

beforeAll(async () => {
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-posts-')) });
  await applyOlapSchema(olap);
  // Unmerged parts keep several versions of a row: the state readers must already answer right.
  await olap.command('SYSTEM STOP MERGES posts');
  await olap.command('SYSTEM STOP MERGES texts');
  meta = await createPgliteMeta();
  authenticate = createApiKeyAuthenticator(meta);
  await migrate(meta);
  orgA = await createOrganisation(meta, 'A');
  orgB = await createOrganisation(meta, 'B');
  keyA = await createApiKey(meta, orgA, 'test');
  keyB = await createApiKey(meta, orgB, 'test');

  // a1: 25 posts an hour apart; a2: 3 posts; 24 accounts with one post each for batching.
  const a1 = Array.from({ length: 25 }, (_, i) =>
    postEvent('a1', `a1-p${String(i).padStart(2, '0')}`, T0 + i * HOUR, `a1 post ${i}`),
  );
  await ingest(orgA, [
    ...a1,
    ...[0, 1, 2].map((i) => postEvent('a2', `a2-p${i}`, T0 + i * HOUR, `a2 post ${i}`)),
    ...Array.from({ length: 24 }, (_, i) =>
      postEvent(`bulk-${i}`, `bulk-${i}-p`, T0 + i * HOUR, `bulk post ${i}`),
    ),
    postEvent('a2', 'shared-id', T0, 'Organisation A owns this text'),
    commentEvent('a1', 'c1', T0 + 30 * HOUR, 'I love these sneakers', {
      postId: 'a1-p24',
      authorHandle: '@fan',
    }),
    commentEvent('a1', 'c2', T0 + 31 * HOUR, 'terrible sneakers, awful fit', { postId: 'a1-p24' }),
    commentEvent('a1', 'c3', T0 + 32 * HOUR, 'sneakers arrived', { postId: 'a1-p24' }),
    commentEvent('a1', 'm1', T0 + 33 * HOUR, 'saw the sneakers post', {
      postId: 'a1-p24',
      kind: 'mention',
    }),
    commentEvent('a1', 'm2', T0 + 34 * HOUR, 'sneakers everywhere', { kind: 'mention' }),
  ]);
  // An edit of a1-p05, in a later insert (another part): readers must see it before any merge.
  await ingest(orgA, [
    {
      ...postEvent('a1', 'a1-p05', T0 + 5 * HOUR, 'a1 post 5, edited'),
      id: 'ev-a1-p05-edit',
      action: 'updated',
      occurredAt: iso(T0 + 40 * HOUR),
    },
  ]);
  await ingest(orgB, [
    postEvent('a1', 'b-only', T0, 'Organisation B post on an account id A also uses'),
    postEvent('b1', 'shared-id', T0, 'Organisation B owns this one'),
    commentEvent('b1', 'bc1', T0 + HOUR, 'sneakers from B', { postId: 'shared-id' }),
  ]);

  const counting: Olap = {
    ...olap,
    query: <T>(sql: string, params?: Parameters<Olap['query']>[1]) => {
      olapQueries++;
      return olap.query<T>(sql, params);
    },
  };
  const subgraph = createPostsSubgraph({
    olap: counting,
    search: createClickHouseSearch(olap),
    tokens: testTokens,
  });
  served = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await served?.close();
  await meta?.close();
  await olap?.close();
});

const ACCOUNT_POSTS = /* GraphQL */ `
  query ($reps: [_Any!]!, $first: Int!, $after: String, $range: TimeRange) {
    _entities(representations: $reps) {
      ... on Account {
        id
        posts(first: $first, after: $after, range: $range) {
          totalCount
          endCursor
          nodes {
            id
            content
            url
            mediaType
            publishedAt
            account {
              id
            }
          }
        }
      }
    }
  }
`;

interface PostNode {
  id: string;
  content: string;
  url: string | null;
  mediaType: string | null;
  publishedAt: string;
  account: { id: string };
}
interface Connection {
  totalCount: number;
  endCursor: string | null;
  nodes: PostNode[];
}
type AccountsData = { _entities: ({ id: string; posts: Connection } | null)[] };

const accountRefs = (...ids: string[]) => ids.map((id) => ({ __typename: 'Account', id }));

describe('Account.posts', () => {
  test('pages through an account newest first with an opaque cursor', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    const pages: number[] = [];
    do {
      const reply: Reply<AccountsData> = await gql<AccountsData>(keyA, ACCOUNT_POSTS, {
        reps: accountRefs('a1'),
        first: 10,
        after,
      });
      expect(reply.errors).toBeUndefined();
      const connection = reply.data?._entities[0]?.posts;
      expect(connection?.totalCount).toBe(25);
      pages.push(connection?.nodes.length ?? 0);
      seen.push(...(connection?.nodes.map((n) => n.id) ?? []));
      after = connection?.endCursor ?? null;
    } while (after !== null);
    expect(pages).toEqual([10, 10, 5]);
    expect(seen).toEqual(
      Array.from({ length: 25 }, (_, i) => `a1-p${String(24 - i).padStart(2, '0')}`),
    );
  });

  test('answers every field from the latest version of a post, before any merge', async () => {
    const reply = await gql<AccountsData>(keyA, ACCOUNT_POSTS, {
      reps: accountRefs('a1'),
      first: 1,
      range: { from: iso(T0 + 5 * HOUR), to: iso(T0 + 6 * HOUR) },
    });
    expect(reply.data?._entities[0]?.posts).toEqual({
      totalCount: 1,
      endCursor: null,
      nodes: [
        {
          id: 'a1-p05',
          content: 'a1 post 5, edited',
          url: 'https://example.com/a1-p05',
          mediaType: 'image',
          publishedAt: iso(T0 + 5 * HOUR),
          account: { id: 'a1' },
        },
      ],
    });
  });

  test('limits to a half-open publish range and counts within it', async () => {
    const reply = await gql<AccountsData>(keyA, ACCOUNT_POSTS, {
      reps: accountRefs('a1', 'a2'),
      first: 2,
      range: { from: iso(T0 + HOUR), to: iso(T0 + 4 * HOUR) },
    });
    const [a1, a2] = reply.data?._entities ?? [];
    expect(a1?.posts.totalCount).toBe(3);
    expect(a1?.posts.nodes.map((n) => n.id)).toEqual(['a1-p03', 'a1-p02']);
    expect(a1?.posts.endCursor).not.toBeNull();
    expect(a2?.posts.totalCount).toBe(2);
    expect(a2?.posts.nodes.map((n) => n.id)).toEqual(['a2-p2', 'a2-p1']);
    expect(a2?.posts.endCursor).toBeNull();
  });

  test('loads 24 accounts, their posts, counts and comments in one query per field', async () => {
    const ids = Array.from({ length: 24 }, (_, i) => `bulk-${i}`);
    olapQueries = 0;
    const reply = await gql<{
      _entities: {
        id: string;
        posts: { totalCount: number; nodes: { id: string; comments: unknown[] }[] };
      }[];
    }>(
      keyA,
      `query ($reps: [_Any!]!) {
        _entities(representations: $reps) {
          ... on Account { id posts(first: 5) { totalCount nodes { id comments { id } } } }
        }
      }`,
      { reps: accountRefs(...ids) },
    );
    expect(reply.errors).toBeUndefined();
    expect(
      reply.data?._entities.map((a) => [a.id, a.posts.totalCount, a.posts.nodes[0]?.id]),
    ).toEqual(ids.map((id) => [id, 1, `${id}-p`]));
    // Pages, counts, comments: three statements for 24 accounts, not 72.
    expect(olapQueries).toBe(3);
  });

  test('refuses a bad first or cursor with BAD_USER_INPUT', async () => {
    for (const variables of [
      { first: 0 },
      { first: 101 },
      { first: 5, after: 'not-a-cursor' },
      { first: 5, after: Buffer.from('[1,2]').toString('base64url') },
      { first: 5, range: { from: iso(T0 + HOUR), to: iso(T0) } },
    ]) {
      const reply = await gql(keyA, ACCOUNT_POSTS, { reps: accountRefs('a1'), ...variables });
      expect(codes(reply), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
    }
  });
});

const POST = /* GraphQL */ `
  query ($id: ID!, $first: Int! = 20) {
    post(id: $id) {
      id
      content
      account {
        id
      }
      comments(first: $first) {
        id
        kind
        text
        authorHandle
        at
        sentiment
        post {
          id
        }
      }
    }
  }
`;

interface CommentNode {
  id: string;
  kind: string;
  text: string;
  authorHandle: string | null;
  at: string;
  sentiment: number;
  post: { id: string } | null;
}
type PostData = {
  post: { id: string; content: string; account: { id: string }; comments: CommentNode[] } | null;
};

describe('Post', () => {
  test('answers a post with its comments and mentions, newest first, with sentiment', async () => {
    const reply = await gql<PostData>(keyA, POST, { id: 'a1-p24' });
    expect(reply.errors).toBeUndefined();
    const post = reply.data?.post;
    expect(post?.content).toBe('a1 post 24');
    expect(post?.account).toEqual({ id: 'a1' });
    expect(post?.comments.map((c) => [c.id, c.kind, c.at])).toEqual([
      ['m1', 'MENTION', iso(T0 + 33 * HOUR)],
      ['c3', 'COMMENT', iso(T0 + 32 * HOUR)],
      ['c2', 'COMMENT', iso(T0 + 31 * HOUR)],
      ['c1', 'COMMENT', iso(T0 + 30 * HOUR)],
    ]);
    const byId = new Map(post?.comments.map((c) => [c.id, c]));
    expect(byId.get('c1')).toMatchObject({ authorHandle: '@fan', post: { id: 'a1-p24' } });
    expect(byId.get('c2')?.authorHandle).toBeNull();
    expect(byId.get('c1')?.sentiment).toBeGreaterThan(0);
    expect(byId.get('c2')?.sentiment).toBeLessThan(0);
    expect(byId.get('c3')?.sentiment).toBe(0);

    const two = await gql<PostData>(keyA, POST, { id: 'a1-p24', first: 2 });
    expect(two.data?.post?.comments.map((c) => c.id)).toEqual(['m1', 'c3']);
  });

  test('resolves Post entities for the gateway, null for ids the organisation lacks', async () => {
    const reply = await gql<{ _entities: ({ id: string; content: string } | null)[] }>(
      keyA,
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Post { id content } } }`,
      {
        reps: ['a2-p1', 'nope', 'b-only', 'shared-id'].map((id) => ({ __typename: 'Post', id })),
      },
    );
    expect(reply.errors).toBeUndefined();
    expect(reply.data?._entities).toEqual([
      { id: 'a2-p1', content: 'a2 post 1' },
      null,
      null,
      { id: 'shared-id', content: 'Organisation A owns this text' },
    ]);
  });

  test('a second organisation sees only its own posts and comments', async () => {
    expect((await gql<PostData>(keyB, POST, { id: 'a1-p24' })).data).toEqual({ post: null });
    const shared = await gql<PostData>(keyB, POST, { id: 'shared-id' });
    expect(shared.data?.post).toMatchObject({
      content: 'Organisation B owns this one',
      account: { id: 'b1' },
      comments: [{ id: 'bc1' }],
    });
    const posts = await gql<AccountsData>(keyB, ACCOUNT_POSTS, {
      reps: accountRefs('a1'),
      first: 50,
    });
    expect(posts.data?._entities[0]?.posts).toMatchObject({
      totalCount: 1,
      nodes: [{ id: 'b-only' }],
    });
  });
});

const SEARCH = /* GraphQL */ `
  query (
    $text: String!
    $first: Int! = 20
    $kinds: [TextKind!]
    $accountIds: [ID!]
    $range: TimeRange
  ) {
    search(text: $text, first: $first, kinds: $kinds, accountIds: $accountIds, range: $range) {
      total
      hits {
        kind
        id
        text
        sentiment
        at
        account {
          id
        }
        post {
          id
          content
        }
      }
    }
  }
`;
interface SearchData {
  search: {
    total: number;
    hits: {
      kind: string;
      id: string;
      text: string;
      sentiment: number;
      at: string;
      account: { id: string };
      post: { id: string; content: string } | null;
    }[];
  };
}

describe('Query.search', () => {
  test('finds posts, comments and mentions containing every word, newest first', async () => {
    const reply = await gql<SearchData>(keyA, SEARCH, { text: 'SNEAKERS', first: 3 });
    expect(reply.errors).toBeUndefined();
    expect(reply.data?.search.total).toBe(5);
    expect(reply.data?.search.hits.map((h) => [h.kind, h.id, h.post?.id ?? null])).toEqual([
      ['MENTION', 'm2', null],
      ['MENTION', 'm1', 'a1-p24'],
      ['COMMENT', 'c3', 'a1-p24'],
    ]);
    expect(reply.data?.search.hits[0]).toMatchObject({
      text: 'sneakers everywhere',
      at: iso(T0 + 34 * HOUR),
      account: { id: 'a1' },
    });
    const both = await gql<SearchData>(keyA, SEARCH, { text: 'love sneakers' });
    expect(both.data?.search.hits.map((h) => h.id)).toEqual(['c1']);
  });

  test('filters by kind, account and range, and resolves the post of a post hit', async () => {
    const posts = await gql<SearchData>(keyA, SEARCH, { text: 'post 24', kinds: ['POST'] });
    expect(posts.data?.search.hits).toMatchObject([
      { kind: 'POST', id: 'a1-p24', post: { id: 'a1-p24', content: 'a1 post 24' } },
    ]);
    const comments = await gql<SearchData>(keyA, SEARCH, {
      text: 'sneakers',
      kinds: ['COMMENT'],
      range: { from: iso(T0 + 31 * HOUR), to: iso(T0 + 32 * HOUR) },
    });
    expect(comments.data?.search.hits.map((h) => h.id)).toEqual(['c2']);
    const other = await gql<SearchData>(keyA, SEARCH, { text: 'sneakers', accountIds: ['a2'] });
    expect(other.data?.search).toEqual({ total: 0, hits: [] });
  });

  test('keeps organisations apart', async () => {
    const reply = await gql<SearchData>(keyB, SEARCH, { text: 'sneakers' });
    expect(reply.data?.search.hits.map((h) => [h.id, h.post?.content])).toEqual([
      ['bc1', 'Organisation B owns this one'],
    ]);
  });

  test('refuses empty text, wordless text and a bad first with BAD_USER_INPUT', async () => {
    for (const variables of [
      { text: '' },
      { text: '   ' },
      { text: '?!' },
      { text: 'sneakers', first: 0 },
      { text: 'sneakers', first: 101 },
      { text: 'x'.repeat(1001) },
    ]) {
      const reply = await gql(keyA, SEARCH, variables);
      expect(codes(reply), JSON.stringify(variables).slice(0, 60)).toEqual(['BAD_USER_INPUT']);
      // A field error: answered 200, so the gateway passes its code on (subgraph-server.ts).
      expect(reply.status).toBe(200);
    }
  });

  test('answers UNAVAILABLE when the server has no search index', async () => {
    const subgraph = createPostsSubgraph({ olap, tokens: testTokens });
    const other = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
    try {
      expect(codes(await gql(keyA, SEARCH, { text: 'sneakers' }, other.url))).toEqual([
        'UNAVAILABLE',
      ]);
    } finally {
      await other.close();
    }
  });

  test('an index that fails answers search null with UNAVAILABLE, beside the fields that work (200)', async () => {
    const failing = {
      index: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.9:9200')),
      search: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.9:9200')),
      close: async () => undefined,
    };
    const subgraph = createPostsSubgraph({
      olap,
      search: failing,
      tokens: testTokens,
      logger: createLogger('silent'),
    });
    const other = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
    try {
      const reply = await gql<{ search: unknown; post: { id: string } | null }>(
        keyA,
        `{ search(text: "sneakers") { total } post(id: "a1-p24") { id } }`,
        {},
        other.url,
      );
      expect(reply.status).toBe(200);
      expect(reply.errors).toEqual([
        expect.objectContaining({
          message: 'search is unavailable right now; retry later',
          path: ['search'],
          extensions: { code: 'UNAVAILABLE' },
        }),
      ]);
      expect(JSON.stringify(reply)).not.toContain('10.0.0.9');
      expect(reply.data).toEqual({ search: null, post: { id: 'a1-p24' } });
    } finally {
      await other.close();
    }
  });
});

describe('boundary', () => {
  test('answers UNAUTHENTICATED (401) without a key or with a wrong one', async () => {
    for (const key of [undefined, '', 'loupe_not_a_real_key_000000']) {
      const reply = await gql(key, POST, { id: 'a1-p24' });
      expect(reply.status).toBe(401);
      expect(codes(reply)).toEqual(['UNAUTHENTICATED']);
      expect(reply.data ?? null).toBeNull();
    }
  });

  test('masks internal errors', async () => {
    const broken: Olap = {
      ...olap,
      query: () => Promise.reject(new Error('chdb: /var/lib/secret/path is corrupt')),
    };
    const subgraph = createPostsSubgraph({
      olap: broken,
      tokens: testTokens,
      logger: createLogger('silent'),
    });
    const other = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
    try {
      const reply = await gql(keyA, POST, { id: 'a1-p24' }, other.url);
      expect(codes(reply)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(reply.errors?.[0]?.message).toBe('internal error');
      expect(JSON.stringify(reply)).not.toContain('secret');
    } finally {
      await other.close();
    }
  });

  test('serves its SDL to the gateway', async () => {
    const reply = await gql<{ _service: { sdl: string } }>(keyA, '{ _service { sdl } }');
    expect(reply.data?._service.sdl).toContain('type PostConnection');
  });
});
